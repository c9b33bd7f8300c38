/**
 * Fully connected layer, as the seed writes it: z = a·W + b; dW = aᵀ·dz, db = Σ dz, da = dz·Wᵀ.
 */
import type { FloatArray } from '../tensor.js';

// a is (N,IN), weight is (IN,OUT), bias is (OUT), z is (N,OUT)
export function denseForward(n: number, inDim: number, outDim: number, a: FloatArray, weight: FloatArray, bias: FloatArray, z: FloatArray): void {
  for (let b = 0; b < n; b++) {
    const zo = b * outDim;
    for (let o = 0; o < outDim; o++) z[zo + o] = bias[o]!;
    const ao = b * inDim;
    for (let i = 0; i < inDim; i++) {
      const av = a[ao + i]!;
      if (av === 0) continue;
      const wo = i * outDim;
      for (let o = 0; o < outDim; o++) z[zo + o] += av * weight[wo + o]!;
    }
  }
}

// dz is (N,OUT): dweight (IN,OUT) and dbias (OUT) accumulate; da (N,IN) is overwritten
export function denseBackward(n: number, inDim: number, outDim: number, a: FloatArray, weight: FloatArray, dz: FloatArray,
  dweight: FloatArray, dbias: FloatArray, da: FloatArray | null): void {
  for (let b = 0; b < n; b++) {
    const zo = b * outDim;
    const ao = b * inDim;
    for (let o = 0; o < outDim; o++) dbias[o] += dz[zo + o]!;
    for (let i = 0; i < inDim; i++) {
      const av = a[ao + i]!;
      const wo = i * outDim;
      let acc = 0;
      for (let o = 0; o < outDim; o++) {
        const g = dz[zo + o]!;
        dweight[wo + o] += av * g;
        acc += weight[wo + o]! * g;
      }
      if (da) da[ao + i] = acc;
    }
  }
}
