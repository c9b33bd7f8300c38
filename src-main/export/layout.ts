/**
 * The parameter table an export writes: the engine's own layout (src-engine/parameters.ts, from
 * each layer module's parameter list, the same the model takes its views from), checked against
 * the weights the export is given.
 */
import { parameterLayout, type ParameterLayout } from '../../src-engine/parameters.js';
import type { ModelSpec } from '../../src-engine/spec.js';

export { parameterLayout, type ParameterEntry, type ParameterLayout } from '../../src-engine/parameters.js';

export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

/** The layout, after checking that `weights` is exactly the spec's count of values (parameters,
 *  then statistics), every one finite. */
export function checkedLayout(spec: ModelSpec, weights: Float32Array): ParameterLayout {
  const layout = parameterLayout(spec);
  if (!(weights instanceof Float32Array)) throw new ExportError('weights must be a Float32Array (the model\'s flat values buffer)');
  if (weights.length !== layout.totalValues) {
    const what = layout.totalStatistics ? `${layout.totalValues} (${layout.totalParams} parameters and ${layout.totalStatistics} statistics)` : `${layout.totalParams} parameters`;
    throw new ExportError(`weights have ${weights.length} values but the spec has ${what}`);
  }
  for (let i = 0; i < weights.length; i++) {
    if (!Number.isFinite(weights[i])) {
      const p = layout.parameters.find((e) => i >= e.offset && i < e.offset + e.length)!;
      throw new ExportError(`weight ${p.name}[${i - p.offset}] is ${weights[i]}; an exported model must have finite weights`);
    }
  }
  return layout;
}
