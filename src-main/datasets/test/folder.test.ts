import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../src-engine/rng.js';
import { DatasetImportError, importDataset, readCache } from '../index.js';
import { randomPixels, removeTempDirs, tempDir, writeImage } from './fixtures.js';

afterAll(removeTempDirs);

async function importError(promise: Promise<unknown>): Promise<DatasetImportError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(DatasetImportError);
  return error as DatasetImportError;
}

/** classes × perClass grayscale PNGs of h×w with seeded random pixels; returns the pixels by path. */
async function grayFolder(root: string, classes: string[], perClass: number, h = 8, w = 8, seed = 1): Promise<Map<string, Buffer>> {
  const rng = new Rng(seed);
  const pixels = new Map<string, Buffer>();
  for (const name of classes) {
    for (let i = 0; i < perClass; i++) {
      const data = randomPixels(rng, h, w, 1);
      const path = join(root, name, `img${i}.png`);
      await writeImage(path, data, h, w, 1);
      pixels.set(path, data);
    }
  }
  return pixels;
}

describe('folder of class subfolders', () => {
  it('3 classes × 4 grayscale PNGs 8×8 → shape 8×8×1, labels by sorted folder name, pixels exact', async () => {
    const root = tempDir();
    const pixels = await grayFolder(root, ['zebra', 'ant', 'bee'], 4);
    const result = await importDataset(root, tempDir());
    expect(result.format).toBe('folder');
    expect(result.shape).toEqual([8, 8, 1]);
    expect(result.classNames).toEqual(['ant', 'bee', 'zebra']);
    expect(result.trainCount).toBe(12);
    expect(result.testCount).toBe(0);
    expect(result.countsPerClass.train).toEqual([4, 4, 4]);
    const cached = readCache(result.cacheFile);
    // files are ordered by class, then name: image 0 is ant/img0.png
    expect(Buffer.from(cached.train.images.subarray(0, 64)).equals(pixels.get(join(root, 'ant', 'img0.png'))!)).toBe(true);
    expect(Array.from(cached.train.labels)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
  });

  it('files are recognised by content: a PNG named .jpg, a JPEG named .dat import; a text file named .png, a truncated PNG and a 0-byte file are listed as corrupt and skipped', async () => {
    const root = tempDir();
    await grayFolder(root, ['a', 'b'], 3);
    const rng = new Rng(7);
    await writeImage(join(root, 'a', 'really-a-png.jpg'), randomPixels(rng, 8, 8, 1), 8, 8, 1, 'png');
    await writeImage(join(root, 'b', 'photo.dat'), randomPixels(rng, 8, 8, 1), 8, 8, 1, 'jpeg');
    writeFileSync(join(root, 'a', 'notes.png'), 'these are my notes, not an image\n');
    const good = readFileSync(join(root, 'b', 'img0.png'));
    writeFileSync(join(root, 'b', 'cut.png'), good.subarray(0, good.length - 30));
    writeFileSync(join(root, 'b', 'empty.png'), '');
    writeFileSync(join(root, 'b', '.DS_Store'), 'ignored');
    const result = await importDataset(root, tempDir());
    expect(result.trainCount).toBe(8);
    expect(result.countsPerClass.train).toEqual([4, 4]);
    expect(result.lint.corruptCount).toBe(3);
    const reasons = Object.fromEntries(result.lint.corrupt.map((c) => [c.file, c.reason]));
    expect(reasons[join('a', 'notes.png')]).toBe('not an image (a text file)');
    expect(reasons[join('b', 'cut.png')]).toBe('truncated PNG (the file ends before the image does)');
    expect(reasons[join('b', 'empty.png')]).toBe('empty file (0 bytes)');
    expect(result.lint.warnings[0]).toMatch(/^3 unreadable or non-image files skipped/);
  });

  it('mixed sizes: 2 images 10×12 among 8×8 are skipped by default, resized with mixedSizes "resize", refused with "refuse"', async () => {
    const root = tempDir();
    await grayFolder(root, ['a', 'b'], 3);
    const rng = new Rng(9);
    await writeImage(join(root, 'a', 'big.png'), randomPixels(rng, 10, 12, 1), 10, 12, 1);
    await writeImage(join(root, 'b', 'big.png'), randomPixels(rng, 10, 12, 1), 10, 12, 1);

    const skipped = await importDataset(root, tempDir());
    expect(skipped.trainCount).toBe(6);
    expect(skipped.lint.mixedSizes.majority).toEqual([8, 8]);
    expect(skipped.lint.mixedSizes.action).toBe('skipped');
    expect(skipped.lint.mixedSizes.files).toEqual([
      { file: join('a', 'big.png'), reason: '10×12, majority is 8×8' },
      { file: join('b', 'big.png'), reason: '10×12, majority is 8×8' },
    ]);

    const resized = await importDataset(root, tempDir(), { mixedSizes: 'resize' });
    expect(resized.trainCount).toBe(8);
    expect(resized.shape).toEqual([8, 8, 1]);
    expect(resized.lint.mixedSizes.action).toBe('resized');
    expect(resized.lint.mixedSizes.files.length).toBe(2);

    const resizedAll = await importDataset(root, tempDir(), { resizeTo: [4, 5] });
    expect(resizedAll.shape).toEqual([4, 5, 1]);
    expect(resizedAll.trainCount).toBe(8);
    expect(resizedAll.lint.mixedSizes).toEqual({ majority: [8, 8], files: skipped.lint.mixedSizes.files, action: 'resized' });

    const error = await importError(importDataset(root, tempDir(), { mixedSizes: 'refuse' }));
    expect(error.code).toBe('mixed_sizes');
    expect(error.message).toBe(`${root}: 2 of 8 images are not 8×8 like the rest, e.g. ${join('a', 'big.png')} is 10×12`);
  });

  it('one RGB image makes the dataset 3 channels (gray images replicated); channels: 1 forces gray; resizeTo resizes all', async () => {
    const root = tempDir();
    const pixels = await grayFolder(root, ['a', 'b'], 2, 6, 6);
    const colour = Buffer.alloc(6 * 6 * 3);
    for (let p = 0; p < 36; p++) colour.set([200, 10, 10], 3 * p);
    await writeImage(join(root, 'b', 'red.png'), colour, 6, 6, 3);
    const rgb = await importDataset(root, tempDir());
    expect(rgb.shape).toEqual([6, 6, 3]);
    const cached = readCache(rgb.cacheFile);
    const gray0 = pixels.get(join(root, 'a', 'img0.png'))!;
    expect(Array.from(cached.train.images.subarray(0, 6))).toEqual([gray0[0], gray0[0], gray0[0], gray0[1], gray0[1], gray0[1]]);
    const redIndex = 4; // a/img0 a/img1 b/img0 b/img1 b/red
    expect(Array.from(cached.train.images.subarray(redIndex * 108, redIndex * 108 + 3))).toEqual([200, 10, 10]);

    const gray = await importDataset(root, tempDir(), { channels: 1 });
    expect(gray.shape).toEqual([6, 6, 1]);
    expect(readCache(gray.cacheFile).train.images[redIndex * 36]).toBe(Math.round(0.299 * 200 + 0.587 * 10 + 0.114 * 10));

    const small = await importDataset(root, tempDir(), { resizeTo: [3, 4] });
    expect(small.shape).toEqual([3, 4, 3]);
    expect(readCache(small.cacheFile).train.images.length).toBe(5 * 3 * 4 * 3);
  });

  it('RGBA PNG is flattened and RGB JPEG decodes as 3 channels', async () => {
    const root = tempDir();
    const rng = new Rng(3);
    for (let i = 0; i < 2; i++) {
      await writeImage(join(root, 'x', `rgba${i}.png`), randomPixels(rng, 5, 5, 4), 5, 5, 4);
      await writeImage(join(root, 'y', `rgb${i}.jpg`), randomPixels(rng, 5, 5, 3), 5, 5, 3, 'jpeg');
    }
    const result = await importDataset(root, tempDir());
    expect(result.shape).toEqual([5, 5, 3]);
    expect(result.trainCount).toBe(4);
    expect(result.lint.corruptCount).toBe(0);
  });

  it('EXIF orientation is applied: a 4×6 JPEG tagged "rotate 90°" counts as 6×4, like the 6×4 PNGs', async () => {
    const root = tempDir();
    const rng = new Rng(21);
    for (let i = 0; i < 2; i++) {
      const rotated = await sharp(randomPixels(rng, 4, 6, 3), { raw: { width: 6, height: 4, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
      mkdirSync(join(root, 'photo'), { recursive: true });
      writeFileSync(join(root, 'photo', `p${i}.jpg`), rotated);
      await writeImage(join(root, 'scan', `s${i}.png`), randomPixels(rng, 6, 4, 3), 6, 4, 3);
    }
    const result = await importDataset(root, tempDir());
    expect(result.shape).toEqual([6, 4, 3]);
    expect(result.trainCount).toBe(4);
    expect(result.lint.mixedSizes.files).toEqual([]);
  });

  it('a PNG whose EXIF says "rotate 90°" counts as rotated too (its header alone would say otherwise)', async () => {
    const root = tempDir();
    const rng = new Rng(22);
    for (let i = 0; i < 2; i++) {
      const rotated = await sharp(randomPixels(rng, 4, 6, 3), { raw: { width: 6, height: 4, channels: 3 } }).png().withMetadata({ orientation: 6 }).toBuffer();
      mkdirSync(join(root, 'photo'), { recursive: true });
      writeFileSync(join(root, 'photo', `p${i}.png`), rotated);
      await writeImage(join(root, 'scan', `s${i}.png`), randomPixels(rng, 6, 4, 3), 6, 4, 3);
    }
    const result = await importDataset(root, tempDir());
    expect(result.shape).toEqual([6, 4, 3]);
    expect(result.trainCount).toBe(4);
    expect(result.lint.mixedSizes.files).toEqual([]);
  });

  it('train/ + test/ layout: duplicates, train/test overlap and class imbalance are reported', async () => {
    const root = tempDir();
    const rng = new Rng(11);
    const shared = randomPixels(rng, 4, 4, 1);
    const write = (path: string, data: Buffer): Promise<Buffer> => writeImage(join(root, path), data, 4, 4, 1);
    for (let i = 0; i < 9; i++) await write(`train/cat/c${i}.png`, randomPixels(rng, 4, 4, 1));
    await write('train/cat/shared.png', shared);
    await write('train/dog/d0.png', randomPixels(rng, 4, 4, 1));
    const dup = randomPixels(rng, 4, 4, 1);
    await write('train/dog/d1.png', dup);
    await write('train/dog/d1-copy.png', dup);
    await write('train/cat/d1-mislabelled.png', dup);
    await write('test/cat/t0.png', shared);
    await write('test/dog/t1.png', randomPixels(rng, 4, 4, 1));
    const result = await importDataset(root, tempDir());
    expect(result.classNames).toEqual(['cat', 'dog']);
    expect(result.trainCount).toBe(14);
    expect(result.testCount).toBe(2);
    expect(result.countsPerClass).toEqual({ train: [11, 3], test: [1, 1] });
    const lint = result.lint;
    expect(lint.duplicates.count).toBe(2);
    expect(lint.duplicates.groups).toBe(1);
    expect(lint.duplicates.conflictingLabels).toBe(2); // both dog copies differ from the first copy (cat)
    expect(lint.duplicates.examples[0]).toEqual({ first: join('train', 'cat', 'd1-mislabelled.png'), duplicate: join('train', 'dog', 'd1-copy.png') }); // names sort as 'd1-copy' < 'd1.png'
    expect(lint.trainTestOverlap.count).toBe(1);
    expect(lint.trainTestOverlap.examples).toEqual([`${join('test', 'cat', 't0.png')} = ${join('train', 'cat', 'shared.png')}`]);
    expect(lint.imbalance.counts).toEqual([11, 3]);
    expect(lint.imbalance.ratio).toBeCloseTo(11 / 3, 9);
    expect(lint.imbalance.warning).toBe("class imbalance: 'cat' has 11 training images, 'dog' 3 (3.7×)");
    expect(lint.warnings.length).toBe(4);
  });
});

describe('folder: bad input (one-line errors naming the path)', () => {
  it('nonexistent path → not_found', async () => {
    const missing = join(tempDir(), 'nope');
    const error = await importError(importDataset(missing, tempDir()));
    expect(error.code).toBe('not_found');
    expect(error.message).toBe(`${missing}: no such file or folder`);
  });

  it('empty folder → empty', async () => {
    const root = tempDir();
    const error = await importError(importDataset(root, tempDir()));
    expect(error.code).toBe('empty');
    expect(error.message).toBe(`${root}: empty folder`);
  });

  it('a single class folder → single_class', async () => {
    const root = tempDir();
    await grayFolder(root, ['only'], 3);
    const error = await importError(importDataset(root, tempDir()));
    expect(error.code).toBe('single_class');
    expect(error.message).toBe(`${root}: only one class folder ('only'); a classifier needs at least two`);
  });

  it('class folders with no decodable image → no_images', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'a'));
    mkdirSync(join(root, 'b'));
    writeFileSync(join(root, 'a', 'x.png'), 'not really');
    writeFileSync(join(root, 'b', 'y.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    const error = await importError(importDataset(root, tempDir()));
    expect(error.code).toBe('no_images');
    expect(error.message).toBe(`${root}: none of the 2 files is a decodable PNG/JPEG image (e.g. ${join('a', 'x.png')}: not an image (a text file))`);
  });

  it('every image of one class corrupt → single_class after skipping', async () => {
    const root = tempDir();
    await grayFolder(root, ['a'], 2);
    mkdirSync(join(root, 'b'));
    writeFileSync(join(root, 'b', 'x.png'), 'junk');
    const error = await importError(importDataset(root, tempDir()));
    expect(error.code).toBe('single_class');
  });

  it('images directly in the folder → unsupported with a hint', async () => {
    const root = tempDir();
    await writeImage(join(root, 'loose.png'), Buffer.alloc(16), 4, 4, 1);
    const error = await importError(importDataset(root, tempDir()));
    expect(error.code).toBe('unsupported');
    expect(error.message).toContain('one subfolder per class');
  });
});

describe('sharp sanity', () => {
  it('the generated grayscale PNG is 1-channel', async () => {
    const bytes = await sharp(Buffer.alloc(16), { raw: { width: 4, height: 4, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    expect((await sharp(bytes).metadata()).channels).toBe(1);
  });
});
