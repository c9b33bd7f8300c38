/**
 * Average pooling: Y[i,j,c] = mean of X over the window at (i·sh − padTop, j·sw − padLeft), counting
 * only the cells inside X (TensorFlow's 'same' rule; with 'valid' every window is whole and the
 * leftover rows/columns are dropped). Global average pooling is the window (H, W).
 */
import type { FloatArray } from '../tensor.js';
import type { AvgPoolShape } from './types.js';

// x is (N,H,W,C), out is (N,OH,OW,C)
export function avgpool2dForward(s: AvgPoolShape, x: FloatArray, out: FloatArray): void {
  const { n, h, w, c, ph, pw, sh, sw, padTop, padLeft, oh, ow } = s;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = Math.max(0, oy * sh - padTop);
      const y1 = Math.min(h, oy * sh - padTop + ph);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = Math.max(0, ox * sw - padLeft);
        const x1 = Math.min(w, ox * sw - padLeft + pw);
        const inv = 1 / ((y1 - y0) * (x1 - x0));
        const o = ((img * oh + oy) * ow + ox) * c;
        for (let ci = 0; ci < c; ci++) {
          let sum = 0;
          for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) sum += x[((img * h + y) * w + xx) * c + ci]!;
          out[o + ci] = sum * inv;
        }
      }
    }
  }
}

// dout is (N,OH,OW,C) → dx (N,H,W,C), overwritten; overlapping windows accumulate
export function avgpool2dBackward(s: AvgPoolShape, dout: FloatArray, dx: FloatArray): void {
  const { n, h, w, c, ph, pw, sh, sw, padTop, padLeft, oh, ow } = s;
  dx.fill(0, 0, n * h * w * c);
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = Math.max(0, oy * sh - padTop);
      const y1 = Math.min(h, oy * sh - padTop + ph);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = Math.max(0, ox * sw - padLeft);
        const x1 = Math.min(w, ox * sw - padLeft + pw);
        const inv = 1 / ((y1 - y0) * (x1 - x0));
        const o = ((img * oh + oy) * ow + ox) * c;
        for (let ci = 0; ci < c; ci++) {
          const g = dout[o + ci]! * inv;
          for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) dx[((img * h + y) * w + xx) * c + ci] += g;
        }
      }
    }
  }
}
