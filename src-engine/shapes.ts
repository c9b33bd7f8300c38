/**
 * Shape inference and validation of a ModelSpec: pure, cheap, run by the builder on every keystroke
 * and by buildModel before anything is allocated. Each layer is checked by its own module (through
 * the registry); this file checks the model as a whole.
 */
import { isPosInt, SpecError } from './layers/checks.js';
import type { LayerSite } from './layers/layer.js';
import { findLayerDefinition, LAYER_TYPES } from './layers/registry.js';
import type { LayerSpec, ModelSpec } from './spec.js';

export { SpecError };

export interface LayerShape {
  index: number;
  type: LayerSpec['type'];
  /** "conv2d #2" — how messages and the UI name the layer (1-based). */
  label: string;
  inputShape: [number, number, number];
  outputShape: [number, number, number];
  /** Trainable values. */
  params: number;
  /** Non-trainable values the layer keeps (batch norm's running mean and variance). */
  statistics: number;
  /** Multiply-adds per image in the forward pass. */
  macs: number;
}

export interface ShapeReport {
  ok: boolean;
  layers: LayerShape[];
  outputShape: [number, number, number] | null;
  classes: number | null;
  /** Trainable values: what the optimizer updates. */
  totalParams: number;
  /** Statistics: saved with the weights, never trained. */
  totalStatistics: number;
  totalMacs: number;
  /** Set when ok is false: the first problem, naming the layer and the numbers (and the layer's
   *  spec field it is in, when it is in one: the builder marks that input). */
  error?: { layerIndex: number | null; message: string; field?: string };
}

/** Where layer `index` of an inferred spec sits, as the layer definitions are told. */
export function layerSite(report: ShapeReport, index: number): LayerSite {
  const { label, inputShape } = report.layers[index]!;
  return { index, label, inputShape, isLast: index === report.layers.length - 1 };
}

/** Throws SpecError on the first problem; returns the per-layer shapes otherwise. */
export function inferShapesOrThrow(spec: ModelSpec, layers: LayerShape[] = []): ShapeReport {
  if (!spec || typeof spec !== 'object') throw new SpecError('model spec must be an object with inputShape and layers');
  const inShape = spec.inputShape as unknown;
  if (!Array.isArray(inShape) || inShape.length !== 3 || !inShape.every(isPosInt)) {
    throw new SpecError(`inputShape must be [height, width, channels] of positive integers, got ${JSON.stringify(inShape)}`);
  }
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) throw new SpecError('the model has no layers');
  let shape: [number, number, number] = [inShape[0], inShape[1], inShape[2]];
  let classes: number | null = null;
  for (let index = 0; index < spec.layers.length; index++) {
    const layer = spec.layers[index]!;
    const type = (layer as { type?: unknown } | null)?.type;
    const def = findLayerDefinition(type);
    if (!def) throw new SpecError(`layer #${index + 1}: unknown type ${JSON.stringify(type)} (expected one of ${LAYER_TYPES.join(', ')})`, index);
    const site: LayerSite = { index, label: `${def.type} #${index + 1}`, inputShape: shape, isLast: index === spec.layers.length - 1 };
    const r = withIndex(index, () => def.infer(layer, site));
    layers.push({ index, type: def.type, label: site.label, inputShape: site.inputShape, outputShape: r.outputShape, params: r.params, statistics: r.statistics ?? 0, macs: r.macs });
    shape = r.outputShape;
    if (site.isLast) {
      classes = def.classes?.(layer, site) ?? null;
      if (classes === null) throw new SpecError(`the last layer must be a dense layer with softmax activation (the classifier head); it is ${site.label}`, index);
      if (classes < 2) throw new SpecError(`${site.label}: a classifier needs at least 2 units, got ${classes}`, index);
    }
  }
  return {
    ok: true,
    layers,
    outputShape: shape,
    classes,
    totalParams: layers.reduce((s, l) => s + l.params, 0),
    totalStatistics: layers.reduce((s, l) => s + l.statistics, 0),
    totalMacs: layers.reduce((s, l) => s + l.macs, 0),
  };
}

function withIndex<T>(index: number, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SpecError && e.layerIndex === null) throw new SpecError(e.message, index, e.field);
    throw e;
  }
}

/** Never throws: the builder shows `error` next to the layer it names, and the shapes of the layers
 *  before it (`layers` holds those that were inferred). */
export function inferShapes(spec: ModelSpec): ShapeReport {
  const layers: LayerShape[] = [];
  try {
    return inferShapesOrThrow(spec, layers);
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    return { ok: false, layers, outputShape: null, classes: null, totalParams: 0, totalStatistics: 0, totalMacs: 0, error: { layerIndex: e.layerIndex, message: e.message, ...(e.field ? { field: e.field } : {}) } };
  }
}
