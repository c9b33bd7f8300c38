/**
 * Snapshots within an epoch make a crash lose at most that stretch: a real `cnn-studio train` with
 * `--snapshot-every` is killed with SIGKILL in the middle of an epoch right after an interval
 * snapshot; the next start marks the run interrupted, and resume continues from that batch — not
 * from the epoch's start — to final weights bit-identical to an uninterrupted run.
 *
 * No timing: the interval is so short (1e-9 minutes) that every batch is due; the test waits for
 * the state in the database (read-only, beside the writer), freezes the writer with SIGSTOP, reads
 * what is committed and then kills it.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { readTrainerState } from '../../src-engine/index.js';
import { SAMPLE_DATASET_NAME } from '../service/service.js';
import { openService, tempDir } from '../service/testing.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = tempDir();
afterAll(() => dir.remove());

const EPOCHS = 3;
const BATCHES = 20; // 400 training images in batches of 20
const TRAIN_ARGS = ['--epochs', String(EPOCHS), '--limit', '400', '--batch-size', '20', '--seed', '5', '--val-split', '0.1', '--progress-every', '1',
  '--kernels', 'reference', '--snapshot-every', '1e-9'];

/** The newest interval snapshot of the run, if it is past batch 3 of epoch 2 or later. */
function midEpoch(db: Database.Database): { runId: number; epoch: number; batch: number; step: number } | null {
  try {
    const row = db.prepare(`SELECT run_id AS runId, epoch, batch, step FROM snapshots WHERE kind = 'interval' ORDER BY id DESC LIMIT 1`).get() as
      { runId: number; epoch: number; batch: number; step: number } | undefined;
    return row && row.epoch >= 1 && row.batch >= 3 && row.batch < BATCHES - 2 ? row : null;
  } catch {
    return null; // the schema is not there yet
  }
}

it('kill -9 right after a snapshot within epoch 2: resume continues from that batch, bit-identical', async () => {
  const db = join(dir.path, 'studio.sqlite');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', '--db', db, '--json', 'train', '--dataset', SAMPLE_DATASET_NAME, '--model', 'reference', ...TRAIN_ARGS], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  let exitedEarly = false;
  const exited = new Promise<{ signal: string | null }>((r) => child.on('exit', (_code, signal) => {
    exitedEarly = signal === null;
    r({ signal });
  }));
  let reader: Database.Database | null = null;
  while (!exitedEarly) {
    reader ??= (() => { try { return new Database(db, { readonly: true, fileMustExist: true }); } catch { return null; } })();
    if (reader && midEpoch(reader)) {
      child.kill('SIGSTOP');
      break;
    }
    await new Promise((r) => setImmediate(r));
  }
  expect(exitedEarly, `the child finished before it could be killed mid-epoch; stderr: ${stderr}`).toBe(false);
  const at = midEpoch(reader!)!; // nothing moves now
  reader!.close();
  child.kill('SIGKILL');
  expect((await exited).signal).toBe('SIGKILL');

  const service = await openService(dir.path);
  try {
    expect(service.startup.interrupted).toEqual([at.runId]);
    const before = service.runs.detail(at.runId, true);
    expect(before.status).toBe('interrupted');
    const last = before.snapshots.at(-1)!;
    expect([last.kind, last.epoch, last.batch, last.step]).toEqual(['interval', at.epoch, at.batch, at.step]);
    expect(last.step).toBe(at.epoch * BATCHES + at.batch);

    service.runs.resume(at.runId);
    expect((await service.runs.waitFor(at.runId)).status).toBe('completed');
    const after = service.runs.detail(at.runId, true);
    // every batch once: the rows up to the interval snapshot were kept, the rest trained after the resume
    expect(after.batches.map((b) => b.step)).toEqual(Array.from({ length: EPOCHS * BATCHES }, (_, i) => i + 1));
    expect(after.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);

    const straight = service.runs.start({ datasetId: before.datasetId, spec: before.spec, hyperparameters: { ...before.hyperparameters, snapshotMinutes: 0 } });
    expect((await service.runs.waitFor(straight.id)).status).toBe('completed');
    const a = readTrainerState(service.store.latestSnapshot(at.runId)!.state).weights;
    const b = readTrainerState(service.store.latestSnapshot(straight.id)!.state).weights;
    expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(true);
    expect(after.epochs.map((e) => [e.trainLoss, e.valAccuracy])).toEqual(service.runs.detail(straight.id, true).epochs.map((e) => [e.trainLoss, e.valAccuracy]));
  } finally {
    await service.close();
  }
});
