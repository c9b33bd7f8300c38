/**
 * Crash safety: a real `cnn-studio train` process is killed with SIGKILL in the middle of its second
 * epoch. The next start marks the run interrupted, the database passes its integrity check, resume
 * continues from the epoch-1 snapshot, and the final weights equal, bit for bit, those of a run that
 * was never interrupted.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { SAMPLE_DATASET_NAME } from '../service/service.js';
import { openService, tempDir } from '../service/testing.js';
import { weightsFromState } from './run-job.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = tempDir();
afterAll(() => dir.remove());

// The reference net on reference kernels: slow enough (about a second per epoch here) to be killed mid-epoch.
const TRAIN_ARGS = ['--epochs', '3', '--limit', '400', '--batch-size', '20', '--seed', '11', '--val-split', '0.1', '--progress-every', '1', '--kernels', 'reference'];

it('kill -9 mid-epoch, restart, resume: bit-identical final weights', async () => {
  const db = join(dir.path, 'studio.sqlite');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', '--db', db, '--json', 'train', '--dataset', SAMPLE_DATASET_NAME, '--model', 'reference', ...TRAIN_ARGS], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  let runId = -1;
  let killedAt: { epoch: number; batch: number } | null = null;
  for await (const line of createInterface({ input: child.stdout })) {
    const msg = JSON.parse(line) as { type: string; runId?: number; kind?: string; epoch?: number; batch?: number };
    if (msg.type === 'runStatus') runId = msg.runId!;
    if (msg.type === 'runProgress' && msg.kind === 'batch' && msg.epoch === 2 && msg.batch! >= 3) {
      // Let the 250 ms metric flush write some of epoch 2's batch rows: the resume must discard them.
      await new Promise((r) => setTimeout(r, 300));
      killedAt = { epoch: msg.epoch, batch: msg.batch! };
      child.kill('SIGKILL');
      break;
    }
    if (msg.type === 'result') break;
  }
  const exit = await exited;
  expect(exit.signal, `the child should have been killed mid-run; stderr: ${stderr}`).toBe('SIGKILL');
  expect(killedAt).not.toBeNull();

  const service = await openService(dir.path);
  try {
    expect(service.startup.interrupted).toEqual([runId]);
    expect(service.startup.integrity).toBe('ok');
    const before = service.runs.detail(runId, true);
    expect(before.status).toBe('interrupted');
    expect(before.snapshots.map((s) => s.epoch)).toEqual([1]);
    expect(before.epochs.map((e) => e.epoch)).toEqual([1]);
    expect(before.batches.some((b) => b.epoch === 2)).toBe(true);

    service.runs.resume(runId);
    const resumed = await service.runs.waitFor(runId);
    expect(resumed.status).toBe('completed');
    const after = service.runs.detail(runId, true);
    expect(after.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(after.batches.map((b) => b.step)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));

    const straight = service.runs.start({
      datasetId: before.datasetId, spec: before.spec, hyperparameters: before.hyperparameters,
    });
    expect((await service.runs.waitFor(straight.id)).status).toBe('completed');
    const a = weightsFromState(service.store.latestSnapshot(runId)!.state).weights;
    const b = weightsFromState(service.store.latestSnapshot(straight.id)!.state).weights;
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
