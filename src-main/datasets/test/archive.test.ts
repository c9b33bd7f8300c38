import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../src-engine/rng.js';
import { DatasetImportError, bundledSamplePath, importDataset } from '../index.js';
import { type ArchiveEntry, encodeImage, randomPixels, removeTempDirs, tarGzBytes, tempDir, zipBytes } from './fixtures.js';

afterAll(removeTempDirs);

describe('archives (.zip, .tar.gz)', () => {
  it('a .tar.gz of the bundled sample (inside a top folder) has the same content hash as the folder itself', async () => {
    const sample = bundledSamplePath();
    const entries: ArchiveEntry[] = readdirSync(sample).map((name) => ({ name: `fashion/${name}`, data: readFileSync(join(sample, name)) }));
    const archive = join(tempDir(), 'fashion.tar.gz');
    writeFileSync(archive, tarGzBytes(entries));
    const cacheDir = tempDir();
    const direct = await importDataset(sample, cacheDir);
    const packed = await importDataset(archive, cacheDir);
    expect(packed.format).toBe('archive');
    expect(packed.innerFormat).toBe('idx');
    expect(packed.name).toBe('fashion');
    expect(packed.contentHash).toBe(direct.contentHash);
    expect(packed.reused).toBe(true);
    expect(packed.classNames[9]).toBe('Ankle boot');
    // only the cache file is left: the extraction folder is gone
    expect(readdirSync(cacheDir)).toEqual([`${direct.contentHash}.cnnds`]);
  });

  it('a .zip of class folders of PNGs (with one corrupt entry) imports as a folder dataset', async () => {
    const rng = new Rng(5);
    const entries: ArchiveEntry[] = [];
    for (const cls of ['circle', 'square']) {
      for (let i = 0; i < 3; i++) entries.push({ name: `${cls}/${i}.png`, data: await encodeImage(randomPixels(rng, 6, 6, 1), 6, 6, 1, 'png') });
    }
    entries.push({ name: 'square/readme.txt', data: Buffer.from('hello') });
    const archive = join(tempDir(), 'shapes.zip');
    writeFileSync(archive, zipBytes(entries));
    const result = await importDataset(archive, tempDir());
    expect(result.format).toBe('archive');
    expect(result.innerFormat).toBe('folder');
    expect(result.classNames).toEqual(['circle', 'square']);
    expect(result.shape).toEqual([6, 6, 1]);
    expect(result.trainCount).toBe(6);
    expect(result.lint.corrupt).toEqual([{ file: join('square', 'readme.txt'), reason: 'not an image (a text file)' }]);
  });

  it('a zip entry escaping the archive folder is refused; a truncated zip is refused', async () => {
    const archive = join(tempDir(), 'evil.zip');
    writeFileSync(archive, zipBytes([{ name: '../../evil.png', data: Buffer.from('x') }]));
    const error = await importDataset(archive, tempDir()).then(() => null, (e: unknown) => e);
    expect((error as DatasetImportError).code).toBe('unsupported');
    expect((error as DatasetImportError).message).toBe("evil.zip: entry '../../evil.png' points outside the archive folder");

    const cut = join(tempDir(), 'cut.zip');
    const whole = zipBytes([{ name: 'a/1.png', data: Buffer.alloc(1000, 7) }]);
    writeFileSync(cut, whole.subarray(0, whole.length - 30));
    const cutError = await importDataset(cut, tempDir()).then(() => null, (e: unknown) => e);
    expect((cutError as DatasetImportError).message).toBe('cut.zip: truncated or corrupt zip (no end of central directory)');
  });
});

describe('archive errors name the archive', () => {
  it('a zip holding a single class folder → single_class naming shapes.zip, not the temp folder', async () => {
    const entries: ArchiveEntry[] = [{ name: 'only/1.png', data: await encodeImage(Buffer.alloc(16, 9), 4, 4, 1, 'png') }];
    const archive = join(tempDir(), 'one.zip');
    writeFileSync(archive, zipBytes(entries));
    const error = (await importDataset(archive, tempDir()).then(() => null, (e: unknown) => e)) as DatasetImportError;
    expect(error.code).toBe('single_class');
    expect(error.message).toBe("one.zip: only one class folder ('only'); a classifier needs at least two");
  });
});
