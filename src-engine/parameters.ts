/**
 * Where each value sits in the model's flat buffer, derived from the spec alone: first every
 * trainable parameter — layers in order, each layer's parameters as its module lists them (weight,
 * then bias) — then every statistic (batch norm's running mean and variance), layers in order; each
 * named `<type><layer number>.<name>`. The optimizer updates the first `totalParams` values only,
 * and the gradients buffer has exactly those. The model takes its views from this, and exports
 * write their tables from it, so none of them can disagree.
 */
import { layerDefinition } from './layers/registry.js';
import { inferShapesOrThrow, layerSite, type ShapeReport } from './shapes.js';
import type { ModelSpec } from './spec.js';
import { sizeOf } from './tensor.js';

export interface ParameterEntry {
  name: string;
  shape: number[];
  /** In elements from the start of the flat buffer (× 4 for float32 bytes). */
  offset: number;
  /** In elements. */
  length: number;
  /** Index of the layer in `spec.layers`. */
  layerIndex: number;
  /** False for a statistic: kept and saved, never trained (no gradient). */
  trainable: boolean;
  /** A statistic's starting value (running variance 1); parameters are drawn by the layer's init. */
  initial?: number;
}

export interface ParameterLayout {
  shapes: ShapeReport;
  /** Every value of the buffer, in buffer order: the parameters, then the statistics. */
  parameters: ParameterEntry[];
  /** Trainable values, at the start of the buffer. */
  totalParams: number;
  /** Statistics, after them. */
  totalStatistics: number;
  /** The whole buffer: what a model file, a snapshot and an export hold. */
  totalValues: number;
}

/** Throws SpecError for an invalid spec. `shapes` saves inferring them again. */
export function parameterLayout(spec: ModelSpec, shapes: ShapeReport = inferShapesOrThrow(spec)): ParameterLayout {
  const parameters: ParameterEntry[] = [];
  let offset = 0;
  spec.layers.forEach((layer, i) => {
    for (const p of layerDefinition(layer).parameters?.(layer, layerSite(shapes, i)) ?? []) {
      const length = sizeOf(p.shape);
      parameters.push({ name: `${layer.type}${i + 1}.${p.name}`, shape: p.shape, offset, length, layerIndex: i, trainable: true });
      offset += length;
    }
  });
  if (offset !== shapes.totalParams) throw new Error(`parameter layout has ${offset} values but shape inference counts ${shapes.totalParams}`);
  const totalParams = offset;
  spec.layers.forEach((layer, i) => {
    for (const p of layerDefinition(layer).statistics?.(layer, layerSite(shapes, i)) ?? []) {
      const length = sizeOf(p.shape);
      parameters.push({ name: `${layer.type}${i + 1}.${p.name}`, shape: p.shape, offset, length, layerIndex: i, trainable: false, initial: p.initial });
      offset += length;
    }
  });
  if (offset - totalParams !== shapes.totalStatistics) throw new Error(`parameter layout has ${offset - totalParams} statistics but shape inference counts ${shapes.totalStatistics}`);
  return { shapes, parameters, totalParams, totalStatistics: offset - totalParams, totalValues: offset };
}
