/**
 * Crash safety: a real `cnn-studio train` process is killed with SIGKILL in the middle of an epoch,
 * after at least one epoch's snapshot and with batch rows of the next epoch already written. The
 * next start marks the run interrupted, the database passes its integrity check, resume discards the
 * rows after the last snapshot and continues from it, and the final weights equal, bit for bit,
 * those of a run that was never interrupted.
 *
 * No timing: the test waits for that state in the database (read-only, beside the writer), freezes
 * the process with SIGSTOP so the state cannot move on, reads what is committed, then SIGKILLs it.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { SAMPLE_DATASET_NAME } from '../service/service.js';
import { openService, tempDir } from '../service/testing.js';
import { readTrainerState } from '../../src-engine/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = tempDir();
afterAll(() => dir.remove());

// The reference net on reference kernels, 20 batches an epoch: the 250 ms metric flush writes rows
// of an epoch before its end, which is the state the kill must catch.
const EPOCHS = 4;
const TRAIN_ARGS = ['--epochs', String(EPOCHS), '--limit', '400', '--batch-size', '20', '--seed', '11', '--val-split', '0.1', '--progress-every', '1', '--kernels', 'reference'];

/** Committed state of the run: its epoch snapshots and the newest epoch that has batch rows. */
function committed(db: Database.Database): { runId: number; snapshots: number; newestBatchEpoch: number } | null {
  try {
    const run = db.prepare('SELECT id FROM runs ORDER BY id DESC LIMIT 1').pluck().get() as number | undefined;
    if (run === undefined) return null;
    const snapshots = db.prepare("SELECT COUNT(*) FROM snapshots WHERE run_id = ? AND kind = 'epoch'").pluck().get(run) as number;
    const newestBatchEpoch = (db.prepare('SELECT MAX(epoch) FROM batch_metrics WHERE run_id = ?').pluck().get(run) as number | null) ?? 0;
    return { runId: run, snapshots, newestBatchEpoch };
  } catch {
    return null; // the schema is not there yet
  }
}

it('kill -9 mid-epoch, restart, resume: bit-identical final weights', async () => {
  const db = join(dir.path, 'studio.sqlite');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', '--db', db, '--json', 'train', '--dataset', SAMPLE_DATASET_NAME, '--model', 'reference', ...TRAIN_ARGS], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let exitedEarly = false;
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (code, signal) => {
    exitedEarly = signal === null;
    r({ code, signal });
  }));

  // Wait for: ≥ 1 epoch snapshot, and rows of the epoch after the last one. Then freeze the writer.
  let reader: Database.Database | null = null;
  let seen: ReturnType<typeof committed> = null;
  while (!exitedEarly) {
    reader ??= (() => { try { return new Database(db, { readonly: true, fileMustExist: true }); } catch { return null; } })();
    seen = reader ? committed(reader) : null;
    if (seen && seen.snapshots >= 1 && seen.snapshots < EPOCHS && seen.newestBatchEpoch > seen.snapshots) {
      child.kill('SIGSTOP');
      break;
    }
    await new Promise((r) => setImmediate(r));
  }
  expect(exitedEarly, `the child finished before it could be killed mid-epoch; stderr: ${stderr}`).toBe(false);
  const frozen = committed(reader!)!; // nothing moves now
  reader!.close();
  child.kill('SIGKILL');
  const exit = await exited;
  expect(exit.signal, `stderr: ${stderr}`).toBe('SIGKILL');
  const runId = frozen.runId;
  const done = frozen.snapshots;

  const service = await openService(dir.path);
  try {
    expect(service.startup.interrupted).toEqual([runId]);
    expect(service.startup.integrity).toBe('ok');
    const before = service.runs.detail(runId, true);
    expect(before.status).toBe('interrupted');
    expect(before.snapshots.map((s) => s.epoch)).toEqual(Array.from({ length: done }, (_, i) => i + 1));
    expect(before.epochs.map((e) => e.epoch)).toEqual(Array.from({ length: done }, (_, i) => i + 1));
    expect(before.batches.some((b) => b.epoch === done + 1)).toBe(true);

    service.runs.resume(runId);
    const resumed = await service.runs.waitFor(runId);
    expect(resumed.status).toBe('completed');
    const after = service.runs.detail(runId, true);
    expect(after.epochs.map((e) => e.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1));
    expect(after.batches.map((b) => b.step)).toEqual(Array.from({ length: EPOCHS * 20 }, (_, i) => i + 1));

    const straight = service.runs.start({
      datasetId: before.datasetId, spec: before.spec, hyperparameters: before.hyperparameters,
    });
    expect((await service.runs.waitFor(straight.id)).status).toBe('completed');
    const a = readTrainerState(service.store.latestSnapshot(runId)!.state).weights;
    const b = readTrainerState(service.store.latestSnapshot(straight.id)!.state).weights;
    expect(a.length).toBe(before.totalParams);
    expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(true);
    // and the per-epoch metrics agree too
    const m1 = after.epochs.map((e) => [e.trainLoss, e.valAccuracy]);
    const m2 = service.runs.detail(straight.id, true).epochs.map((e) => [e.trainLoss, e.valAccuracy]);
    expect(m1).toEqual(m2);
  } finally {
    await service.close();
  }
});
