/**
 * The service's answer to each command, as a typed table: a command missing here, or one the
 * contract does not have, fails to compile; `Service.call` validates the request against the
 * command's schema, then dispatches here.
 */
import type { CommandName, RequestOf, ResponseOf } from '../contract/index.js';
import { compareRuns } from './compare.js';
import { evaluationImages } from './evaluation-images.js';
import { exportRun } from './exports.js';
import { diffRuns } from './run-diff.js';
import { runHealth } from './health.js';
import { importModel } from './imported-models.js';
import { modelLimits } from './model-size.js';
import type { Service } from './service.js';
import { templatesFor, validateSpec } from './specs.js';
import { thumbnails } from './thumbnails.js';

export type CommandHandlers = { [C in CommandName]: (request: RequestOf<C>) => ResponseOf<C> | Promise<ResponseOf<C>> };

export function commandHandlers(s: Service): CommandHandlers {
  return {
    listDatasets: () => s.datasets.list(),
    getDataset: (r) => s.datasets.get(r.id),
    importDataset: (r) => s.datasets.import(r),
    cancelImport: (r) => s.datasets.cancelImport(r.importId),
    deleteDataset: (r) => s.datasets.delete(r.id, r.withRuns ?? false, (runId) => s.runs.isActive(runId)),
    updateDataset: (r) => s.datasets.update(r),
    reimportDataset: (r) => s.datasets.reimport(r.id, r.importId),
    getThumbnails: (r) => thumbnails(s.datasets, r),
    validateSpec: (r) => validateSpec(r.spec, r.datasetId !== undefined ? s.datasets.row(r.datasetId) : null, modelLimits(s.store)),
    templates: (r) => templatesFor(r.datasetId !== undefined ? s.datasets.row(r.datasetId) : null),
    startRun: (r) => s.runs.start(r),
    pauseRun: (r) => s.runs.pause(r.id),
    resumeRun: (r) => s.runs.resume(r.id),
    stopRun: (r) => s.runs.stop(r.id),
    listRuns: (r) => s.runs.list(r),
    getRun: (r) => s.runs.detail(r.id, r.batches ?? true),
    forkRun: (r) => s.runs.fork(r),
    compareRuns: (r) => compareRuns(s.store, s.runs, s.datasets, r.ids),
    evaluateRun: (r) => s.evaluations.evaluate(r),
    cancelEvaluation: (r) => s.evaluations.cancel(r.runId),
    evaluationImages: (r) => evaluationImages(s.store, s.runs, s.datasets, r),
    exportRun: (r) => exportRun(s.store, s.runs, s.datasets, r),
    importModel: (r) => importModel(s.store, s.runs, s.datasets, r),
    predict: (r) => s.inspections.predict(r),
    featureMaps: (r) => s.inspections.featureMaps(r),
    inspectFilters: (r) => s.inspections.filters(r),
    stepThrough: (r) => s.inspections.stepThrough(r),
    saliency: (r) => s.inspections.saliency(r),
    gradientCheck: (r) => s.inspections.gradientCheck(r),
    runHealth: (r) => runHealth(s.store, s.runs, r.runId),
    cancelInspection: (r) => s.inspections.cancel(r.inspectionId),
    deleteRun: (r) => s.runs.delete(r.id, r.confirmed ?? false),
    updateRun: (r) => s.runs.update(r),
    diffRuns: (r) => diffRuns(s.store, s.runs, s.datasets, r.a, r.b),
    startSweep: (r) => s.sweeps.start(r),
    listSweeps: () => s.sweeps.list(),
    getSweep: (r) => s.sweeps.get(r.id),
    cancelSweep: (r) => s.sweeps.cancel(r.id),
  };
}
