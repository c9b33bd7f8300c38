/** avgpool2d: average pooling, 'valid' (leftover rows/columns dropped) or 'same' (TensorFlow's
 *  padding rule; each mean counts only the cells inside the input, as Keras's and ONNX's
 *  count_include_pad = 0). */
import type { AvgPoolShape } from '../kernels/types.js';
import { samePadding, type AvgPool2dSpec } from '../spec.js';
import { ensureCapacity, type FloatArray, type Shape3 } from '../tensor.js';
import { checkPair, dims, SpecError } from './checks.js';
import type { Layer, LayerContext, LayerDefinition, Param } from './layer.js';

export interface AvgPoolGeometry { ph: number; pw: number; sh: number; sw: number; padTop: number; padBottom: number; padLeft: number; padRight: number; oh: number; ow: number }

export function avgPoolGeometry(label: string, spec: { poolSize: unknown; stride?: unknown; padding?: unknown }, input: readonly [number, number, number]): AvgPoolGeometry {
  const [ph, pw] = checkPair(label, 'poolSize', spec.poolSize);
  const [sh, sw] = checkPair(label, 'stride', spec.stride ?? spec.poolSize);
  const padding = spec.padding ?? 'valid';
  if (padding !== 'valid' && padding !== 'same') throw new SpecError(`${label}: padding must be 'valid' or 'same', got ${JSON.stringify(padding)}`);
  const [H, W] = input;
  if (padding === 'same') {
    const [padTop, padBottom] = samePadding(H, ph, sh);
    const [padLeft, padRight] = samePadding(W, pw, sw);
    // a window that held only padding would have no cells to average
    if (ph > H + padTop || pw > W + padLeft) throw new SpecError(`${label}: pool ${ph}×${pw} does not fit input ${dims(input)}`);
    return { ph, pw, sh, sw, padTop, padBottom, padLeft, padRight, oh: Math.ceil(H / sh), ow: Math.ceil(W / sw) };
  }
  if (ph > H || pw > W) throw new SpecError(`${label}: pool ${ph}×${pw} does not fit input ${dims(input)}`);
  return { ph, pw, sh, sw, padTop: 0, padBottom: 0, padLeft: 0, padRight: 0, oh: Math.floor((H - ph) / sh) + 1, ow: Math.floor((W - pw) / sw) + 1 };
}

/** x: (N, H, W, C) → (N, OH, OW, C). Also global average pooling, whose window is the image. */
export class AvgPool2d implements Layer {
  readonly outShape: Shape3;
  readonly params: Param[] = [];
  private out: FloatArray | null = null;
  private dx: FloatArray | null = null;
  private n = -1;

  constructor(readonly label: string, private readonly g: AvgPoolGeometry, readonly inShape: Shape3, private readonly ctx: LayerContext) {
    this.outShape = [g.oh, g.ow, inShape[2]];
  }

  private shape(n: number): AvgPoolShape {
    const [h, w, c] = this.inShape;
    const g = this.g;
    return { n, h, w, c, ph: g.ph, pw: g.pw, sh: g.sh, sw: g.sw, padTop: g.padTop, padLeft: g.padLeft, oh: g.oh, ow: g.ow };
  }

  forward(x: FloatArray, n: number): FloatArray {
    this.out = ensureCapacity(this.out, n * this.outShape[0] * this.outShape[1] * this.outShape[2], this.ctx.dtype);
    this.ctx.kernels.avgpool2dForward(this.shape(n), x, this.out);
    this.n = n;
    return this.out;
  }

  backward(dout: FloatArray, n: number, needInputGrad: boolean): FloatArray | null {
    if (this.n !== n) throw new Error(`${this.label}: backward before forward`);
    if (!needInputGrad) return null;
    this.dx = ensureCapacity(this.dx, n * this.inShape[0] * this.inShape[1] * this.inShape[2], this.ctx.dtype);
    this.ctx.kernels.avgpool2dBackward(this.shape(n), dout, this.dx);
    return this.dx;
  }
}

export const avgpool2dLayer: LayerDefinition<AvgPool2dSpec> = {
  type: 'avgpool2d',

  infer(spec, { label, inputShape }) {
    const g = avgPoolGeometry(label, spec, inputShape);
    return { outputShape: [g.oh, g.ow, inputShape[2]], params: 0, macs: 0 };
  },

  build(spec, { label, inputShape }, _params, ctx) {
    return new AvgPool2d(label, avgPoolGeometry(label, spec, inputShape), inputShape, ctx);
  },

  describe(spec) {
    const size = Array.isArray(spec.poolSize) ? spec.poolSize.join('×') : spec.poolSize;
    const s = spec.stride !== undefined && JSON.stringify(spec.stride) !== JSON.stringify(spec.poolSize) ? ` s${Array.isArray(spec.stride) ? spec.stride.join('×') : spec.stride}` : '';
    return `avgpool ${size}${s}${spec.padding === 'same' ? ' same' : ''}`;
  },
  inSummary: true,

  // explicit pads [top, left, bottom, right], so an odd 'same' total pads bottom/right as the engine
  onnxInput: 'image',
  onnx(spec, { label, inputShape }, { input, name }) {
    const g = avgPoolGeometry(label, spec, inputShape);
    const output = name('averagepool');
    return {
      nodes: [{
        opType: 'AveragePool', inputs: [input], outputs: [output],
        attributes: { kernel_shape: [g.ph, g.pw], strides: [g.sh, g.sw], pads: [g.padTop, g.padLeft, g.padBottom, g.padRight], count_include_pad: 0, ceil_mode: 0 },
      }],
      initializers: [],
      output,
    };
  },
};
