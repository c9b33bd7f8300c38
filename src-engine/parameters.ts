/**
 * Where each parameter sits in the model's flat buffer, derived from the spec alone: layers in
 * order, each layer's parameters as its module lists them (weight, then bias), named
 * `<type><layer number>.<name>`. The model takes its parameter views from this, and exports write
 * their parameter tables from it, so the two cannot disagree.
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
}

export interface ParameterLayout {
  shapes: ShapeReport;
  parameters: ParameterEntry[];
  totalParams: number;
}

/** Throws SpecError for an invalid spec. `shapes` saves inferring them again. */
export function parameterLayout(spec: ModelSpec, shapes: ShapeReport = inferShapesOrThrow(spec)): ParameterLayout {
  const parameters: ParameterEntry[] = [];
  let offset = 0;
  spec.layers.forEach((layer, i) => {
    const site = layerSite(shapes, i);
    for (const p of layerDefinition(layer).parameters?.(layer, site) ?? []) {
      const length = sizeOf(p.shape);
      parameters.push({ name: `${layer.type}${i + 1}.${p.name}`, shape: p.shape, offset, length, layerIndex: i });
      offset += length;
    }
  });
  if (offset !== shapes.totalParams) throw new Error(`parameter layout has ${offset} values but shape inference counts ${shapes.totalParams}`);
  return { shapes, parameters, totalParams: offset };
}
