/** dropout: inverted dropout, seeded from the model's dropout stream; identity in predict and in ONNX. */
import type { DropoutSpec } from '../spec.js';
import { ensureCapacity, type FloatArray, type Shape3 } from '../tensor.js';
import { checkPresent, SpecError } from './checks.js';
import type { Layer, LayerContext, LayerDefinition, Param } from './layer.js';
import { dropoutInspector } from './dropout-inspect.js';

/** In training each value is zeroed with probability `rate` and the survivors are scaled by
 *  1/(1 − rate), so predict needs no change and passes x through. */
export class Dropout implements Layer {
  readonly outShape: Shape3;
  readonly params: Param[] = [];
  private mask: FloatArray | null = null;
  private out: FloatArray | null = null;
  private dx: FloatArray | null = null;
  private draws: Uint32Array | null = null;
  private active = false;

  constructor(readonly label: string, readonly rate: number, readonly inShape: Shape3, private readonly ctx: LayerContext) {
    this.outShape = inShape;
  }

  forward(x: FloatArray, _n: number, training: boolean): FloatArray {
    this.active = training && this.rate > 0;
    if (!this.active) return x;
    const len = x.length;
    const keep = 1 - this.rate;
    const scale = 1 / keep;
    const mask = (this.mask = ensureCapacity(this.mask, len, this.ctx.dtype));
    const out = (this.out = ensureCapacity(this.out, len, this.ctx.dtype));
    if (!this.draws || this.draws.length < len) this.draws = new Uint32Array(len);
    const draws = this.draws;
    this.ctx.dropoutRng.fillU32(draws, len);
    // a value survives when its uniform draw u / 2³² < keep, i.e. u < keep·2³² (exact: a power of two)
    const below = keep * 4294967296;
    for (let i = 0; i < len; i++) {
      const m = scale * +(draws[i]! < below); // branch-free: a 25 % coin is a branch mispredicted often
      mask[i] = m;
      out[i] = x[i]! * m;
    }
    return out;
  }

  backward(dout: FloatArray, _n: number, needInputGrad: boolean): FloatArray | null {
    if (!needInputGrad) return null;
    if (!this.active) return dout;
    const dx = (this.dx = ensureCapacity(this.dx, dout.length, this.ctx.dtype));
    const mask = this.mask!;
    for (let i = 0; i < dout.length; i++) dx[i] = dout[i]! * mask[i]!;
    return dx;
  }
}

export const dropoutLayer: LayerDefinition<DropoutSpec> = {
  type: 'dropout',
  infer(spec, { label, inputShape }) {
    const r = spec.rate;
    checkPresent(label, 'rate', r);
    if (typeof r !== 'number' || !(r >= 0 && r < 1)) throw new SpecError(`${label}: rate must be in [0, 1), got ${JSON.stringify(r)}`, null, 'rate');
    return { outputShape: inputShape, params: 0, macs: 0 };
  },
  random: true,
  build(spec, { label, inputShape }, _params, ctx) {
    return new Dropout(label, spec.rate, inputShape, ctx);
  },
  describe: (spec) => `dropout ${spec.rate}`,
  inSummary: true,
  inspect: dropoutInspector,
  onnxInput: 'any',
  onnx: (_spec, _site, { input }) => ({ nodes: [], initializers: [], output: input }),
};
