/**
 * Exports of a run as bytes: ONNX or model JSON (+ its .bin) of a snapshot, the metrics CSV, a
 * PyTorch project of a snapshot, or a self-contained HTML page that classifies images with it. The
 * caller writes them where its user chose (CLI --out, the desktop save dialog, a browser download).
 */
import { buildModel, ENGINE_VERSION, readTrainerState, resolveKernels, type ModelSpec } from '../../src-engine/index.js';
import type { ExportRunRequest, ExportRunResponse } from '../contract/index.js';
import { readCache } from '../datasets/cache.js';
import { seededSplit } from '../datasets/split.js';
import type { DatasetRow, RunRow, Store } from '../db/store.js';
import { exportModelJson, exportOnnx, metricsCsv, modelJsonWeightsName } from '../export/index.js';
import { exportHtml, HtmlExportTooLarge, HTML_EXPORT_MAX_BYTES } from '../export/html/index.js';
import { sharePageScript } from '../export/html/page-script.js';
import { datasetFiles } from '../export/pytorch/dataset-files.js';
import { exportPytorchProject, type ExportFile } from '../export/pytorch/index.js';
import type { DatasetLibrary } from './datasets.js';
import { ServiceError } from './errors.js';
import type { RunManager } from './runs.js';

/** Images of the training split the PyTorch project's verify.py recomputes. */
const VERIFY_IMAGES = 8;

export function exportRun(store: Store, runs: RunManager, datasets: DatasetLibrary, req: ExportRunRequest): ExportRunResponse {
  const run = runs.row(req.runId);
  const d = datasets.row(run.datasetId);
  const name = req.fileName ?? `run-${run.id}.${req.format}`;
  const files: ExportFile[] = [];
  if (req.format === 'csv') {
    files.push({ name, bytes: new TextEncoder().encode(metricsCsv(store.epochs(run.id).map((e) => ({ ...e, wallSeconds: e.wallTime })))) });
  } else {
    const snapshot = req.snapshotId !== undefined ? store.snapshot(req.snapshotId) : store.latestSnapshot(run.id);
    if (!snapshot || snapshot.runId !== run.id) throw new ServiceError('not_found', `run ${run.id} has no snapshot to export${req.snapshotId !== undefined ? ` with id ${req.snapshotId}` : ' yet'}`);
    const { spec, weights } = readTrainerState(snapshot.state);
    const meta = { name: run.name, classNames: d.classNames, producerVersion: ENGINE_VERSION };
    const provenance = { runId: run.id, runName: run.name, snapshotId: snapshot.id, epoch: snapshot.epoch, dataset: d.name, hyperparameters: run.hyperparameters };
    if (req.format === 'onnx') {
      files.push({ name, bytes: exportOnnx(spec, weights, meta) });
    } else if (req.format === 'json') {
      const weightsFile = modelJsonWeightsName(name);
      const { json, bin } = exportModelJson(spec, weights, { ...meta, weightsFile, provenance });
      files.push({ name, bytes: new TextEncoder().encode(json) }, { name: weightsFile, bytes: bin });
    } else if (req.format === 'html') {
      files.push({ name, bytes: sharePage(store, run, d, snapshot, spec, weights) });
    } else {
      files.push(...pytorchProject(run, d, weights, provenance));
    }
  }
  return { files: files.map((f) => ({ name: f.name, bytes: f.bytes.length, base64: Buffer.from(f.bytes).toString('base64') })) };
}

/** The page of a snapshot, with the snapshot's test accuracy under its title when it was evaluated. */
function sharePage(store: Store, run: RunRow, d: DatasetRow, snapshot: { id: number; epoch: number }, spec: ModelSpec, weights: Float32Array): Uint8Array {
  const evaluation = store.evaluations(run.id).filter((e) => e.snapshotId === snapshot.id && e.datasetId === d.id && e.split !== 'train').at(-1);
  try {
    return exportHtml({
      spec, weights, producer: ENGINE_VERSION, script: sharePageScript(),
      run: { id: run.id, name: run.name, snapshotId: snapshot.id, epoch: snapshot.epoch },
      dataset: { name: d.name, classNames: d.classNames },
      summary: evaluation ? `${evaluation.split} accuracy ${(100 * evaluation.accuracy).toFixed(1)} % on ${evaluation.count} images` : '',
    }, (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'));
  } catch (e) {
    if (e instanceof HtmlExportTooLarge) {
      throw new ServiceError('bad_request', `run ${run.id}: ${e.message}`, { limit: { name: 'htmlExportBytes', actual: e.bytes, limit: HTML_EXPORT_MAX_BYTES } });
    }
    throw e;
  }
}

/** The project's files: the run's split, the dataset's own files, and the engine's loss and
 *  gradients on the first training images for verify.py (training mode, dropout off). */
function pytorchProject(run: RunRow, d: DatasetRow, weights: Float32Array, provenance: Record<string, unknown>): ExportFile[] {
  const h = run.hyperparameters;
  const files = datasetFiles(d.source, d.format);
  const split = seededSplit(d.trainCount, h.validationSplit, h.seed);
  const indices = Array.from(split.train.subarray(0, Math.min(VERIFY_IMAGES, split.train.length)));
  const cache = readCache(d.cacheFile);
  const size = d.shape[0] * d.shape[1] * d.shape[2];
  const x = new Float32Array(indices.length * size);
  indices.forEach((j, i) => { for (let k = 0; k < size; k++) x[i * size + k] = cache.train.images[j * size + k]! / 255; });
  const labels = indices.map((j) => cache.train.labels[j]!);
  // dropout has no parameters: without it the layout is the same and the gradient deterministic
  const model = buildModel({ ...run.spec, layers: run.spec.layers.filter((l) => l.type !== 'dropout') }, { kernels: resolveKernels('fast') });
  model.values.set(weights);
  const { loss } = model.lossAndGradients(x, labels, indices.length, { inputGradient: false, labelSmoothing: h.labelSmoothing });
  return exportPytorchProject({
    spec: run.spec, weights, hyperparameters: h,
    dataset: { name: d.name, shape: d.shape, classNames: d.classNames, trainCount: d.trainCount, testCount: d.testCount, files },
    validation: split.validation,
    verify: { indices, loss, gradients: model.grads.slice() },
    provenance,
  });
}
