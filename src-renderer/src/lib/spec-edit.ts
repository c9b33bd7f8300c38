/**
 * Builder helpers over the pure engine: default layer specs, and shape inference that still shows
 * the shapes of the layers before the first error (the engine reports no layers when it fails).
 */
import { inferShapes, type LayerShape, type ShapeReport } from '../../../src-engine/shapes.js';
import type { LayerSpec, LayerType, ModelSpec } from '../../../src-engine/spec.js';

export type { LayerShape, LayerSpec, LayerType, ShapeReport };
/** One line per layer for the run list and the compare table: the engine's own words. */
export { describeLayer } from '../../../src-engine/layers/registry.js';

/** The palette: every layer type the engine registers, with the builder's name and hint for it. */
export const LAYER_CHOICES: { type: LayerType; title: string; hint: string }[] = [
  { type: 'conv2d', title: 'Conv 2D', hint: 'filters slide over the image' },
  { type: 'maxpool2d', title: 'Max pool', hint: 'halves width and height' },
  { type: 'avgpool2d', title: 'Average pool', hint: 'the mean of each window' },
  { type: 'globalavgpool2d', title: 'Global average pool', hint: 'one mean per channel' },
  { type: 'batchnorm', title: 'Batch norm', hint: 'normalises each channel' },
  { type: 'flatten', title: 'Flatten', hint: 'image → vector, before dense' },
  { type: 'dense', title: 'Dense', hint: 'fully connected' },
  { type: 'dropout', title: 'Dropout', hint: 'regularises in training' },
];

export const LAYER_TITLES = Object.fromEntries(LAYER_CHOICES.map((c) => [c.type, c.title])) as Record<LayerType, string>;

/** A new layer as the palette inserts it (the engine's defaults written out, so the form shows them). */
export function defaultLayer(type: LayerType): LayerSpec {
  switch (type) {
    case 'conv2d': return { type, filters: 16, kernelSize: 3, stride: 1, padding: 'valid', activation: 'relu' };
    case 'maxpool2d': return { type, poolSize: 2 };
    case 'avgpool2d': return { type, poolSize: 2, padding: 'valid' };
    case 'globalavgpool2d': return { type };
    case 'batchnorm': return { type, momentum: 0.1, epsilon: 1e-5 };
    case 'flatten': return { type };
    case 'dense': return { type, units: 64, activation: 'relu' };
    case 'dropout': return { type, rate: 0.25 };
  }
}

export interface BuilderReport {
  report: ShapeReport;
  /** Shape per layer index; layers after the failing one have none. */
  shapes: (LayerShape | null)[];
  /** The first problem and the layer it names (null = the model as a whole), and the layer spec's
   *  field it is in when it is in one ("conv2d #3: filters is required" → 'filters'). */
  error: { layerIndex: number | null; message: string; field?: string } | null;
}

/**
 * inferShapes on the whole spec (on failure it still reports the layers before the one it names, so
 * their shapes stay visible). `classes` (the dataset's class count) adds the classifier-width check
 * the service makes at start.
 */
export function inferForBuilder(spec: ModelSpec, classes: number | null): BuilderReport {
  const report = inferShapes(spec);
  const shapes: (LayerShape | null)[] = spec.layers.map(() => null);
  for (const l of report.layers) shapes[l.index] = l;
  if (report.ok) {
    const last = report.layers[report.layers.length - 1];
    if (classes !== null && report.classes !== classes && last) {
      return { report, shapes, error: { layerIndex: last.index, message: `${last.label}: the classifier has ${report.classes} units but the dataset has ${classes} classes` } };
    }
    return { report, shapes, error: null };
  }
  return { report, shapes, error: report.error ?? { layerIndex: null, message: 'the model is not valid' } };
}

export const shapeText = (s: readonly number[]) => s.join('×');
