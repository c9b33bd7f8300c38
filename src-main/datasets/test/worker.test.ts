import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetImportError, type ImportProgress, bundledSamplePath, importDataset } from '../index.js';
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
    const started = Date.now();
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
    expect(Date.now() - started).toBeLessThan(5000);
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
