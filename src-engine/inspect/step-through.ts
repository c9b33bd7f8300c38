/**
 * The step-through of one image: the model's own forward and backward on that image (inference
 * mode — dropout off, as gradient checks run), recorded layer by layer, and for each layer the
 * numbers of one output unit with the seed document's formulas beside them: the patch, the kernel,
 * the dot product and bias = the pre-activation, the ReLU, the pool's maximum, the logits, softmax,
 * the loss, then dL/dlogits = p − onehot and each gradient on the way back.
 *
 * Units form a chain unless the caller picks them: the last spatial layer's unit that moves the loss
 * most (|output · gradient| largest), then, going down, the tap that gave it the most (a conv's
 * largest |x · w|, a pool's maximum). The head shows the true class's logit.
 */
import { softmax } from '../kernels/activations.js';
import type { Model } from '../model.js';
import { allocFloat, type FloatArray, type Shape3 } from '../tensor.js';
import { at } from './numbers.js';
import { inspectedLayers, recorded, siteOf, unsupported, type InspectedLayer, type LayerRecord } from './probe.js';
import { imageRegion, type Range } from './receptive-field.js';
import type { BackwardDetail, ForwardDetail, LayerIO, Unit } from './types.js';

export interface StepLayer {
  index: number;
  label: string;
  type: string;
  inShape: Shape3;
  outShape: Shape3;
  /** Null: the layer's type has no inspector (`note` says so); its output is still summarised. */
  unit: Unit | null;
  formulas: { forward: string[]; backward: string[] } | null;
  forward: ForwardDetail | null;
  backward: BackwardDetail | null;
  /** The unit's region on the input image; 'whole' for a unit that reads all of it. */
  region: { rows: Range; cols: Range } | 'whole' | null;
  output: { min: number; max: number; mean: number };
  note?: string;
}

export interface StepThrough {
  label: number;
  predicted: number;
  inputShape: Shape3;
  logits: number[];
  probabilities: number[];
  /** −log p[label], the engine's (log-sum-exp) loss. */
  loss: number;
  /** dL/dlogits = p − onehot(label). */
  dlogits: number[];
  layers: StepLayer[];
  /** dL/dX of the image (H, W, C). */
  inputGradient: number[];
  formulas: { loss: string[] };
}

export interface StepOptions {
  /** Units chosen by the caller, by layer index; the chain below a chosen unit follows from it. */
  units?: Record<number, Unit>;
}

/**
 * Walks one image (x: one (H, W, C) image in the model's dtype) with its label through the model.
 * Afterwards model.grads holds the image's gradient, exactly as model.lossAndGradients leaves it.
 */
export function stepThrough(model: Model<FloatArray>, x: FloatArray, label: number, options: StepOptions = {}): StepThrough {
  const { result, records } = recorded(model, () => model.lossAndGradients(x, [label], 1, { training: false, inputGradient: true }));
  const layers = inspectedLayers(model);
  const io = (l: InspectedLayer): LayerIO => {
    const r = records[l.index]!;
    return {
      input: r.input!, output: r.output!, inShape: l.inShape, outShape: l.outShape, params: model.layers[l.index]!.params,
      dout: r.dout ?? undefined, dx: r.dx ?? undefined,
    };
  };
  const logits = Array.from(records[records.length - 1]!.output!);
  const dlogits = Array.from(records[records.length - 1]!.dout!);
  // as predict computes them: softmax of the logits, stored in the model's dtype
  const probs = allocFloat(model.dtype, logits.length);
  softmax(1, logits.length, records[records.length - 1]!.output!, probs);
  const probabilities = Array.from(probs);
  const predicted = argmax(logits);
  const units = chooseUnits(layers, records, model, label, options.units ?? {});
  const steps = layers.map((l): StepLayer => {
    const r = records[l.index]!;
    const output = summary(r.output!);
    const base = { index: l.index, label: l.label, type: l.type, inShape: l.inShape, outShape: l.outShape, output };
    const unit = units[l.index] ?? null;
    if (!l.inspector || !unit) {
      return { ...base, unit: null, formulas: null, forward: null, backward: null, region: null, note: unsupported(l.label, l.type) };
    }
    const spec = model.spec.layers[l.index]! as never;
    const site = siteOf(model, l.index);
    return {
      ...base, unit,
      formulas: l.inspector.formulas(spec, site),
      forward: l.inspector.forward(spec, site, io(l), unit),
      backward: l.inspector.backward(spec, site, io(l), unit),
      region: imageRegion(model.spec, l.index, [unit[0], unit[0]], [unit[1], unit[1]]),
    };
  });
  return {
    label, predicted, inputShape: model.spec.inputShape, logits, probabilities, loss: result.loss, dlogits, layers: steps,
    inputGradient: Array.from(result.inputGradient!),
    formulas: {
      loss: ['ŷ_i = e^{z_i} / Σ_j e^{z_j}', 'L = −log ŷ_y = log Σ_j e^{z_j} − z_y', '∂L/∂z = ŷ − y   (y one-hot)'],
    },
  };
}

const argmax = (a: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
};

function summary(a: FloatArray): { min: number; max: number; mean: number } {
  let min = Infinity, max = -Infinity, sum = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / a.length };
}

const unitOf = (shape: Shape3, flat: number): Unit => [Math.floor(flat / (shape[1] * shape[2])), Math.floor(flat / shape[2]) % shape[1], flat % shape[2]];

/** The chain of units, from the head down; layers without an inspector break the chain (the next one below starts afresh). */
function chooseUnits(layers: InspectedLayer[], records: LayerRecord[], model: Model<FloatArray>, label: number, picked: Record<number, Unit>): Record<number, Unit> {
  const units: Record<number, Unit> = {};
  // what the layer above asks of this one: a unit of this layer's output
  let fromAbove: Unit | null = null;
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    const r = records[i]!;
    const valid = (u: Unit | undefined | null): u is Unit => !!u && u.length === 3 && u.every((v, k) => Number.isInteger(v) && v >= 0 && v < l.outShape[k]!);
    let unit: Unit | null = valid(picked[i]) ? picked[i]! : valid(fromAbove) ? fromAbove : null;
    if (!unit && l.inspector) {
      if (i === layers.length - 1) unit = [0, 0, label];
      else {
        // the unit that moves the loss most: largest |output · dL/doutput|
        let best = 0, bestScore = -1;
        for (let p = 0; p < r.output!.length; p++) {
          const s = Math.abs(r.output![p]! * r.dout![p]!);
          if (s > bestScore) { bestScore = s; best = p; }
        }
        unit = unitOf(l.outShape, best);
      }
    }
    if (unit && l.inspector) units[i] = unit;
    fromAbove = unit && l.inspector ? below(l, records[i]!, model, unit) : null;
  }
  return units;
}

/** The unit of the layer below that fed `unit` the most: null when the layer reads its whole input. */
function below(l: InspectedLayer, r: LayerRecord, model: Model<FloatArray>, unit: Unit): Unit | null {
  const spec = model.spec.layers[l.index]! as never;
  const site = siteOf(model, l.index);
  const field = l.inspector!.receptiveField(spec, site);
  if (field === 'whole') return null;
  const [h, w, c] = l.inShape;
  const y0 = unit[0] * field.y.stride + field.y.offset;
  const x0 = unit[1] * field.x.stride + field.x.offset;
  const io: LayerIO = { input: r.input!, output: r.output!, inShape: l.inShape, outShape: l.outShape, params: model.layers[l.index]!.params };
  const detail = l.inspector!.forward(spec, site, io, unit);
  if (detail.kind === 'maxpool') return [detail.origin[0] + detail.argmax[0], detail.origin[1] + detail.argmax[1], unit[2]];
  if (detail.kind === 'conv') {
    let best = -1, bestScore = -1;
    detail.patch.forEach((x, t) => {
      const s = detail.padded[t] ? -1 : Math.abs(x * detail.kernel[t]!);
      if (s > bestScore) { bestScore = s; best = t; }
    });
    const tap = Math.floor(best / c);
    return [detail.origin[0] + Math.floor(tap / detail.kw), detail.origin[1] + (tap % detail.kw), best % c];
  }
  // an elementwise layer (dropout): the same unit, if it is inside
  const y = Math.min(Math.max(y0, 0), h - 1), x = Math.min(Math.max(x0, 0), w - 1);
  return at(l.inShape, y, x, 0) >= 0 ? [y, x, unit[2] % c] : null;
}
