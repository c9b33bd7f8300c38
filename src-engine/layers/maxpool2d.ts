/** maxpool2d: max pooling, leftover rows/columns dropped; the gradient goes to the first maximum. */
import type { PoolShape } from '../kernels/types.js';
import type { MaxPool2dSpec } from '../spec.js';
import { ensureCapacity, type FloatArray, type Shape3 } from '../tensor.js';
import { checkPair, dims, SpecError } from './checks.js';
import type { Layer, LayerContext, LayerDefinition, Param } from './layer.js';
import { maxpool2dInspector } from './maxpool2d-inspect.js';

export interface PoolGeometry { ph: number; pw: number; sh: number; sw: number; oh: number; ow: number }

export function poolGeometry(label: string, spec: { poolSize: unknown; stride?: unknown }, input: readonly [number, number, number]): PoolGeometry {
  const [ph, pw] = checkPair(label, 'poolSize', spec.poolSize);
  const [sh, sw] = checkPair(label, 'stride', spec.stride ?? spec.poolSize);
  const [H, W] = input;
  if (ph > H || pw > W) throw new SpecError(`${label}: pool ${ph}×${pw} does not fit input ${dims(input)}`);
  return { ph, pw, sh, sw, oh: Math.floor((H - ph) / sh) + 1, ow: Math.floor((W - pw) / sw) + 1 };
}

/** x: (N, H, W, C) → (N, OH, OW, C); caches the argmax for backward. */
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
    const { shape, pooled, argmax } = this.outputsFor(n);
    this.ctx.kernels.maxpool2dForward(shape, x, pooled, argmax);
    return pooled;
  }

  /** Its output buffers for a forward over n images, sized and counted as this layer's forward: its
   *  own, or one the layer before it computes (a fused conv or batch norm + pool). */
  outputsFor(n: number): { shape: PoolShape; pooled: FloatArray; argmax: Int32Array } {
    const len = n * this.outShape[0] * this.outShape[1] * this.outShape[2];
    this.out = ensureCapacity(this.out, len, this.ctx.dtype);
    if (this.argmax.length < len) this.argmax = new Int32Array(len);
    this.n = n;
    return { shape: this.shape(n), pooled: this.out, argmax: this.argmax };
  }

  /** What a fused backward through this pool needs of its last forward (over n images). */
  forwardOutputs(n: number): { shape: PoolShape; pooled: FloatArray; argmax: Int32Array } {
    if (this.n !== n || !this.out) throw new Error(`${this.label}: backward before forward`);
    return { shape: this.shape(n), pooled: this.out, argmax: this.argmax };
  }

  backward(dout: FloatArray, n: number, needInputGrad: boolean): FloatArray | null {
    if (this.n !== n) throw new Error(`${this.label}: backward before forward`);
    if (!needInputGrad) return null;
    this.dx = ensureCapacity(this.dx, n * this.inShape[0] * this.inShape[1] * this.inShape[2], this.ctx.dtype);
    this.ctx.kernels.maxpool2dBackward(this.shape(n), dout, this.argmax, this.dx);
    return this.dx;
  }
}

export const maxpool2dLayer: LayerDefinition<MaxPool2dSpec> = {
  type: 'maxpool2d',

  infer(spec, { label, inputShape }) {
    const g = poolGeometry(label, spec, inputShape);
    return { outputShape: [g.oh, g.ow, inputShape[2]], params: 0, macs: 0 };
  },

  build(spec, { label, inputShape }, _params, ctx) {
    return new MaxPool2d(label, spec, inputShape, ctx);
  },

  describe(spec) {
    return `maxpool ${Array.isArray(spec.poolSize) ? spec.poolSize.join('×') : spec.poolSize}`;
  },
  inSummary: true,
  inspect: maxpool2dInspector,

  // floor mode (ceil_mode 0) drops the leftover rows/columns, as the engine does
  onnxInput: 'image',
  onnx(spec, { label, inputShape }, { input, name }) {
    const g = poolGeometry(label, spec, inputShape);
    const output = name('maxpool');
    return {
      nodes: [{ opType: 'MaxPool', inputs: [input], outputs: [output], attributes: { kernel_shape: [g.ph, g.pw], strides: [g.sh, g.sw], pads: [0, 0, 0, 0], ceil_mode: 0 } }],
      initializers: [],
      output,
    };
  },
};
