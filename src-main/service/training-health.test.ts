/**
 * Training health through the service, on real workers and the real sample dataset: measured every
 * healthEvery steps, streamed as runHealth events, stored with the batch rows (exactly what was
 * streamed), continued across a pause and resume, inherited by a fork up to its snapshot, turned
 * into findings; a loss that goes non-finite names the first layer that did, in the run's error
 * and in its health.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelSpec, RunHealthEvent } from '../contract/index.js';
import { SAMPLE_DATASET_NAME, type Service } from './service.js';
import { openService, QUICK, SLOW, SLOW_SPEC, tempDir, SMALL_CONV_SPEC } from './testing.js';

let dir: ReturnType<typeof tempDir>;
let service: Service;
let datasetId: number;

/** Starts a run and collects its runHealth events until it ends. */
async function trained(spec: ModelSpec, hyperparameters: Record<string, unknown>) {
  const events: RunHealthEvent[] = [];
  const run = service.runs.start({ datasetId, spec, hyperparameters: { ...QUICK, ...hyperparameters } });
  const off = service.on('runHealth', (e) => {
    if (e.runId === run.id) events.push(e);
  });
  const done = await service.runs.waitFor(run.id);
  off();
  return { run: done, events };
}

beforeAll(async () => {
  dir = tempDir();
  service = await openService(dir.path);
  datasetId = service.datasets.find(SAMPLE_DATASET_NAME).id;
}, 60_000);

afterAll(async () => {
  await service?.close();
  dir?.remove();
});

describe('training health', () => {
  let runId: number;
  let streamed: RunHealthEvent[];

  beforeAll(async () => {
    // 300 training images in batches of 25: 12 steps an epoch, 24 in all; a measurement every 3
    const { run, events } = await trained(SMALL_CONV_SPEC, { epochs: 2, healthEvery: 3, progressEvery: 5 });
    expect(run.status).toBe('completed');
    runId = run.id;
    streamed = events;
  }, 120_000);

  it('every 3rd step, per layer: streamed as events and stored as streamed, with a batch row at each', async () => {
    expect(streamed.map((e) => e.step)).toEqual([3, 6, 9, 12, 15, 18, 21, 24]);
    expect(streamed.map((e) => [e.epoch, e.batch, e.batchesPerEpoch])).toEqual([[1, 3], [1, 6], [1, 9], [1, 12], [2, 3], [2, 6], [2, 9], [2, 12]].map((p) => [...p, 12]));
    const r = await service.exec('runHealth', { runId });
    expect(r.every).toBe(3);
    // stored exactly as streamed, in the run's own name (NaN would not survive JSON; none here)
    expect(r.records).toEqual(streamed.map(({ batchesPerEpoch: _b, ...rest }) => rest));
    const steps = new Set(service.store.batches(runId).map((b) => b.step));
    for (const e of streamed) expect(steps.has(e.step)).toBe(true);
  });

  it('the measures are per layer and in range: norms and ratios where there are weights, dead ReLUs of the conv', () => {
    for (const e of streamed) {
      expect(e.layers.map((l) => l.label)).toEqual(['conv2d #1', 'maxpool2d #2', 'flatten #3', 'dense #4']);
      const [conv, pool, flat, dense] = e.layers;
      for (const l of [conv!, dense!]) {
        expect(l.gradientNorm).toBeGreaterThan(0);
        expect(l.updateRatio).toBeGreaterThan(0);
        expect(l.updateRatio).toBeLessThan(1);
      }
      for (const l of [pool!, flat!]) expect([l.gradientNorm, l.updateRatio]).toEqual([null, null]);
      expect(conv!.deadFraction).toBeGreaterThanOrEqual(0);
      expect(conv!.deadFraction).toBeLessThanOrEqual(1);
      expect(dense!.deadFraction).toBeNull(); // the logits are no ReLU's
      // a ReLU's output is never negative: its mean is at least 0, and it varies
      expect(conv!.activationMean).toBeGreaterThanOrEqual(0);
      expect(conv!.activationStd).toBeGreaterThan(0);
      for (const l of e.layers) expect(l.nonFinite).toBe(0);
    }
  });

  it('a fork starts from its parent\'s measurements up to the snapshot it was forked from, then its own', async () => {
    const epoch1 = service.runs.detail(runId, false).snapshots.find((s) => s.kind === 'epoch' && s.epoch === 1)!;
    const fork = await service.exec('forkRun', { runId, snapshotId: epoch1.id, hyperparameters: { epochs: 1 } });
    const done = await service.runs.waitFor(fork.id);
    expect(done.status).toBe('completed');
    const r = await service.exec('runHealth', { runId: fork.id });
    // the parent's up to the snapshot's step 12, then the fork's: its steps follow the parent's
    expect(r.records.map((x) => [x.runId, x.step])).toEqual([[runId, 3], [runId, 6], [runId, 9], [runId, 12], [fork.id, 15], [fork.id, 18], [fork.id, 21], [fork.id, 24]]);
    expect(r.records.find((x) => x.runId === fork.id)!.epoch).toBe(2);
  }, 120_000);

  it('a rewind to a snapshot (a resume after a crash) forgets the measurements after it', async () => {
    const epoch1 = service.runs.detail(runId, false).snapshots.find((s) => s.kind === 'epoch' && s.epoch === 1)!;
    service.store.rewindTo(runId, epoch1);
    expect((await service.exec('runHealth', { runId })).records.map((x) => x.step)).toEqual([3, 6, 9, 12]);
  });
});

it('paused and resumed: the measurements continue from the pause, none twice, none missing', async () => {
  const run = service.runs.start({ datasetId, spec: SLOW_SPEC, hyperparameters: { ...SLOW, epochs: 2, healthEvery: 2 } });
  const streamed: number[] = [];
  let pausing: Promise<unknown> | null = null;
  const off = service.on('runHealth', (e) => {
    if (e.runId !== run.id) return;
    streamed.push(e.step);
    pausing ??= service.runs.pause(run.id);
  });
  expect((await service.runs.waitFor(run.id)).status).toBe('paused');
  await pausing;
  const pausedAt = service.runs.detail(run.id, false).snapshots.at(-1)!.step;
  await service.runs.resume(run.id);
  expect((await service.runs.waitFor(run.id)).status).toBe('completed');
  off();
  const stored = (await service.exec('runHealth', { runId: run.id })).records.map((r) => r.step);
  const all = Array.from({ length: 12 }, (_, i) => 2 * (i + 1)); // 24 steps
  expect(stored).toEqual(all);
  expect(streamed).toEqual(all);
  expect(stored.some((s) => s > pausedAt)).toBe(true);
}, 180_000);

it('too high a learning rate (sgd 3): the conv layer\'s ReLUs die, and the finding says so with its fix', async () => {
  const { run } = await trained(SMALL_CONV_SPEC, { epochs: 1, healthEvery: 1, optimizer: { type: 'sgd', learningRate: 3, momentum: 0.9 } });
  const r = await service.exec('runHealth', { runId: run.id });
  // sgd at 3 with momentum: within the epoch one big step pushes every conv unit below zero for every image
  const dead = r.findings.find((f) => f.rule === 'dead-relu');
  expect(dead, JSON.stringify(r.findings)).toMatchObject({ severity: 'error', layer: 'conv2d #1', message: 'conv2d #1: 100% of ReLUs dead since epoch 1 (0 for every image of the batch)' });
  expect(dead!.fix).toMatch(/^lower the learning rate or use He init/);
}, 120_000);

it('a loss that goes non-finite names the first layer whose output did: in the run\'s error and its health', async () => {
  // a step of 1e30 makes the next logits overflow float32
  const { run } = await trained(SMALL_CONV_SPEC, { epochs: 1, healthEvery: 5, optimizer: { type: 'sgd', learningRate: 1e30, momentum: 0 } });
  expect(run.status).toBe('failed');
  expect(run.error).toMatch(/^loss became (NaN|Infinity) at epoch 1, batch 2 \(dense #4's output went non-finite first\)/);
  const r = await service.exec('runHealth', { runId: run.id });
  expect(r.failure).toMatchObject({ step: 2, epoch: 1, batch: 2, layer: { index: 3, label: 'dense #4', what: 'output' } });
  expect(r.findings[0]).toMatchObject({ rule: 'non-finite', severity: 'error', layer: 'dense #4' });
  expect(r.findings[0]!.message).toMatch(/dense #4's output went non-finite first/);
  expect(r.findings[0]!.fix).toMatch(/^lower the learning rate \(1e\+30 → \S+\) and fork from an earlier snapshot$/);
}, 120_000);
