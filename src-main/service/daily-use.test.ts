/**
 * The service as people use it day to day: live numbers in the first epoch, snapshots within an
 * epoch, the best epoch named by its metric, the runs table told when an evaluation lands, class
 * names given and renamed, deletes that say what else goes, the runs table filtered and sorted,
 * sweeps and the semantic diff of two runs. Real workers, a real SQLite file, the bundled sample.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LibraryEvent, RunBatchEvent } from '../contract/index.js';
import { SAMPLE_DATASET_NAME, type Service } from './service.js';
import { countRows, MLP_SPEC, openService, QUICK, tempDir } from './testing.js';

let dir: ReturnType<typeof tempDir>;
let service: Service;
let datasetId: number;

beforeAll(async () => {
  dir = tempDir();
  service = await openService(dir.path);
  datasetId = service.datasets.find(SAMPLE_DATASET_NAME).id;
});
afterAll(async () => {
  await service?.close();
  dir?.remove();
});

const DROPOUT_SPEC = { ...MLP_SPEC, layers: [MLP_SPEC.layers[0]!, MLP_SPEC.layers[1]!, { type: 'dropout' as const, rate: 0.25 }, MLP_SPEC.layers[2]!] };

describe('training view numbers', () => {
  it('batch events of epoch 1 carry the training time so far and images/s', async () => {
    const batches: RunBatchEvent[] = [];
    const off = service.on('runProgress', (e) => void (e.kind === 'batch' && batches.push(e)));
    const run = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 1 } });
    await service.runs.waitFor(run.id);
    off();
    const mine = batches.filter((b) => b.runId === run.id);
    expect(mine.length).toBe(12); // 300 training images in batches of 25, progress every batch
    expect(mine.every((b) => b.epoch === 1)).toBe(true);
    for (let i = 1; i < mine.length; i++) expect(mine[i]!.wallTime).toBeGreaterThan(mine[i - 1]!.wallTime);
    expect(mine[0]!.wallTime).toBeGreaterThan(0);
    // a rate as soon as two batches have been timed, all within epoch 1
    expect(mine.slice(1).every((b) => b.imagesPerSecond !== null && b.imagesPerSecond > 0)).toBe(true);
  });

  it('snapshots within an epoch every N minutes: one kept (the newest), with the batch it stopped before', async () => {
    const seen: { batch: number; interval: { epoch: number; batch: number; kind: string }[] }[] = [];
    let runId = 0;
    const off = service.on('runProgress', (e) => {
      if (e.kind !== 'batch' || e.runId !== runId || e.epoch !== 1) return;
      // messages arrive in order: the snapshot taken after batch k-1 is recorded before batch k's event
      seen.push({ batch: e.batch, interval: service.store.snapshots(runId).filter((s) => s.kind === 'interval') });
    });
    // 1e-9 minutes: every batch is "due", so the test waits on no clock
    runId = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 2, snapshotMinutes: 1e-9 } }).id;
    await service.runs.waitFor(runId);
    off();
    expect(seen.map((s) => s.batch)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    for (const s of seen.slice(1)) expect(s.interval.map((x) => [x.kind, x.epoch, x.batch])).toEqual([['interval', 0, s.batch - 1]]);
    // at the end only the epoch snapshots remain: an interval snapshot is replaced by the next snapshot
    expect(service.runs.detail(runId, false).snapshots.map((s) => [s.kind, s.epoch, s.batch])).toEqual([['epoch', 1, 0], ['epoch', 2, 0]]);
  });

  it('the best epoch names the metric it was chosen by', async () => {
    const byLoss = await service.runs.waitFor(service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: QUICK }).id);
    expect(byLoss.bestMonitor).toBe('valLoss');
    const byAccuracy = await service.runs.waitFor(service.runs.start({
      datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 3, earlyStopping: { patience: 5, monitor: 'valAccuracy' } },
    }).id);
    expect(byAccuracy.bestMonitor).toBe('valAccuracy');
    const epochs = service.runs.detail(byAccuracy.id, false).epochs;
    const best = Math.max(...epochs.map((e) => e.valAccuracy!));
    expect(epochs.find((e) => e.epoch === byAccuracy.bestEpoch)!.valAccuracy).toBe(best);
    expect(byAccuracy.bestValAccuracy).toBe(best);
  });
});

describe('the library is tidy-able', () => {
  let baseId: number;

  beforeAll(async () => {
    baseId = (await service.runs.waitFor(service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 1 }, name: 'base' }).id)).id;
  });

  it('an evaluation tells subscribers the run\'s new test accuracy (libraryChanged), so a table needs no reload', async () => {
    const events: LibraryEvent[] = [];
    const off = service.on('libraryChanged', (e) => void events.push(e));
    const e = await service.evaluations.evaluate({ runId: baseId });
    off();
    const update = events.find((x) => x.kind === 'run' && x.id === baseId && x.change === 'updated');
    expect(update?.run?.testAccuracy).toBe(e.accuracy);
    // an evaluation on the training images is not the run's test accuracy
    await service.evaluations.evaluate({ runId: baseId, split: 'train' });
    expect(service.runs.summary(baseId).testAccuracy).toBe(e.accuracy);
  });

  it('renamed classes are what evaluations and thumbnails say from then on', async () => {
    const before = service.datasets.get(datasetId).classNames;
    const renamed = before.map((n, i) => (i === 9 ? 'Boot' : n));
    expect(service.datasets.update({ id: datasetId, classNames: renamed }).classNames).toEqual(renamed);
    const e = await service.evaluations.evaluate({ runId: baseId });
    expect(e.perClass[9]!.className).toBe('Boot');
    const labels = [...Array(1000).keys()];
    const thumbs = await service.exec('getThumbnails', { datasetId, split: 'test', indices: labels.slice(0, 50) });
    expect(thumbs.filter((t) => t.label === 9).every((t) => t.className === 'Boot')).toBe(true);
    service.datasets.update({ id: datasetId, classNames: before });
  });

  it('listRuns filters by tag and words, sorts by parameters and best accuracy', async () => {
    const wide = await service.runs.waitFor(service.runs.start({
      datasetId, spec: { ...MLP_SPEC, layers: [MLP_SPEC.layers[0]!, { type: 'dense', units: 32, activation: 'relu' }, MLP_SPEC.layers[2]!] },
      hyperparameters: { ...QUICK, epochs: 1 }, name: 'wide one', tags: ['wide'], notes: 'twice the units',
    }).id);
    service.runs.update({ id: baseId, tags: ['narrow', ' narrow ', ''] });
    expect(service.runs.summary(baseId).tags).toEqual(['narrow']);
    expect(service.runs.list({ tag: 'WIDE' }).map((r) => r.id)).toEqual([wide.id]);
    expect(service.runs.list({ search: 'units twice' }).map((r) => r.id)).toEqual([wide.id]);
    const byParams = service.runs.list({ sort: 'params', order: 'desc' });
    expect(byParams[0]!.id).toBe(wide.id);
    for (let i = 1; i < byParams.length; i++) expect(byParams[i]!.totalParams).toBeLessThanOrEqual(byParams[i - 1]!.totalParams);
    const byAccuracy = service.runs.list({ sort: 'bestAccuracy' }).map((r) => r.bestValAccuracy).filter((a) => a !== null) as number[];
    expect(byAccuracy).toEqual([...byAccuracy].sort((a, b) => b - a));
    const all = service.runs.list({});
    expect(all.map((r) => r.id)).toEqual([...all.map((r) => r.id)].sort((a, b) => b - a)); // newest first
  });

  it('deleting a run with forks is refused naming them unless confirmed; a dataset with runs names them unless withRuns', async () => {
    const parent = await service.runs.waitFor(service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 1 }, name: 'parent' }).id);
    const fork = await service.runs.waitFor(service.runs.fork({ runId: parent.id, hyperparameters: { epochs: 1 } }).id);
    const refused = await service.call('deleteRun', { id: parent.id });
    expect(refused.ok ? null : refused.error).toMatchObject({ code: 'in_use', detail: { usedBy: [{ id: fork.id, name: fork.name }] } });
    expect((await service.call('deleteRun', { id: parent.id, confirmed: true })).ok).toBe(true);
    expect(service.runs.summary(fork.id).parentRunId).toBeNull();

    const runs = countRows(service, 'runs');
    const inUse = await service.call('deleteDataset', { id: datasetId });
    expect(inUse.ok ? null : inUse.error.code).toBe('in_use');
    expect(inUse.ok ? 0 : inUse.error.detail?.usedBy?.length).toBe(runs);
    expect(countRows(service, 'runs')).toBe(runs);
  });
});

describe('experiments', () => {
  let baseId: number;

  beforeAll(async () => {
    baseId = (await service.runs.waitFor(service.runs.start({ datasetId, spec: DROPOUT_SPEC, hyperparameters: { ...QUICK, epochs: 1 }, name: 'sweep base' }).id)).id;
  });

  it('a grid sweep queues every combination as a run, tagged, and marks the best by validation accuracy', async () => {
    const sweep = await service.exec('startSweep', { runId: baseId, kind: 'grid', space: { learningRate: [0.01, 0.1], dropoutRate: [0, 0.5] }, maxRuns: 4, parallel: 2 });
    expect(sweep.runs).toHaveLength(4);
    await Promise.all(sweep.runs.map(({ run }) => service.runs.waitFor(run.id)));
    const done = await service.exec('getSweep', { id: sweep.id });
    expect(done.runs.map((r) => r.values)).toEqual([
      { learningRate: 0.01, dropoutRate: 0 }, { learningRate: 0.01, dropoutRate: 0.5 }, { learningRate: 0.1, dropoutRate: 0 }, { learningRate: 0.1, dropoutRate: 0.5 },
    ]);
    expect(done.runs.every(({ run }) => run.status === 'completed' && run.tags.includes(`sweep ${sweep.id}`) && run.hyperparameters.threads === 1)).toBe(true);
    const best = done.runs.reduce((a, b) => (b.run.bestValAccuracy! > a.run.bestValAccuracy! ? b : a));
    expect(done.bestRunId).toBe(best.run.id);
    expect(service.runs.list({ sweepId: sweep.id })).toHaveLength(4);
  });

  it('a grid over the cap, or a dropout sweep on a model without dropout, is refused and queues nothing', async () => {
    const runs = countRows(service, 'runs');
    const over = await service.call('startSweep', { runId: baseId, kind: 'grid', space: { learningRate: [0.1, 0.01, 0.001], batchSize: [16, 32] }, maxRuns: 5 });
    expect(over.ok ? '' : over.error.message).toBe('the grid has 6 combinations, more than the cap of 5 runs; list fewer values or raise the cap');
    const plain = (await service.runs.waitFor(service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 1 } }).id)).id;
    const noDropout = await service.call('startSweep', { runId: plain, kind: 'random', space: { dropoutRate: { min: 0, max: 0.5 } }, maxRuns: 2 });
    expect(noDropout.ok ? '' : noDropout.error.message).toMatch(/has no dropout layer/);
    expect(countRows(service, 'runs')).toBe(runs + 1);
  });

  it('a seeded random search draws the same values again for the same seed', async () => {
    const { randomOf } = await import('./sweeps.js');
    const space = { learningRate: { min: 1e-4, max: 1e-1 }, batchSize: [16, 32, 64] };
    expect(randomOf(space, 5, 42)).toEqual(randomOf(space, 5, 42));
    expect(randomOf(space, 5, 42)).not.toEqual(randomOf(space, 5, 43));
    for (const v of randomOf(space, 20, 1)) {
      expect(v.learningRate as number).toBeGreaterThanOrEqual(1e-4);
      expect(v.learningRate as number).toBeLessThanOrEqual(1e-1);
    }
  });

  it('the diff of two runs aligns an inserted layer, lists the settings, and counts the images that flipped', async () => {
    const plain = (await service.runs.waitFor(service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 1, optimizer: { learningRate: 0.05 } } }).id)).id;
    const before = await service.exec('diffRuns', { a: plain, b: baseId });
    expect(before.layers.map((r) => r.changes[1])).toEqual(['same', 'same', 'inserted', 'same']);
    expect(before.hyperparameters.find((h) => h.path === 'optimizer.learningRate')).toEqual({ path: 'optimizer.learningRate', a: 0.05, b: 0.01 });
    expect(before.evaluation).toBeNull();
    expect(before.evaluationNote).toMatch(/evaluate #\d+ and #\d+ \(on the test split\)/);
    const ea = await service.evaluations.evaluate({ runId: plain });
    const eb = await service.evaluations.evaluate({ runId: baseId });
    const d = (await service.exec('diffRuns', { a: plain, b: baseId })).evaluation!;
    expect(d.count).toBe(1000);
    // right in b and wrong in a, minus the other way round, is the change in correct answers
    expect(d.fixedCount - d.brokenCount).toBe(Math.round((eb.accuracy - ea.accuracy) * 1000));
    expect(d.fixed.every((f) => f.predictedB === f.label && f.predictedA !== f.label)).toBe(true);
    expect(d.broken.every((f) => f.predictedA === f.label && f.predictedB !== f.label)).toBe(true);
    const wrongInA = new Set(ea.misclassified.map((m) => m.index));
    expect(d.fixed.every((f) => wrongInA.has(f.index))).toBe(true);
    expect(d.perClass[3]!.f1Delta).toBeCloseTo(eb.perClass[3]!.f1 - ea.perClass[3]!.f1, 12);
  });
});
