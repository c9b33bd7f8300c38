import { poolGeometry, type PoolGeometry } from '../shapes.js';
import type { MaxPool2dSpec } from '../spec.js';
import { ensureCapacity, type FloatArray, type Shape3 } from '../tensor.js';
import type { PoolShape } from '../kernels/types.js';
import type { Layer, LayerContext, Param } from './layer.js';

/** Max pooling. x: (N, H, W, C) → (N, OH, OW, C); caches the argmax for backward. */
export class MaxPool2d implements Layer {
  readonly outShape: Shape3;
  readonly params: Param[] = [];
  private readonly g: PoolGeometry;
  private out: FloatArray | null = null;
  private argmax: Int32Array = new Int32Array(0);
  private dx: FloatArray | null = null;
  private n = -1;

  constructor(readonly label: string, spec: MaxPool2dSpec, readonly inShape: Shape3, private readonly ctx: LayerContext) {
    this.g = poolGeometry(label, spec, inShape);
    this.outShape = [this.g.oh, this.g.ow, inShape[2]];
  }

  private shape(n: number): PoolShape {
    const [h, w, c] = this.inShape;
    const g = this.g;
    return { n, h, w, c, ph: g.ph, pw: g.pw, sh: g.sh, sw: g.sw, oh: g.oh, ow: g.ow };
  }

  forward(x: FloatArray, n: number): FloatArray {
    const len = n * this.outShape[0] * this.outShape[1] * this.outShape[2];
    this.out = ensureCapacity(this.out, len, this.ctx.dtype);
    if (this.argmax.length < len) this.argmax = new Int32Array(len);
    this.ctx.kernels.maxpool2dForward(this.shape(n), x, this.out, this.argmax);
    this.n = n;
    return this.out;
  }

  backward(dout: FloatArray, n: number, needInputGrad: boolean): FloatArray | null {
    if (this.n !== n) throw new Error(`${this.label}: backward before forward`);
    if (!needInputGrad) return null;
    this.dx = ensureCapacity(this.dx, n * this.inShape[0] * this.inShape[1] * this.inShape[2], this.ctx.dtype);
    this.ctx.kernels.maxpool2dBackward(this.shape(n), dout, this.argmax, this.dx);
    return this.dx;
  }
}
