/**
 * 2-D convolution (cross-correlation), the seed's formula with padding and batches:
 *   Z[n,i,j,k] = b[k] + Σ_c Σ_u Σ_v X[n, i·sh + u − padTop, j·sw + v − padLeft, c] · K[u,v,c,k]
 * Taps that fall in the padding read zero. The naive direct loops, kept forever as the oracle.
 */
import type { FloatArray } from '../tensor.js';
import type { ConvShape } from './types.js';

// x is (N,H,W,C), weight is (KH,KW,C,OC), bias is (OC), out is (N,OH,OW,OC)
export function conv2dForward(s: ConvShape, x: FloatArray, weight: FloatArray, bias: FloatArray, out: FloatArray): void {
  const { n, h, w, c, oc, kh, kw, sh, sw, padTop, padLeft, oh, ow } = s;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const o = ((img * oh + oy) * ow + ox) * oc;
        for (let k = 0; k < oc; k++) out[o + k] = bias[k]!;
        for (let u = 0; u < kh; u++) {
          const iy = oy * sh + u - padTop;
          if (iy < 0 || iy >= h) continue;
          for (let v = 0; v < kw; v++) {
            const ix = ox * sw + v - padLeft;
            if (ix < 0 || ix >= w) continue;
            const xi = ((img * h + iy) * w + ix) * c;
            const wi = (u * kw + v) * c * oc;
            for (let ci = 0; ci < c; ci++) {
              const xv = x[xi + ci]!;
              if (xv === 0) continue; // after a ReLU about half the inputs are zero
              const wr = wi + ci * oc;
              for (let k = 0; k < oc; k++) out[o + k] += xv * weight[wr + k]!;
            }
          }
        }
      }
    }
  }
}

// dout is (N,OH,OW,OC): dK = Σ patch·dZ, db = Σ dZ (accumulated); dX = Σ_k K_k * dZ_k (overwritten)
export function conv2dBackward(s: ConvShape, x: FloatArray, weight: FloatArray, dout: FloatArray,
  dweight: FloatArray, dbias: FloatArray, dx: FloatArray | null): void {
  const { n, h, w, c, oc, kh, kw, sh, sw, padTop, padLeft, oh, ow } = s;
  if (dx) dx.fill(0, 0, n * h * w * c);
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const o = ((img * oh + oy) * ow + ox) * oc;
        for (let k = 0; k < oc; k++) dbias[k] += dout[o + k]!;
        for (let u = 0; u < kh; u++) {
          const iy = oy * sh + u - padTop;
          if (iy < 0 || iy >= h) continue;
          for (let v = 0; v < kw; v++) {
            const ix = ox * sw + v - padLeft;
            if (ix < 0 || ix >= w) continue;
            const xi = ((img * h + iy) * w + ix) * c;
            const wi = (u * kw + v) * c * oc;
            for (let ci = 0; ci < c; ci++) {
              const xv = x[xi + ci]!;
              const wr = wi + ci * oc;
              let acc = 0;
              for (let k = 0; k < oc; k++) {
                const g = dout[o + k]!;
                dweight[wr + k] += xv * g;
                acc += weight[wr + k]! * g;
              }
              if (dx) dx[xi + ci] += acc;
            }
          }
        }
      }
    }
  }
}
