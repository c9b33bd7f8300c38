/**
 * Every write path survives a failing write, in the same process, one class of fault per test:
 * the write throws what better-sqlite3 throws for a full disk, a damaged page or a library locked
 * too long. The run pauses (or the command is refused) with the reason in words, nothing already
 * committed is lost, and once the fault is gone a resume completes — bit-identical to a run that
 * never failed. (disk-full.test.ts fills a real disk; these reach each path deterministically.)
 */
import { readdirSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HyperparameterInput } from '../contract/index.js';
import type { Store } from '../db/store.js';
import { readTrainerState } from '../../src-engine/index.js';
import { SAMPLE_DATASET_NAME, type Service } from './service.js';
import { countRows, failWritesWhile, MLP_SPEC, openService, pausedRun, QUICK, tempDir } from './testing.js';

const FAULTS = {
  full: { code: 'SQLITE_FULL', message: 'database or disk is full', words: /^the disk is full: free space and resume \(/ },
  damaged: { code: 'SQLITE_CORRUPT', message: 'database disk image is malformed', words: /^the library file is damaged \(SQLITE_CORRUPT: database disk image is malformed\): close CNN Studio everywhere, keep a copy of the library file, then run "cnn-studio check" for what to do/ },
  busy: { code: 'SQLITE_BUSY', message: 'database is locked', words: /^another process kept the library locked for more than 5 seconds: resume when the other process is done/ },
  io: { code: 'SQLITE_IOERR_WRITE', message: 'disk I/O error', words: /^the disk could not be read or written \(SQLITE_IOERR_WRITE: disk I\/O error\): check the disk, then resume/ },
} as const;
type Fault = keyof typeof FAULTS;

/** Makes `store[method]` throw `fault` on the calls `when` picks (counted from 1), until restored. */
function inject<K extends keyof Store>(store: Store, method: K, fault: Fault, when: (call: number) => boolean = () => true): { restore: () => void } {
  const original = store[method] as (...args: unknown[]) => unknown;
  let calls = 0;
  (store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
    if (when(++calls)) throw new Database.SqliteError(FAULTS[fault].message, FAULTS[fault].code);
    return original.apply(store, args);
  };
  return { restore: () => void ((store as unknown as Record<string, unknown>)[method] = original) };
}

let dir: ReturnType<typeof tempDir>;
let service: Service;
let datasetId: number;

beforeAll(async () => {
  dir = tempDir();
  // flushIntervalMs 0: each batch row is written as it comes, so the flush path is reached deterministically
  service = await openService(dir.path, { flushIntervalMs: 0 });
  datasetId = service.datasets.find(SAMPLE_DATASET_NAME).id;
});
afterAll(async () => {
  await service?.close();
  dir?.remove();
});

const H: HyperparameterInput = { ...QUICK, epochs: 3 };
const bytes = (w: Float32Array) => Buffer.from(w.buffer, w.byteOffset, w.byteLength);
const finalWeights = (runId: number) => bytes(readTrainerState(service.store.latestSnapshot(runId)!.state).weights);

let straight: Buffer | null = null;
/** The final weights of H's run trained without a fault, once. */
async function straightWeights(): Promise<Buffer> {
  if (!straight) {
    const r = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: H });
    expect((await service.runs.waitFor(r.id)).status).toBe('completed');
    straight = finalWeights(r.id);
  }
  return straight;
}

/** The run's committed part: epochs and snapshots (batch rows after the last snapshot are a resume's to rewrite). */
const committed = (runId: number) => {
  const d = service.runs.detail(runId, true);
  return { epochs: d.epochs.map((e) => e.epoch), snapshots: d.snapshots.map((s) => [s.id, s.epoch, s.kind]), lastStep: d.snapshots.at(-1)?.step ?? 0 };
};

/** Resumes with the fault gone: completes with the weights of a run that never failed. */
async function resumesToTheEnd(runId: number): Promise<void> {
  service.runs.resume(runId);
  const done = await service.runs.waitFor(runId);
  expect([done.status, done.error]).toEqual(['completed', null]);
  const d = service.runs.detail(runId, true);
  expect(d.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
  expect(d.batches.map((b) => b.step)).toEqual(Array.from({ length: 36 }, (_, i) => i + 1));
  expect(finalWeights(runId).equals(await straightWeights())).toBe(true);
  expect(service.store.integrityCheck()).toBe('ok');
}

describe('a write that fails during training pauses the run with the reason; a resume completes once it is fixed', () => {
  for (const fault of ['full', 'damaged', 'busy', 'io'] as const) {
    it(`the epoch 2 commit fails (${FAULTS[fault].code}): paused, epoch 1 kept, resumes bit-identically`, async () => {
      const injected = inject(service.store, 'commitEpoch', fault, (call) => call === 2);
      const run = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: H });
      const paused = await service.runs.waitFor(run.id);
      injected.restore();
      expect(paused.status).toBe('paused');
      expect(paused.error).toMatch(FAULTS[fault].words);
      expect(paused.error).toMatch(/\(writing epoch 2's metrics and snapshot failed; everything saved before it is kept\)$/);
      expect(committed(run.id)).toMatchObject({ epochs: [1], snapshots: [[expect.any(Number), 1, 'epoch']] });
      expect(service.store.integrityCheck()).toBe('ok');
      await resumesToTheEnd(run.id);
    });
  }

  it('a batch-metric flush fails (disk full): paused with the reason, what was committed stays', async () => {
    const injected = inject(service.store, 'insertBatches', 'full', (call) => call === 15);
    const run = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: H });
    const paused = await service.runs.waitFor(run.id);
    injected.restore();
    expect(paused.status).toBe('paused');
    expect(paused.error).toMatch(/^the disk is full: free space and resume \(writing batch metrics failed; everything saved before it is kept\)$/);
    // 12 batches per epoch: flush 15 is in epoch 2, after epoch 1's commit
    expect(committed(run.id)).toMatchObject({ epochs: [1], snapshots: [[expect.any(Number), 1, 'epoch']] });
    await resumesToTheEnd(run.id);
  });

  it('the pause snapshot cannot be written (disk full): paused all the same, from what was committed before', async () => {
    const injected = inject(service.store, 'insertSnapshot', 'full');
    const runId = await pausedRun(service, datasetId);
    injected.restore();
    const paused = service.runs.summary(runId);
    expect(paused.status).toBe('paused');
    expect(paused.error).toMatch(/^the disk is full: free space and resume \(writing the pause snapshot failed; everything saved before it is kept\)$/);
    expect(committed(runId).snapshots).toEqual([]);
    service.runs.resume(runId);
    expect((await service.runs.waitFor(runId)).status).toBe('completed');
    expect(service.runs.detail(runId, true).epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(service.store.integrityCheck()).toBe('ok');
  });

  it('the disk stays full for the status too: the run shows paused with the reason, resume is refused in words, and succeeds once space is back', async () => {
    let full = false;
    const disk = failWritesWhile(service.store, () => full);
    const run = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: H });
    // from epoch 1's end on, the disk takes nothing more
    const off = service.on('runProgress', (e) => e.runId === run.id && e.kind === 'epoch' && (full = true));
    const paused = await service.runs.waitFor(run.id);
    off();
    expect([paused.status, paused.error]).toEqual(['paused', expect.stringMatching(/^the disk is full: free space and resume \(/)]);
    // the row still says running; what everyone is told is the status that could not be written
    expect(service.store.getRun(run.id)!.status).toBe('running');
    expect(service.runs.list({}).find((r) => r.id === run.id)?.status).toBe('paused');
    const refused = await service.call('resumeRun', { id: run.id });
    expect(refused).toEqual({ ok: false, error: { code: 'storage', message: 'the disk is full: free space and resume' } });
    expect(committed(run.id)).toMatchObject({ epochs: [1] });
    full = false;
    disk.restore();
    await resumesToTheEnd(run.id);
  });

  it('a status still unwritten when the process closes: the next start finds the run interrupted and resumes it to the end', async () => {
    const local = tempDir();
    try {
      const first = await openService(local.path);
      let full = false;
      failWritesWhile(first.store, () => full);
      const run = first.runs.start({ datasetId: first.datasets.find(SAMPLE_DATASET_NAME).id, spec: MLP_SPEC, hyperparameters: H });
      first.on('runProgress', (e) => e.kind === 'epoch' && (full = true));
      expect((await first.runs.waitFor(run.id)).status).toBe('paused');
      await first.close(); // tries the status once more: still full
      const raw = new Database(`${local.path}/studio.sqlite`, { readonly: true });
      expect(raw.prepare('SELECT status FROM runs WHERE id = ?').pluck().get(run.id)).toBe('running');
      raw.close();
      const second = await openService(local.path);
      try {
        expect(second.startup.interrupted).toEqual([run.id]);
        second.runs.resume(run.id);
        expect((await second.runs.waitFor(run.id)).status).toBe('completed');
        expect(second.runs.detail(run.id, false).epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
        expect(second.store.integrityCheck()).toBe('ok');
      } finally {
        await second.close();
      }
    } finally {
      local.remove();
    }
  });
});

describe('a write a command asks for fails: refused with the reason, nothing half-made', () => {
  it('startRun: no run row', async () => {
    const before = countRows(service, 'runs');
    const injected = inject(service.store, 'insertRun', 'full');
    const r = await service.call('startRun', { datasetId, spec: MLP_SPEC, hyperparameters: H });
    injected.restore();
    expect(r).toEqual({ ok: false, error: { code: 'storage', message: 'the disk is full: free space and start the run again' } });
    expect(countRows(service, 'runs')).toBe(before);
  });

  it('import bookkeeping: no dataset row, and the cache file the import wrote is removed', async () => {
    const before = countRows(service, 'datasets');
    const files = readdirSync(service.cacheDir).sort();
    // a new dataset (a subset of the sample, as an archive would give): its cache file is new
    const source = await subsetFolder();
    const injected = inject(service.store, 'insertDatasetOnce', 'full');
    const r = await service.call('importDataset', { path: source, name: 'subset' });
    injected.restore();
    expect(r).toEqual({ ok: false, error: { code: 'storage', message: 'the disk is full: free space and import again (nothing was kept)' } });
    expect(countRows(service, 'datasets')).toBe(before);
    expect(readdirSync(service.cacheDir).sort()).toEqual(files);
    const again = await service.call('importDataset', { path: source, name: 'subset' });
    expect(again.ok && again.value.alreadyImported).toBe(false);
    expect(countRows(service, 'datasets')).toBe(before + 1);
  });

  it('evaluation bookkeeping: no evaluation row', async () => {
    const run = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...H, epochs: 1 } });
    await service.runs.waitFor(run.id);
    const before = countRows(service, 'evaluations');
    const injected = inject(service.store, 'insertEvaluation', 'full');
    const r = await service.call('evaluateRun', { runId: run.id });
    injected.restore();
    expect(r).toEqual({ ok: false, error: { code: 'storage', message: 'the disk is full: free space and evaluate again' } });
    expect(countRows(service, 'evaluations')).toBe(before);
    expect((await service.call('evaluateRun', { runId: run.id })).ok).toBe(true);
  });
});

/** A folder of 20 sample images per class for two classes (PNG), written once. */
async function subsetFolder(): Promise<string> {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const root = `${dir.path}/subset`;
  const thumbs = await service.exec('getThumbnails', { datasetId, split: 'train', indices: Array.from({ length: 60 }, (_, i) => i) });
  for (const t of thumbs.filter((x) => x.label < 2)) {
    mkdirSync(`${root}/${t.className.replace('/', '-')}`, { recursive: true });
    writeFileSync(`${root}/${t.className.replace('/', '-')}/${t.index}.png`, Buffer.from(t.base64, 'base64'));
  }
  return root;
}
