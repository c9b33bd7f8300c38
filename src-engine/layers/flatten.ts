import type { FloatArray, Shape3 } from '../tensor.js';
import type { Layer, Param } from './layer.js';

/** (N, H, W, C) → (N, H·W·C). NHWC is already channel-fastest, so both directions are free. */
export class Flatten implements Layer {
  readonly outShape: Shape3;
  readonly params: Param[] = [];
  constructor(readonly label: string, readonly inShape: Shape3) {
    this.outShape = [1, 1, inShape[0] * inShape[1] * inShape[2]];
  }
  forward(x: FloatArray): FloatArray {
    return x;
  }
  backward(dout: FloatArray, _n: number, needInputGrad: boolean): FloatArray | null {
    return needInputGrad ? dout : null;
  }
}
