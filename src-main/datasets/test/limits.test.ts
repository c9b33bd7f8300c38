/**
 * Sizes before allocation: every input that turns small bytes into big memory (or disk) is refused
 * at its limit, from what its header declares and again from what really arrives, with a message
 * that says the number and the limit — and nothing is left behind in the cache folder.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../src-engine/rng.js';
import { extractArchive } from '../archive.js';
import { DEFAULT_IMPORT_LIMITS, DatasetImportError, type ImportOptions, type ImportProgress, importDataset } from '../index.js';
import { formatBytes } from '../limits.js';
import {
  blackPng, encodeImage, gzippedZeros, idxBytes, randomPixels, removeTempDirs, sampleSubset, tarGzBytes, tarHeader, tempDir,
  writeIdxPair, writeImage, zipBytes, zipWithDeclaredSize,
} from './fixtures.js';

afterAll(removeTempDirs);

const MiB = 1024 * 1024;

/** Imports, expects a DatasetImportError, and checks that the cache folder holds nothing afterwards. */
async function refused(source: string, options: ImportOptions = {}, events?: ImportProgress[]): Promise<DatasetImportError> {
  const cacheDir = tempDir();
  const error = await importDataset(source, cacheDir, options, { onProgress: (p) => events?.push(p) }).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(DatasetImportError);
  expect(readdirSync(cacheDir)).toEqual([]);
  return error as DatasetImportError;
}

async function grayFolder(root: string, perClass: number, h = 8, w = 8): Promise<void> {
  const rng = new Rng(8);
  for (const cls of ['a', 'b']) for (let i = 0; i < perClass; i++) await writeImage(join(root, cls, `${i}.png`), randomPixels(rng, h, w, 1), h, w, 1);
}

describe('images: sizes read from headers, before decoding', () => {
  it('a 16000×16000 PNG of ~250 KB is skipped from its header with the numbers and the limit; the other images import', async () => {
    const root = tempDir();
    await grayFolder(root, 3);
    const huge = blackPng(16000, 16000);
    expect(huge.length).toBeLessThan(300_000);
    writeFileSync(join(root, 'a', 'huge.png'), huge);
    const cacheDir = tempDir();
    const result = await importDataset(root, cacheDir);
    expect(result.trainCount).toBe(6);
    expect(result.lint.corrupt).toEqual([{ file: join('a', 'huge.png'), reason: '16000×16000 pixels (256,000,000), more than the limit of 50,000,000 pixels per image' }]);
    expect(readdirSync(cacheDir)).toEqual([`${result.contentHash}.cnnds`]);
  });

  it('maxImagePixels and maxImageFileBytes can be lowered: 8×8 images over 60 pixels are skipped, so are files over the byte limit', async () => {
    const root = tempDir();
    await grayFolder(root, 2);
    const error = await refused(root, { limits: { maxImagePixels: 60 } });
    expect(error.code).toBe('no_images');
    expect(error.message).toBe(`${root}: none of the 4 files is a decodable PNG/JPEG image (e.g. ${join('a', '0.png')}: 8×8 pixels (64), more than the limit of 60 pixels per image)`);

    // a 64×64 noise PNG (~4 KB) among 8×8 ones (~160 bytes), with a limit of 1,000 bytes per image file
    await writeImage(join(root, 'b', 'big.png'), randomPixels(new Rng(3), 64, 64, 1), 64, 64, 1);
    const bigBytes = statSync(join(root, 'b', 'big.png')).size;
    const result = await importDataset(root, tempDir(), { limits: { maxImageFileBytes: 1000 } });
    expect(result.trainCount).toBe(4);
    expect(result.lint.corrupt).toEqual([{ file: join('b', 'big.png'), reason: `${formatBytes(bigBytes)}, more than the limit of 1,000 bytes per image file` }]);
    expect(result.lint.mixedSizes.files).toEqual([]); // skipped before its size was even read
  });

  it('the decoded size of the whole dataset (images × H × W × C) is refused before any image is decoded', async () => {
    const root = tempDir();
    await grayFolder(root, 5);
    const events: ImportProgress[] = [];
    const error = await refused(root, { limits: { maxDatasetBytes: 600 } }, events);
    expect(error.code).toBe('too_large');
    expect(error.message).toBe(`${root}: 10 images of 8×8×1 decode to 640 bytes, more than the limit of 600 bytes per dataset`);
    expect(error.limit).toEqual({ name: 'maxDatasetBytes', actual: 640, limit: 600 });
    expect(events.some((e) => e.phase === 'decoding')).toBe(false); // refused from the headers alone
    // resizeTo counts: 10 images resized to 4096×4096 would be 160 MiB
    const resized = await refused(root, { resizeTo: [4096, 4096], limits: { maxDatasetBytes: 100 * MiB } });
    expect(resized.message).toBe(`${root}: 10 images of 4096×4096×1 decode to 160.0 MiB (167,772,160 bytes), more than the limit of 100.0 MiB (104,857,600 bytes) per dataset`);
  });
});

describe('zip: declared sizes checked up front, real bytes counted while inflating', () => {
  it('a 100 KB zip inflating to 100 MiB (a bomb, at the default limits) is refused by its compression ratio before extracting', async () => {
    const bomb = join(tempDir(), 'bomb.zip');
    writeFileSync(bomb, zipBytes([{ name: 'a/bomb.png', data: Buffer.alloc(100 * MiB) }]));
    expect(statSync(bomb).size).toBeLessThan(200_000);
    const error = await refused(bomb);
    expect(error.code).toBe('too_large');
    expect(error.message).toMatch(/^bomb\.zip: the entries declare 100\.0 MiB \(104,857,600 bytes\) from \d+\.\d KiB \([\d,]+ bytes\), 10\d\d× compressed, more than the limit of 100× \(a zip bomb\?\)$/);
    expect(error.limit?.name).toBe('maxCompressionRatio');
  });

  it('an entry that inflates past what its directory declares is stopped at the declared size, not written out', async () => {
    const dir = tempDir();
    const liar = join(dir, 'liar.zip');
    writeFileSync(liar, zipWithDeclaredSize('a/x.png', Buffer.alloc(20 * MiB), 1000));
    const target = join(dir, 'out');
    const error = await extractArchive(liar, target, DEFAULT_IMPORT_LIMITS).then(() => null, (e: unknown) => e);
    expect((error as DatasetImportError).message).toBe("liar.zip: entry 'a/x.png' inflates to more than the 1,000 bytes its directory declares (a corrupt or hostile archive)");
    expect(statSync(join(target, 'a', 'x.png')).size).toBeLessThanOrEqual(1000);
    const viaImport = await refused(liar);
    expect(viaImport.code).toBe('unsupported');
  });

  it('per-entry size, total size and entry count are refused from the central directory, before any entry is written', async () => {
    const dir = tempDir();
    const archive = join(dir, 'three.zip');
    writeFileSync(archive, zipBytes(['a/1.png', 'a/2.png', 'b/3.png'].map((name) => ({ name, data: Buffer.alloc(400, 1) }))));
    const cases: [Partial<typeof DEFAULT_IMPORT_LIMITS>, string][] = [
      [{ maxArchiveEntryBytes: 300 }, "three.zip: entry 'a/1.png' declares 400 bytes uncompressed, more than the limit of 300 bytes per entry"],
      [{ maxArchiveTotalBytes: 1000 }, 'three.zip: the entries declare more than 1,000 bytes uncompressed, the limit per archive'],
      [{ maxArchiveEntries: 2 }, 'three.zip: more than 2 entries, the limit per archive'],
    ];
    for (const [limits, message] of cases) {
      const target = join(dir, `out-${Object.keys(limits)[0]}`);
      const error = await extractArchive(archive, target, { ...DEFAULT_IMPORT_LIMITS, ...limits }).then(() => null, (e: unknown) => e);
      expect((error as DatasetImportError).message).toBe(message);
      expect((error as DatasetImportError).code).toBe('too_large');
      expect(readdirSync(target)).toEqual([]); // nothing extracted
      expect((await refused(archive, { limits })).message).toBe(message);
    }
  });
});

describe('tar / tar.gz: streamed, each header checked as it comes', () => {
  it('a tar.gz entry declaring 8 GiB (octal) or 16 TiB (GNU base-256) is refused by the per-entry limit, not a RangeError', async () => {
    const dir = tempDir();
    const octal = join(dir, 'octal.tar.gz');
    writeFileSync(octal, gzipSync(Buffer.concat([tarHeader('a/x.png', '77777777777\0'), Buffer.alloc(4096)])));
    const octalError = await refused(octal);
    expect(octalError.code).toBe('too_large');
    expect(octalError.message).toBe("octal.tar.gz: entry 'a/x.png' declares 8.0 GiB (8,589,934,591 bytes) uncompressed, more than the limit of 1.0 GiB (1,073,741,824 bytes) per entry");

    const base256 = Buffer.alloc(12);
    base256[0] = 0x80;
    base256[6] = 0x10; // 0x10 << 40 = 16 TiB
    const gnu = join(dir, 'gnu.tar.gz');
    writeFileSync(gnu, gzipSync(Buffer.concat([tarHeader('a/x.png', base256), Buffer.alloc(4096)])));
    expect((await refused(gnu)).message).toBe("gnu.tar.gz: entry 'a/x.png' declares 16384.0 GiB (17,592,186,044,416 bytes) uncompressed, more than the limit of 1.0 GiB (1,073,741,824 bytes) per entry");
  });

  it('bytes no header declares (a 200 MiB link entry of zeros) are counted as they inflate and refused by the ratio', async () => {
    const bomb = join(tempDir(), 'bomb.tar.gz');
    // a symbolic-link entry carries no file, so nothing declares its data: only counting finds it
    writeFileSync(bomb, gzippedZeros(200, tarHeader('a/link', (200 * MiB).toString(8).padStart(11, '0') + '\0', '2')));
    const error = await refused(bomb);
    expect(error.code).toBe('too_large');
    expect(error.message).toMatch(/^bomb\.tar\.gz: the entries inflate to 6\d\.\d MiB \([\d,]+ bytes\) from [\d.]+ KiB \([\d,]+ bytes\), \d+× compressed, more than the limit of 100× \(a zip bomb\?\)$/);
  });

  it('whatever follows the end-of-archive blocks (here 500 MiB of gzipped zeros) is not read', async () => {
    const rng = new Rng(6);
    const entries = [];
    for (const name of ['a/0.png', 'a/1.png', 'b/0.png', 'b/1.png']) entries.push({ name, data: await encodeImage(randomPixels(rng, 4, 4, 1), 4, 4, 1, 'png') });
    const archive = join(tempDir(), 'trailing.tar.gz');
    writeFileSync(archive, Buffer.concat([tarGzBytes(entries), gzippedZeros(500)]));
    const result = await importDataset(archive, tempDir());
    expect(result.trainCount).toBe(4);
  });
});

describe('IDX: headers checked against the file and the limits before the data is read', () => {
  const imagesAndLabels = (dir: string, dims: number[], data: Uint8Array, labels: Uint8Array): void => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), idxBytes(dims, data));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxBytes([labels.length], labels));
  };

  it('0×0 images → bad_idx; 0 images → empty; a header announcing 60,000 images over 100 → truncated, from the file length', async () => {
    const zero = tempDir();
    imagesAndLabels(zero, [5, 0, 0], new Uint8Array(0), new Uint8Array(5));
    const zeroError = await refused(zero);
    expect(zeroError.code).toBe('bad_idx');
    expect(zeroError.message).toBe('train-images-idx3-ubyte: the header says images of 0×0 pixels; an image needs at least 1×1');

    const none = tempDir();
    imagesAndLabels(none, [0, 28, 28], new Uint8Array(0), new Uint8Array(0));
    const noneError = await refused(none);
    expect(noneError.code).toBe('empty');
    expect(noneError.message).toBe('train-images-idx3-ubyte: the header says 0 images (an empty IDX file)');

    const { images, labels } = sampleSubset(100);
    const lying = tempDir();
    imagesAndLabels(lying, [60000, 28, 28], images, labels);
    expect((await refused(lying)).message).toBe('train-images-idx3-ubyte: truncated data: header says 60000 images of 28×28 (47040000 bytes) but only 78400 bytes follow');
  });

  it('headers declaring more than the limits → too_large with the numbers: 4e9 images, 10000×10000 images', async () => {
    const many = tempDir();
    imagesAndLabels(many, [4_000_000_000, 28, 28], new Uint8Array(784), new Uint8Array(1));
    const manyError = await refused(many);
    expect(manyError.code).toBe('too_large');
    expect(manyError.message).toBe('train-images-idx3-ubyte: the header says 4000000000 images of 28×28, 2920.6 GiB (3,136,000,000,000 bytes), more than the limit of 1.0 GiB (1,073,741,824 bytes) per dataset');

    const wide = tempDir();
    imagesAndLabels(wide, [1, 10000, 10000], new Uint8Array(100), new Uint8Array(1));
    expect((await refused(wide)).message).toBe('train-images-idx3-ubyte: images of 10000×10000 pixels (100,000,000), more than the limit of 50,000,000 pixels per image');

    const dir = tempDir();
    const { images, labels } = sampleSubset(50);
    writeIdxPair(dir, 'train', images, labels);
    expect((await refused(dir, { limits: { maxFileBytes: 10_000 } })).message).toBe('train-images-idx3-ubyte: 38.3 KiB (39,216 bytes), more than the limit of 9.8 KiB (10,000 bytes) per file');
    expect((await refused(dir, { limits: { maxDatasetBytes: 30_000 } })).message).toBe('train-images-idx3-ubyte: the header says 50 images of 28×28, 38.3 KiB (39,200 bytes), more than the limit of 29.3 KiB (30,000 bytes) per dataset');
  });

  it('a gzipped IDX whose stream holds 300 MiB behind a header of 10 images stops inflating at the announced length', async () => {
    const dir = tempDir();
    const header = idxBytes([10, 28, 28], new Uint8Array(0));
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzippedZeros(300, header));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(idxBytes([10], new Uint8Array(10))));
    const error = await refused(dir);
    expect(error.code).toBe('bad_idx');
    expect(error.message).toBe('train-images-idx3-ubyte.gz: more data than the 10 images of 28×28 the header announces (inflating stopped at 7.7 KiB (7,856 bytes))');
  });

  it('resizeTo on IDX is counted before resizing: 300 images to 4096×4096 → too_large', async () => {
    const dir = tempDir();
    const { images, labels } = sampleSubset(300);
    writeIdxPair(dir, 'train', images, labels);
    const error = await refused(dir, { resizeTo: [4096, 4096] });
    expect(error.message).toBe(`${dir}: 300 images converted to 4096×4096×1 would be 4.7 GiB (5,033,164,800 bytes), more than the limit of 1.0 GiB (1,073,741,824 bytes) per dataset`);
  });
});

describe('CSV: allocation bounded by what the file can hold and by the limits', () => {
  const row = (label: number, pixels: number, value = 0): string => [label, ...new Array<number>(pixels).fill(value)].join(',');

  it('a first row of 10,000 pixels followed by 10 million empty lines imports: rows are allocated by what the file can hold, not by its line count', async () => {
    const dir = tempDir();
    const path = join(dir, 'sparse.csv');
    writeFileSync(path, `${row(0, 10_000)}${'\n'.repeat(10_000_000)}${row(1, 10_000, 1)}\n`);
    const result = await importDataset(path, tempDir());
    expect(result.shape).toEqual([100, 100, 1]);
    expect(result.trainCount).toBe(2);
  });

  it('file bytes, rows past the dataset limit, and columns past the pixel limit → too_large', async () => {
    const dir = tempDir();
    const path = join(dir, 'data.csv');
    writeFileSync(path, Array.from({ length: 300 }, (_, i) => row(i % 2, 4, i % 256)).join('\n') + '\n');
    const fileError = await refused(path, { limits: { maxFileBytes: 1000 } });
    expect(fileError.message).toMatch(/^data\.csv: [\d.]+ KiB \([\d,]+ bytes\), more than the limit of 1,000 bytes per file$/);
    const rowsError = await refused(path, { limits: { maxDatasetBytes: 1000 } });
    expect(rowsError.message).toBe('data.csv line 251: more than 250 rows of 4 pixels, more than the limit of 1,000 bytes per dataset');
    expect(rowsError.limit).toEqual({ name: 'maxDatasetBytes', actual: 1004, limit: 1000 });
    const wide = join(dir, 'wide.csv');
    writeFileSync(wide, `${row(0, 400)}\n${row(1, 400)}\n`);
    expect((await refused(wide, { limits: { maxImagePixels: 100 } })).message).toBe('wide.csv line 1: 400 pixel columns, more than an image of the limit of 100 pixels holds (×3 for RGB)');
    expect((await refused(wide, { limits: { maxImagePixels: 300 } })).message).toBe('wide.csv: images of 20×20 pixels (400), more than the limit of 300 pixels per image');
  });
});
