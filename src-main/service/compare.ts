/** Comparing runs: their epoch curves on one axis, the hyperparameters and layers that differ, per-class scores. */
import { describeLayer, inferShapes } from '../../src-engine/index.js';
import type { CompareResponse, ModelSpec } from '../contract/index.js';
import type { Store } from '../db/store.js';
import { alignedRows, differingRows, type StackLayer } from './architecture-diff.js';
import type { DatasetLibrary } from './datasets.js';
import type { RunManager } from './runs.js';

export function compareRuns(store: Store, runsOf: RunManager, datasets: DatasetLibrary, ids: number[]): CompareResponse {
  const runs = ids.map((id) => runsOf.row(id));
  const runIds = runs.map((r) => r.id);
  const epochsByRun = store.epochsOfRuns(runIds);
  const maxEpoch = Math.max(0, ...[...epochsByRun.values()].map((rows) => rows.reduce((m, r) => Math.max(m, r.epoch), 0)));
  const epochs = Array.from({ length: maxEpoch }, (_, i) => i + 1);
  const series: CompareResponse['series'] = {};
  for (const r of runs) {
    const byEpoch = new Map(epochsByRun.get(r.id)!.map((row) => [row.epoch, row]));
    const col = (f: (row: NonNullable<ReturnType<typeof byEpoch.get>>) => number | null) => epochs.map((e) => {
      const row = byEpoch.get(e);
      return row ? f(row) : null;
    });
    series[r.id] = {
      trainLoss: col((x) => x.trainLoss), trainAccuracy: col((x) => x.trainAccuracy), valLoss: col((x) => x.valLoss),
      valAccuracy: col((x) => x.valAccuracy), learningRate: col((x) => x.learningRate),
    };
  }
  const flat = runs.map((r) => flatten({ ...r.hyperparameters, dataset: r.datasetName }));
  const paths = [...new Set(flat.flatMap((f) => [...f.keys()]))].sort();
  const hyperparameterDiffs = paths
    .map((path) => ({ path, values: flat.map((f) => (f.has(path) ? f.get(path) : null)) }))
    .filter((d) => new Set(d.values.map((v) => JSON.stringify(v))).size > 1);
  const architectureDiffs = differingRows(alignedRows(runs.map((r) => stackOf(r.spec))));
  const inputDiff = new Set(runs.map((r) => r.spec.inputShape.join('×')));
  const evals = store.latestEvaluations(runIds);
  const classNames = datasets.row(runs[0]!.datasetId).classNames;
  const perClass = classNames.map((className, c) => {
    const pick = (f: 'f1' | 'precision' | 'recall') => runs.map((r) => evals.get(r.id)?.perClass[c]?.[f] ?? null);
    return { className, f1: pick('f1'), precision: pick('precision'), recall: pick('recall') };
  });
  return {
    runs: runs.map((r) => ({ id: r.id, name: r.name, status: r.status, specHash: r.specHash, datasetId: r.datasetId })),
    epochs, series, hyperparameterDiffs, architectureDiffs,
    sameArchitecture: new Set(runs.map((r) => r.specHash)).size === 1 || (architectureDiffs.length === 0 && inputDiff.size === 1),
    perClass,
    testAccuracy: runs.map((r) => evals.get(r.id)?.accuracy ?? null),
  };
}

/** A model's layers as the architecture tables show them: words, output shape, parameters. */
export function stackOf(spec: ModelSpec): StackLayer[] {
  const report = inferShapes(spec);
  return spec.layers.map((layer, i) => {
    const shape = report.layers[i];
    return { type: layer.type, text: shape ? `${describeLayer(layer)} → ${shape.outputShape.join('×')} (${shape.params} params)` : describeLayer(layer) };
  });
}

export function flatten(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, value);
  }
  return out;
}
