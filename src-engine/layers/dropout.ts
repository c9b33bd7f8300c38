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
    this.mask = ensureCapacity(this.mask, len, this.ctx.dtype);
    this.out = ensureCapacity(this.out, len, this.ctx.dtype);
    const rng = this.ctx.dropoutRng;
    for (let i = 0; i < len; i++) {
      const m = rng.next() < keep ? scale : 0;
      this.mask[i] = m;
      this.out[i] = x[i]! * m;
    }
    return this.out;
  }

  backward(dout: FloatArray, _n: number, needInputGrad: boolean): FloatArray | null {
    if (!needInputGrad) return null;
    if (!this.active) return dout;
    this.dx = ensureCapacity(this.dx, dout.length, this.ctx.dtype);
    for (let i = 0; i < dout.length; i++) this.dx[i] = dout[i]! * this.mask![i]!;
    return this.dx;
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
