/**
 * Looking inside a model: what the studio's inspection views compute, in workers, from stored
 * snapshots. Each tool goes through the layer registry (a layer type's `inspect` hooks, in its
 * own module beside the layer), so a new layer type either brings its hooks or is named as not
 * supported yet.
 */
export type { AxisWindow, BackwardDetail, FilterBank, ForwardDetail, LayerInspector, LayerIO, ReceptiveField, Unit } from './types.js';
export { recorded, inspectedLayers, type LayerRecord, type InspectedLayer } from './probe.js';
export { imageRegion, receptiveFieldTable, type Range } from './receptive-field.js';
export { stepThrough, type StepLayer, type StepOptions, type StepThrough } from './step-through.js';
export { featureMaps, type FeatureMap, type FeatureMaps } from './feature-maps.js';
export { filterTiles, type FilterTiles } from './filters.js';
export { saliency, type Saliency } from './saliency.js';
export { gradientCheck, relativeError, type GradientCheckOptions, type GradientCheckReport, type LayerCheck, type ParameterCheck } from './gradient-check.js';
export { firstNonFinite, measureHealth, type LayerHealth, type NonFiniteLayer } from './health.js';
export {
  healthFindings, DEAD_FRACTION, GRADIENT_GROWTH, GRADIENT_VANISHING, UPDATE_RATIO_HIGH, UPDATE_RATIO_LOW,
  type FindingContext, type HealthFinding, type HealthRecord, type NonFiniteStep,
} from './findings.js';
