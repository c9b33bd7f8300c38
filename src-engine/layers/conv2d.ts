import { convGeometry, type ConvGeometry } from '../shapes.js';
import type { Conv2dSpec } from '../spec.js';
import { ensureCapacity, type FloatArray, type Shape3 } from '../tensor.js';
import { reluBackward, reluForward } from '../kernels/activations.js';
import type { ConvShape } from '../kernels/types.js';
import type { Layer, LayerContext, Param } from './layer.js';

/** 2-D convolution + optional ReLU, seed semantics plus padding.
 *  x: (N, H, W, C)  weight: (KH, KW, C, OC)  bias: (OC)  out: (N, OH, OW, OC) */
export class Conv2d implements Layer {
  readonly outShape: Shape3;
  readonly params: Param[];
  private readonly g: ConvGeometry;
  private readonly relu: boolean;
  private input: FloatArray | null = null;
  private n = 0;
  private out: FloatArray | null = null;
  private dz: FloatArray | null = null;
  private dx: FloatArray | null = null;

  constructor(readonly label: string, readonly spec: Conv2dSpec, readonly inShape: Shape3,
    readonly weight: Param, readonly bias: Param, private readonly ctx: LayerContext) {
    this.g = convGeometry(label, spec, inShape);
    this.outShape = [this.g.oh, this.g.ow, spec.filters];
    this.relu = (spec.activation ?? 'relu') === 'relu';
    this.params = [weight, bias];
  }

  private shape(n: number): ConvShape {
    const [h, w, c] = this.inShape;
    const g = this.g;
    return { n, h, w, c, oc: this.spec.filters, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, padTop: g.padTop, padLeft: g.padLeft, oh: g.oh, ow: g.ow };
  }

  forward(x: FloatArray, n: number): FloatArray {
    const len = n * this.outShape[0] * this.outShape[1] * this.outShape[2];
    this.out = ensureCapacity(this.out, len, this.ctx.dtype);
    const fused = this.relu && this.ctx.kernels.fusesRelu === true;
    this.ctx.kernels.conv2dForward(this.shape(n), x, this.weight.value, this.bias.value, this.out, fused);
    if (this.relu && !fused) reluForward(this.out, this.out, len);
    this.input = x;
    this.n = n;
    return this.out;
  }

  backward(dout: FloatArray, n: number, needInputGrad: boolean): FloatArray | null {
    if (!this.input || !this.out || this.n !== n) throw new Error(`${this.label}: backward before forward`);
    // out holds the ReLU output whichever way forward ran, so either backward is right
    const fused = this.relu && this.ctx.kernels.fusesRelu === true;
    let dz = dout;
    if (this.relu && !fused) {
      this.dz = ensureCapacity(this.dz, dout.length, this.ctx.dtype);
      reluBackward(this.out, dout, this.dz, dout.length);
      dz = this.dz;
    }
    let dx: FloatArray | null = null;
    if (needInputGrad) dx = this.dx = ensureCapacity(this.dx, n * this.inShape[0] * this.inShape[1] * this.inShape[2], this.ctx.dtype);
    this.ctx.kernels.conv2dBackward(this.shape(n), this.input, this.weight.value, dz, this.weight.grad, this.bias.grad, dx, fused ? this.out : null);
    return dx;
  }
}
