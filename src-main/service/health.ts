/**
 * A run's training health as the views and the CLI read it: its stored measurements (a fork's
 * begin with its ancestors' up to the snapshot it was forked from, as its epochs continue theirs),
 * the step whose loss went non-finite, and the engine's findings over them with a suggested fix.
 */
import { healthFindings } from '../../src-engine/inspect/index.js';
import type { RunHealthRecord, RunHealthResponse } from '../contract/index.js';
import type { Store } from '../db/store.js';
import type { RunManager } from './runs.js';

/** The run's own records and, before them, its ancestors' up to each fork point (oldest first). */
function lineageRecords(store: Store, runId: number, upToStep = Infinity, depth = 0): RunHealthRecord[] {
  const run = store.getRun(runId);
  if (!run) return [];
  const own = store.health(runId).filter((r) => r.step <= upToStep).map((r) => ({ ...r, runId }));
  // a fork's steps continue its parent's from the snapshot's step (stepOffset); a deleted parent leaves none
  const inherited = run.parentRunId !== null && depth < 100 ? lineageRecords(store, run.parentRunId, Math.min(run.stepOffset, upToStep), depth + 1) : [];
  return [...inherited, ...own];
}

export function runHealth(store: Store, runs: RunManager, runId: number): RunHealthResponse {
  const run = runs.row(runId);
  const records = lineageRecords(store, run.id);
  const failure = store.healthFailure(run.id);
  return {
    runId: run.id,
    every: run.hyperparameters.healthEvery,
    records,
    failure,
    findings: healthFindings(records, { learningRate: run.hyperparameters.optimizer.learningRate, failure }),
  };
}
