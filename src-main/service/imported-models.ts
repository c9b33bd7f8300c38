/**
 * A model file brought back as a run: the weights a PyTorch project's train.py wrote (or any file
 * in the studio's model format) become a completed run on a dataset its spec fits, with one
 * snapshot, so it is evaluated, inspected, exported and compared like a run trained here. Its
 * hyperparameters are the ones the file says it was trained with, when they are valid here.
 */
import { buildModel, describeSpec, ENGINE_VERSION, ModelFormatError, readModelFile, specHash, Trainer } from '../../src-engine/index.js';
import {
  DEFAULT_HYPERPARAMETERS, hyperparameterInputSchema, mergeHyperparameters, type Hyperparameters, type ImportModelRequest, type RunSummary,
} from '../contract/index.js';
import type { DatasetRow, Store } from '../db/store.js';
import { checkedLayout, ExportError } from '../export/layout.js';
import { loadSplit } from '../training/run-job.js';
import type { DatasetLibrary } from './datasets.js';
import { ServiceError } from './errors.js';
import { checkHyperparameters, toTrainConfig } from './hyperparameters.js';
import type { RunManager } from './runs.js';
import { checkSpec } from './specs.js';

interface TrainedBy { framework?: unknown; version?: unknown; processes?: unknown; epochs?: unknown; hyperparameters?: unknown; testAccuracy?: unknown }

/** The file's hyperparameters where they parse and fit the dataset; the defaults otherwise. */
function hyperparametersOf(trainedBy: TrainedBy | undefined, d: DatasetRow): { hyper: Hyperparameters; note: string } {
  if (!trainedBy?.hyperparameters) return { hyper: DEFAULT_HYPERPARAMETERS, note: 'no hyperparameters in the file: the defaults stand in' };
  try {
    const hyper = mergeHyperparameters(DEFAULT_HYPERPARAMETERS, hyperparameterInputSchema.parse(trainedBy.hyperparameters, 'hyperparameters'));
    checkHyperparameters(hyper, d);
    return { hyper, note: '' };
  } catch (e) {
    return { hyper: DEFAULT_HYPERPARAMETERS, note: `the file's hyperparameters do not apply here (${(e as Error).message}): the defaults stand in` };
  }
}

export function importModel(store: Store, runs: RunManager, datasets: DatasetLibrary, req: ImportModelRequest): RunSummary {
  const d = datasets.row(req.datasetId);
  let file: ReturnType<typeof readModelFile>;
  try {
    file = readModelFile(new Uint8Array(Buffer.from(req.model, 'base64')));
    checkedLayout(file.spec, file.weights);
  } catch (e) {
    if (e instanceof ModelFormatError || e instanceof ExportError) throw new ServiceError('bad_request', `importModel: ${e.message}`, { field: 'model' });
    throw e;
  }
  const report = checkSpec(file.spec, d);
  const trainedBy = file.meta.trainedBy as TrainedBy | undefined;
  const { hyper, note } = hyperparametersOf(trainedBy, d);

  // the run's one snapshot: a finished trainer state holding the file's weights
  const data = loadSplit({ cacheFile: d.cacheFile, validationSplit: hyper.validationSplit, splitSeed: hyper.seed, trainLimit: hyper.trainLimit });
  const model = buildModel(file.spec);
  model.values.set(file.weights);
  const trainer = new Trainer(model, data.train, toTrainConfig(hyper), data.validation ?? undefined);
  trainer.epoch = hyper.epochs;
  trainer.done = true;
  trainer.stopReason = 'completed';
  const state = trainer.saveState();

  const framework = typeof trainedBy?.framework === 'string' ? `${trainedBy.framework}${typeof trainedBy.version === 'string' ? ` ${trainedBy.version}` : ''}` : null;
  const notes = [
    framework ? `Imported: trained by ${framework}${typeof trainedBy?.processes === 'number' ? ` on ${trainedBy.processes} process(es)` : ''}${typeof trainedBy?.epochs === 'number' ? `, ${trainedBy.epochs} epochs` : ''}${typeof trainedBy?.testAccuracy === 'number' ? `, test accuracy ${(100 * trainedBy.testAccuracy).toFixed(2)}% there` : ''}.` : 'Imported from a model file.',
    note,
  ].filter(Boolean).join(' ');
  const id = store.insertRun({
    name: req.name ?? `imported · ${describeSpec(file.spec)}`,
    datasetId: d.id, spec: file.spec, specHash: specHash(file.spec), totalParams: report.totalParams, hyperparameters: hyper,
    status: 'completed', engineVersion: ENGINE_VERSION, parentRunId: null, parentSnapshotId: null, notes, tags: ['imported'],
  });
  store.setKernelsUsed(id, framework ?? 'imported');
  store.setStatus(id, 'completed', null, 'completed');
  store.insertSnapshot(id, hyper.epochs, 0, 'epoch', state);
  return runs.summary(id);
}
