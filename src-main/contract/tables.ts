/**
 * The runs table and a comparison as CSV: the same columns for the CLI (`runs --csv`, `compare
 * --csv`) and the renderer's downloads. Pure.
 */
import { csvTable } from './csv.js';
import { finalEpoch, type CompareResponse, type RunSummary } from './types.js';

export const RUNS_CSV_COLUMNS = [
  'id', 'name', 'status', 'dataset', 'parent', 'sweep', 'tags', 'epochs_done', 'epochs', 'parameters', 'optimizer', 'learning_rate',
  'batch_size', 'best_val_accuracy', 'last_val_accuracy', 'test_accuracy', 'train_seconds', 'created_at', 'notes',
] as const;

export function runsCsv(runs: readonly RunSummary[]): string {
  return csvTable(RUNS_CSV_COLUMNS, runs.map((r) => [
    r.id, r.name, r.status, r.datasetName, r.parentRunId, r.sweepId, r.tags.join(';'), r.epochsDone, finalEpoch(r), r.totalParams,
    r.hyperparameters.optimizer.type, r.hyperparameters.optimizer.learningRate, r.hyperparameters.batchSize, r.bestValAccuracy,
    r.lastValAccuracy, r.testAccuracy, r.trainSeconds, r.createdAt, r.notes,
  ]));
}

/**
 * A comparison in long form: one row per run and epoch with its curves, then the settings that
 * differ and per-class F1 as rows of their own kind (`section` says which), so one file opens in a
 * spreadsheet and filters by section.
 */
export function comparisonCsv(c: CompareResponse): string {
  const rows: unknown[][] = [];
  for (const r of c.runs) {
    const s = c.series[r.id]!;
    c.epochs.forEach((epoch, i) => {
      if (s.trainLoss[i] === null && s.valAccuracy[i] === null) return;
      rows.push(['epoch', r.id, epoch, null, s.trainLoss[i], s.trainAccuracy[i], s.valLoss[i], s.valAccuracy[i], s.learningRate[i]]);
    });
  }
  for (const d of c.hyperparameterDiffs) d.values.forEach((v, k) => rows.push(['setting', c.runs[k]!.id, null, d.path, typeof v === 'object' && v !== null ? JSON.stringify(v) : v]));
  for (const p of c.perClass) p.f1.forEach((f, k) => rows.push(['class_f1', c.runs[k]!.id, null, p.className, f]));
  c.testAccuracy.forEach((a, k) => rows.push(['test_accuracy', c.runs[k]!.id, null, null, a]));
  return csvTable(['section', 'run', 'epoch', 'key', 'train_loss_or_value', 'train_accuracy', 'val_loss', 'val_accuracy', 'learning_rate'], rows);
}
