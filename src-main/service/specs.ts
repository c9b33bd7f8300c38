/** Specs against datasets: templates sized to a dataset, and the checks that refuse a spec before a run exists. */
import { inferShapes, type ShapeReport } from '../../src-engine/index.js';
import { DEFAULT_HYPERPARAMETERS, type ModelSpec, type TemplateInfo } from '../contract/index.js';
import type { DatasetRow } from '../db/store.js';
import { ServiceError } from './errors.js';
import { modelSizeProblem, type ModelLimits } from './model-size.js';
import { TEMPLATES } from './templates.js';

export function templatesFor(d: DatasetRow | null): TemplateInfo[] {
  const shape: [number, number, number] = d ? d.shape : [28, 28, 1];
  const classes = d ? d.classNames.length : 10;
  return TEMPLATES.map((t) => ({ name: t.name, description: t.description, spec: t.build(shape, classes), ...(t.hyperparameters && { hyperparameters: structuredClone(t.hyperparameters) }) }));
}

/**
 * The engine's report, or the first way the spec does not fit the dataset or the library's model
 * size limits (as a failed report, naming the layer). Sizes are judged with the default
 * hyperparameters (batch size, SGD with momentum); startRun judges them with the run's own.
 */
export function validateSpec(spec: ModelSpec, d: DatasetRow | null, limits: ModelLimits): ShapeReport & { datasetMessage?: string } {
  const report = inferShapes(spec);
  if (!report.ok) return report;
  const mismatch = d ? specDatasetMismatch(spec, report, d) : null;
  if (mismatch) return { ...report, ok: false, error: { layerIndex: mismatch.layerIndex, message: mismatch.message }, datasetMessage: mismatch.message };
  const tooBig = modelSizeProblem(spec, report, DEFAULT_HYPERPARAMETERS, d?.trainCount ?? 0, limits);
  return tooBig ? { ...report, ok: false, error: { layerIndex: tooBig.layerIndex, message: tooBig.message } } : report;
}

/** Throws invalid_spec with the engine's message (or the dataset mismatch). */
export function checkSpec(spec: ModelSpec, d: DatasetRow): ShapeReport {
  const report = inferShapes(spec);
  if (!report.ok) throw new ServiceError('invalid_spec', report.error!.message, { layerIndex: report.error!.layerIndex });
  const problem = specDatasetMismatch(spec, report, d);
  if (problem) throw new ServiceError('invalid_spec', problem.message, { layerIndex: problem.layerIndex });
  return report;
}

function specDatasetMismatch(spec: ModelSpec, report: ShapeReport, d: DatasetRow): { message: string; layerIndex: number | null } | null {
  const [h, w, c] = spec.inputShape;
  if (h !== d.shape[0] || w !== d.shape[1] || c !== d.shape[2]) {
    return { message: `the model's input is ${h}×${w}×${c} but dataset ${JSON.stringify(d.name)} has ${d.shape.join('×')} images`, layerIndex: null };
  }
  if (report.classes !== d.classNames.length) {
    const last = report.layers[report.layers.length - 1]!;
    return { message: `${last.label}: the classifier has ${report.classes} units but dataset ${JSON.stringify(d.name)} has ${d.classNames.length} classes`, layerIndex: last.index };
  }
  return null;
}
