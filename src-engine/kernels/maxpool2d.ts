/**
 * Max pooling: Y[i,j,c] = max over the window at (i·sh, j·sw). Leftover rows/columns are dropped.
 * The gradient goes to the first maximum in row-major order (strict >), and windows that overlap
 * accumulate into the same input cell.
 */
import type { FloatArray } from '../tensor.js';
import type { PoolShape } from './types.js';

// x is (N,H,W,C), out and argmax are (N,OH,OW,C); argmax holds indices into x
export function maxpool2dForward(s: PoolShape, x: FloatArray, out: FloatArray, argmax: Int32Array): void {
  const { n, h, w, c, ph, pw, sh, sw, oh, ow } = s;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const o = ((img * oh + oy) * ow + ox) * c;
        for (let ci = 0; ci < c; ci++) {
          let best = -Infinity;
          let bestAt = -1;
          for (let u = 0; u < ph; u++) {
            const row = (img * h + oy * sh + u) * w;
            for (let v = 0; v < pw; v++) {
              const xi = (row + ox * sw + v) * c + ci;
              const xv = x[xi]!;
              if (xv > best || bestAt < 0) { best = xv; bestAt = xi; }
            }
          }
          out[o + ci] = best;
          argmax[o + ci] = bestAt;
        }
      }
    }
  }
}

// dout is (N,OH,OW,C) → dx (N,H,W,C), overwritten
export function maxpool2dBackward(s: PoolShape, dout: FloatArray, argmax: Int32Array, dx: FloatArray): void {
  const { n, h, w, c, oh, ow } = s;
  dx.fill(0, 0, n * h * w * c);
  const m = n * oh * ow * c;
  for (let j = 0; j < m; j++) dx[argmax[j]!] += dout[j]!;
}
