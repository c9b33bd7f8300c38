import { reluBackward, reluForward } from '../kernels/activations.js';
import { ensureCapacity, type FloatArray, type Shape3 } from '../tensor.js';
import type { Layer, LayerContext, Param } from './layer.js';

/** Fully connected. a: (N, IN)  weight: (IN, OUT)  bias: (OUT)  z: (N, OUT).
 *  'softmax' outputs logits here: the model fuses softmax with the cross-entropy. */
export class Dense implements Layer {
  readonly outShape: Shape3;
  readonly params: Param[];
  private readonly inDim: number;
  private input: FloatArray | null = null;
  private n = -1;
  private out: FloatArray | null = null;
  private dz: FloatArray | null = null;
  private dx: FloatArray | null = null;

  constructor(readonly label: string, readonly units: number, readonly activation: 'relu' | 'linear' | 'softmax',
    readonly inShape: Shape3, readonly weight: Param, readonly bias: Param, private readonly ctx: LayerContext) {
    this.inDim = inShape[2];
    this.outShape = [1, 1, units];
    this.params = [weight, bias];
  }

  forward(x: FloatArray, n: number): FloatArray {
    const len = n * this.units;
    this.out = ensureCapacity(this.out, len, this.ctx.dtype);
    const fused = this.activation === 'relu' && this.ctx.kernels.fusesRelu === true;
    this.ctx.kernels.denseForward(n, this.inDim, this.units, x, this.weight.value, this.bias.value, this.out, fused);
    if (this.activation === 'relu' && !fused) reluForward(this.out, this.out, len);
    this.input = x;
    this.n = n;
    return this.out;
  }

  backward(dout: FloatArray, n: number, needInputGrad: boolean): FloatArray | null {
    if (!this.input || !this.out || this.n !== n) throw new Error(`${this.label}: backward before forward`);
    const fused = this.activation === 'relu' && this.ctx.kernels.fusesRelu === true;
    let dz = dout;
    if (this.activation === 'relu' && !fused) {
      this.dz = ensureCapacity(this.dz, dout.length, this.ctx.dtype);
      reluBackward(this.out, dout, this.dz, dout.length);
      dz = this.dz;
    }
    let dx: FloatArray | null = null;
    if (needInputGrad) dx = this.dx = ensureCapacity(this.dx, n * this.inDim, this.ctx.dtype);
    this.ctx.kernels.denseBackward(n, this.inDim, this.units, this.input, this.weight.value, dz, this.weight.grad, this.bias.grad, dx, fused ? this.out : null);
    return dx;
  }
}
