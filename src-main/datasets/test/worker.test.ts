import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DatasetImportError, type ImportProgress, type ImportWorkerData, bundledSamplePath, importDataset, runningImports,
} from '../index.js';
import { Rng } from '../../../src-engine/rng.js';
import { randomPixels, removeTempDirs, tempDir, writeImage } from './fixtures.js';

afterAll(removeTempDirs);

const FULL = '/usr/share/datasets/fashion-mnist';
// The full set keeps the worker busy for ~1 s, long enough to abort mid-import; the sample otherwise.
const source = existsSync(join(FULL, 'train-images-idx3-ubyte.gz')) ? FULL : bundledSamplePath();

describe('import worker: progress and cancellation', () => {
  it('aborting after the first progress event terminates the worker, rejects with "cancelled" and leaves no file', async () => {
    const cacheDir = tempDir();
    const controller = new AbortController();
    const events: ImportProgress[] = [];
    const error = await importDataset(source, cacheDir, {}, {
      signal: controller.signal,
      onProgress: (p) => {
        events.push(p);
        controller.abort();
      },
    }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetImportError);
    expect((error as DatasetImportError).code).toBe('cancelled');
    expect((error as DatasetImportError).message).toBe(`${source}: import cancelled`);
    expect(events.length).toBe(1); // no progress after the abort
    expect(events[0]!.phase).toBe('scanning');
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('aborting a folder import while sharp is decoding (300 PNGs) cancels cleanly, and the next import works', async () => {
    const root = tempDir();
    const rng = new Rng(2);
    for (let i = 0; i < 300; i++) await writeImage(join(root, `c${i % 3}`, `${i}.png`), randomPixels(rng, 16, 16, 1), 16, 16, 1);
    const cacheDir = tempDir();
    const controller = new AbortController();
    let decodingSeen = false;
    const error = await importDataset(root, cacheDir, {}, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'decoding' && !decodingSeen) {
          decodingSeen = true;
          expect(p.done).toBeLessThan(300);
          controller.abort();
        }
      },
    }).then(() => null, (e: unknown) => e);
    expect((error as DatasetImportError).code).toBe('cancelled');
    expect(readdirSync(cacheDir)).toEqual([]);
    const result = await importDataset(root, cacheDir);
    expect(result.trainCount).toBe(300);
  });

  it('an already aborted signal rejects at once without starting a worker', async () => {
    const cacheDir = join(tempDir(), 'never-made');
    const error = await importDataset(source, cacheDir, {}, { signal: AbortSignal.abort() }).then(() => null, (e: unknown) => e);
    expect((error as DatasetImportError).code).toBe('cancelled');
    expect(existsSync(cacheDir)).toBe(false);
  });

  it('progress goes scanning → decoding → linting → writing, with done ≤ total', async () => {
    const events: ImportProgress[] = [];
    const result = await importDataset(bundledSamplePath(), tempDir(), {}, { onProgress: (p) => events.push(p) });
    expect(result.trainCount).toBe(5000);
    const order = ['scanning', 'decoding', 'linting', 'writing'];
    const phases = events.map((e) => order.indexOf(e.phase));
    expect(phases.every((p) => p >= 0)).toBe(true);
    for (let i = 1; i < phases.length; i++) expect(phases[i]!).toBeGreaterThanOrEqual(phases[i - 1]!);
    expect(new Set(events.map((e) => e.phase))).toEqual(new Set(order));
    for (const e of events) expect(e.done).toBeLessThanOrEqual(e.total);
  });

  it('a failed import leaves the cache folder without partial files', async () => {
    const cacheDir = tempDir();
    const error = await importDataset(join(cacheDir, 'missing'), cacheDir).then(() => null, (e: unknown) => e);
    expect((error as DatasetImportError).code).toBe('not_found');
    expect(readdirSync(cacheDir)).toEqual([]);
  });
});

/**
 * Resolves once a thread of this process is blocked in open(2) of a FIFO without a writer (Linux
 * names that kernel wait `wait_for_partner`): the state, observed, rather than a guess at how long it
 * takes to get there.
 */
async function threadBlockedOpeningFifo(): Promise<void> {
  for (;;) {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        if (readFileSync(`/proc/self/task/${tid}/wchan`, 'utf8') === 'wait_for_partner') return;
      } catch {
        // the thread ended while we looked
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const hasProcTasks = existsSync('/proc/self/task');
if (!hasProcTasks) console.log('no /proc/self/task (not Linux): the stuck-in-I/O cancel test cannot observe the blocked thread and is skipped');

describe('import worker: stuck in I/O, and how many at once', () => {
  it.skipIf(!hasProcTasks)('cancelling an import whose worker is blocked in a read that never returns rejects at once and removes its partial file; the worker is cleaned up when the read returns', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'never-written');
    execFileSync('mkfifo', [fifo]);
    // A worker that has written part of its cache file and then blocks in open(2) of a pipe nobody
    // writes to: the thread is inside a system call, where worker.terminate() cannot reach it.
    let stuck: Worker | null = null;
    const startStuckWorker = (data: ImportWorkerData): Worker => {
      stuck = new Worker(`
        const { parentPort, workerData } = require('node:worker_threads');
        const fs = require('node:fs');
        fs.writeFileSync(workerData.tempPath, 'half a cache file');
        parentPort.postMessage({ type: 'progress', progress: { phase: 'writing', done: 1, total: 2 } });
        fs.readFileSync(${JSON.stringify(fifo)});
      `, { eval: true, workerData: data });
      return stuck;
    };
    const cacheDir = tempDir();
    const controller = new AbortController();
    let started!: () => void;
    const progressed = new Promise<void>((resolve) => (started = resolve));
    const importing = importDataset(bundledSamplePath(), cacheDir, {}, { signal: controller.signal, onProgress: () => started(), startWorker: startStuckWorker });
    await progressed;
    await threadBlockedOpeningFifo();
    const partialSeen = readdirSync(cacheDir);
    controller.abort();
    const error = await importing.then(() => null, (e: unknown) => e);
    // settled while the worker is still blocked: nobody has opened the pipe for writing yet
    expect((error as DatasetImportError).code).toBe('cancelled');
    expect(partialSeen).toHaveLength(1);
    expect(partialSeen[0]).toMatch(/^\.import-\d+-t\d+-[0-9a-f]+\.partial$/);
    expect(readdirSync(cacheDir)).toEqual([]);
    expect(runningImports()).toBe(1); // the stuck worker still holds its thread, and counts

    // Let the read return: the worker then stops (terminate was asked for) and counts no more.
    const exited = once(stuck!, 'exit');
    const writer = await open(fifo, 'w');
    await writer.close();
    await exited;
    expect(runningImports()).toBe(0);
    expect(readdirSync(cacheDir)).toEqual([]);

    const result = await importDataset(bundledSamplePath(), cacheDir);
    expect(result.trainCount).toBe(5000);
    expect(readdirSync(cacheDir)).toEqual([`${result.contentHash}.cnnds`]);
  });

  it('beyond maxConcurrentImports an import is refused with "busy" naming the limit; once the running one answers, the next starts', async () => {
    const cacheDir = tempDir();
    let firstProgress!: () => void;
    const running = new Promise<void>((resolve) => (firstProgress = resolve));
    const first = importDataset(bundledSamplePath(), cacheDir, { limits: { maxConcurrentImports: 1 } }, { onProgress: () => firstProgress() });
    await running;
    const error = await importDataset(bundledSamplePath(), tempDir(), { limits: { maxConcurrentImports: 1 } }).then(() => null, (e: unknown) => e);
    expect((error as DatasetImportError).code).toBe('busy');
    expect((error as DatasetImportError).message).toBe(`${bundledSamplePath()}: 1 import is already running (or still stopping) in this process, the limit; try again when one has finished`);
    expect((error as DatasetImportError).limit).toEqual({ name: 'maxConcurrentImports', actual: 2, limit: 1 });
    await first;
    const next = await importDataset(bundledSamplePath(), cacheDir, { limits: { maxConcurrentImports: 1 } });
    expect(next.reused).toBe(true);
  });

  it('limits that are not positive numbers, or unknown, are refused before a worker starts', async () => {
    const bad = await importDataset(bundledSamplePath(), tempDir(), { limits: { maxFiles: -1 } }).then(() => null, (e: unknown) => e);
    expect((bad as DatasetImportError).message).toBe('limits.maxFiles -1: expected a positive number');
    const unknown = await importDataset(bundledSamplePath(), tempDir(), { limits: { maxPixels: 5 } as never }).then(() => null, (e: unknown) => e);
    expect((unknown as DatasetImportError).message).toMatch(/^limits\.maxPixels: no such import limit \(known: maxImageFileBytes, /);
    expect(runningImports()).toBe(0);
  });
});
