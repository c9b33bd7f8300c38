/**
 * Exports of a run as bytes: ONNX or model JSON (+ its .bin) of a snapshot, or the metrics CSV. The
 * caller writes them where its user chose (CLI --out, the desktop save dialog, a browser download).
 */
import { ENGINE_VERSION, readTrainerState } from '../../src-engine/index.js';
import type { ExportRunRequest, ExportRunResponse } from '../contract/index.js';
import type { Store } from '../db/store.js';
import { exportModelJson, exportOnnx, metricsCsv, modelJsonWeightsName } from '../export/index.js';
import type { DatasetLibrary } from './datasets.js';
import { ServiceError } from './errors.js';
import type { RunManager } from './runs.js';

export function exportRun(store: Store, runs: RunManager, datasets: DatasetLibrary, req: ExportRunRequest): ExportRunResponse {
  const run = runs.row(req.runId);
  const d = datasets.row(run.datasetId);
  const name = req.fileName ?? `run-${run.id}.${req.format}`;
  const files: { name: string; bytes: Uint8Array }[] = [];
  if (req.format === 'csv') {
    files.push({ name, bytes: new TextEncoder().encode(metricsCsv(store.epochs(run.id).map((e) => ({ ...e, wallSeconds: e.wallTime })))) });
  } else {
    const snapshot = req.snapshotId !== undefined ? store.snapshot(req.snapshotId) : store.latestSnapshot(run.id);
    if (!snapshot || snapshot.runId !== run.id) throw new ServiceError('not_found', `run ${run.id} has no snapshot to export${req.snapshotId !== undefined ? ` with id ${req.snapshotId}` : ' yet'}`);
    const { spec, weights } = readTrainerState(snapshot.state);
    const meta = { name: run.name, classNames: d.classNames, producerVersion: ENGINE_VERSION };
    if (req.format === 'onnx') {
      files.push({ name, bytes: exportOnnx(spec, weights, meta) });
    } else {
      const weightsFile = modelJsonWeightsName(name);
      const provenance = { runId: run.id, snapshotId: snapshot.id, epoch: snapshot.epoch, dataset: d.name, hyperparameters: run.hyperparameters };
      const { json, bin } = exportModelJson(spec, weights, { ...meta, weightsFile, provenance });
      files.push({ name, bytes: new TextEncoder().encode(json) }, { name: weightsFile, bytes: bin });
    }
  }
  return { files: files.map((f) => ({ name: f.name, bytes: f.bytes.length, base64: Buffer.from(f.bytes).toString('base64') })) };
}
