/**
 * The layer registry: a spec's `type` → the module that owns everything about that layer type
 * (layer.ts's LayerDefinition). Shape inference, the model, the parameter layout, the descriptions
 * and the ONNX export all look layer types up here and nowhere else.
 *
 * A new layer type is its spec interface in spec.ts (added to the LayerSpec union), its module in
 * this folder, and one line below; the `satisfies` clause fails to compile until all three agree.
 */
import type { LayerSpec, LayerType, ModelSpec } from '../spec.js';
import { avgpool2dLayer } from './avgpool2d.js';
import { batchnormLayer } from './batchnorm.js';
import { conv2dLayer } from './conv2d.js';
import { denseLayer } from './dense.js';
import { dropoutLayer } from './dropout.js';
import { flattenLayer } from './flatten.js';
import { globalavgpool2dLayer } from './globalavgpool2d.js';
import type { LayerDefinition } from './layer.js';
import { maxpool2dLayer } from './maxpool2d.js';

const LAYERS = {
  conv2d: conv2dLayer,
  maxpool2d: maxpool2dLayer,
  avgpool2d: avgpool2dLayer,
  globalavgpool2d: globalavgpool2dLayer,
  batchnorm: batchnormLayer,
  flatten: flattenLayer,
  dense: denseLayer,
  dropout: dropoutLayer,
} as const satisfies { [K in LayerType]: LayerDefinition<Extract<LayerSpec, { type: K }>> };

/** Every registered layer type, in the order the builder's palette lists them. */
export const LAYER_TYPES: readonly LayerType[] = Object.keys(LAYERS) as LayerType[];

/** The definition of a registered type; undefined for anything else (untrusted JSON included). */
export function findLayerDefinition(type: unknown): LayerDefinition | undefined {
  return typeof type === 'string' && Object.hasOwn(LAYERS, type) ? (LAYERS[type as LayerType] as unknown as LayerDefinition) : undefined;
}

/** The definition of a layer whose type is known to be registered (shape inference passed). */
export function layerDefinition(layer: LayerSpec): LayerDefinition {
  const def = findLayerDefinition(layer.type);
  if (!def) throw new Error(`unknown layer type ${JSON.stringify(layer.type)} (expected one of ${LAYER_TYPES.join(', ')})`);
  return def;
}

/** One line for a layer: "conv 16 3×3 s2 same linear", "maxpool 2", "dense 10 softmax", "dropout 0.5". */
export function describeLayer(layer: LayerSpec): string {
  return layerDefinition(layer).describe(layer);
}

/** One line for a model, its layers joined by arrows, without the flatten layers (implied). */
export function describeSpec(spec: ModelSpec): string {
  return spec.layers.filter((l) => layerDefinition(l).inSummary).map(describeLayer).join(' → ');
}
