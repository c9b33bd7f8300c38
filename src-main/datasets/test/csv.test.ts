import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetImportError, importDataset, readCache } from '../index.js';
import { removeTempDirs, sampleSubset, tempDir } from './fixtures.js';

afterAll(removeTempDirs);

async function importError(promise: Promise<unknown>): Promise<DatasetImportError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(DatasetImportError);
  return error as DatasetImportError;
}

/** rows of [label, ...pixels] → CSV text, optionally with the MNIST-CSV header. */
function csv(rows: (number | string)[][], header = false): string {
  const lines = rows.map((r) => r.join(','));
  if (header) lines.unshift(['label', ...Array.from({ length: rows[0]!.length - 1 }, (_, i) => `pixel${i}`)].join(','));
  return lines.join('\n') + '\n';
}

function rows(count: number, pixels: number, classes = 3): number[][] {
  return Array.from({ length: count }, (_, i) => [i % classes, ...Array.from({ length: pixels }, (_, p) => (i * 31 + p * 7) % 256)]);
}

describe('CSV (MNIST-CSV layout)', () => {
  it('MNIST-CSV train + test files with header, 300 Fashion-MNIST rows → identical tensors to the IDX sample subset', async () => {
    const dir = tempDir();
    const { images, labels } = sampleSubset(300);
    const toRows = (from: number, to: number): number[][] => Array.from({ length: to - from }, (_, k) => [labels[from + k]!, ...images.subarray((from + k) * 784, (from + k + 1) * 784)]);
    writeFileSync(join(dir, 'fashion-mnist_train.csv'), csv(toRows(0, 250), true));
    writeFileSync(join(dir, 'fashion-mnist_test.csv'), csv(toRows(250, 300), true).replace(/\n/g, '\r\n'));
    const result = await importDataset(dir, tempDir());
    expect(result.format).toBe('csv');
    expect(result.shape).toEqual([28, 28, 1]);
    expect(result.trainCount).toBe(250);
    expect(result.testCount).toBe(50);
    const cached = readCache(result.cacheFile);
    expect(Buffer.from(cached.train.images).equals(Buffer.from(images.subarray(0, 250 * 784)))).toBe(true);
    expect(Buffer.from(cached.test!.images).equals(Buffer.from(images.subarray(250 * 784, 300 * 784)))).toBe(true);
    expect(Array.from(cached.test!.labels)).toEqual(Array.from(labels.subarray(250, 300)));
  });

  it('a single file without header; 3·s² columns → square RGB; floats in 0..1 are scaled by 255; classes.txt names the classes', async () => {
    const dir = tempDir();
    const file = join(dir, 'rgb.csv');
    writeFileSync(file, csv(rows(6, 2 * 2 * 3)));
    writeFileSync(join(dir, 'classes.txt'), 'red\ngreen\nblue\n');
    const rgb = await importDataset(file, tempDir());
    expect(rgb.shape).toEqual([2, 2, 3]);
    expect(rgb.classNames).toEqual(['red', 'green', 'blue']);
    expect(rgb.name).toBe('rgb');
    expect(rgb.testCount).toBe(0);

    const floats = join(tempDir(), 'floats.csv');
    writeFileSync(floats, csv([[0, 0, 0.5, 1, 0.25], [1, 1, 0, 0.2, 0.75]]));
    const scaled = readCache((await importDataset(floats, tempDir())).cacheFile);
    expect(Array.from(scaled.train.images)).toEqual([0, 128, 255, 64, 255, 0, 51, 191]);
  });

  it('the shape option reads non-square rows (2×3×1)', async () => {
    const file = join(tempDir(), 'wide.csv');
    writeFileSync(file, csv(rows(4, 6, 2)));
    const error = await importError(importDataset(file, tempDir()));
    expect(error.code).toBe('bad_csv');
    expect(error.message).toBe('wide.csv: 6 pixel columns are neither a square grayscale (s²) nor a square RGB (3·s²) image; give the shape option');
    const result = await importDataset(file, tempDir(), { shape: [2, 3, 1] });
    expect(result.shape).toEqual([2, 3, 1]);
  });

  it('ragged rows → bad_csv naming the file and line', async () => {
    const file = join(tempDir(), 'ragged.csv');
    const data = rows(5, 4);
    data[3]!.pop();
    writeFileSync(file, csv(data, true));
    const error = await importError(importDataset(file, tempDir()));
    expect(error.code).toBe('bad_csv');
    expect(error.message).toBe('ragged.csv line 5: 4 columns, expected 5 like the first data row (ragged rows)');
    expect(error.file).toBe(file);
  });

  it('non-numeric cells → bad_csv naming line and column', async () => {
    const file = join(tempDir(), 'words.csv');
    const data: (number | string)[][] = rows(5, 4);
    data[2]![3] = 'abc';
    writeFileSync(file, csv(data));
    const error = await importError(importDataset(file, tempDir()));
    expect(error.code).toBe('bad_csv');
    expect(error.message).toBe("words.csv line 3, column 4: 'abc' is not a number");
  });

  it('non-integer labels → bad_csv', async () => {
    const file = join(tempDir(), 'labels.csv');
    const data: (number | string)[][] = rows(5, 4);
    data[1]![0] = '2.5';
    writeFileSync(file, csv(data));
    const error = await importError(importDataset(file, tempDir()));
    expect(error.code).toBe('bad_csv');
    expect(error.message).toBe("labels.csv line 2: label '2.5' is not a non-negative integer");
    data[1]![0] = 'cat';
    writeFileSync(file, csv(data));
    const word = await importError(importDataset(file, tempDir()));
    expect(word.message).toBe("labels.csv line 2, column 1: label 'cat' is not a number");
  });

  it('pixel values outside 0..255 → bad_csv', async () => {
    const file = join(tempDir(), 'range.csv');
    const data = rows(3, 4);
    data[2]![2] = 300;
    writeFileSync(file, csv(data));
    const error = await importError(importDataset(file, tempDir()));
    expect(error.message).toBe('range.csv line 3, column 3: pixel value 300 outside 0..255');
  });
});
