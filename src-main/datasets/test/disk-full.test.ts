/**
 * A full disk during an import (writing the cache file, or extracting an archive) is a 'disk_full'
 * refusal in words; nothing is kept, and the next import onto the same disk works once it fits.
 * The disk is a 2 MiB tmpfs, which needs root; elsewhere the test says so and is skipped.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../src-engine/rng.js';
import { DatasetImportError, bundledSamplePath, importDataset } from '../index.js';
import { randomPixels, removeTempDirs, tarGzBytes, tempDir, writeImage } from './fixtures.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.log('not root: cannot mount a small tmpfs, so the disk-full import tests are skipped');

const mounted: string[] = [];
afterAll(() => {
  for (const dir of mounted.splice(0)) execFileSync('umount', [dir]);
  removeTempDirs();
});

function smallDisk(): string {
  const dir = tempDir();
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
  mounted.push(dir);
  return dir;
}

async function diskFull(source: string, cacheDir: string): Promise<DatasetImportError> {
  const error = await importDataset(source, cacheDir).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(DatasetImportError);
  expect((error as DatasetImportError).code).toBe('disk_full');
  expect(readdirSync(cacheDir)).toEqual([]); // nothing kept
  return error as DatasetImportError;
}

describe.skipIf(!isRoot)('a full disk during an import', () => {
  it('writing the 4.7 MB cache file of the sample onto a 2 MiB disk → disk_full, nothing kept; a small import then fits', async () => {
    const cacheDir = smallDisk();
    const error = await diskFull(bundledSamplePath(), cacheDir);
    expect(error.message).toMatch(new RegExp(`^the disk is full \\(writing ${cacheDir}/\\.import-\\d+-t\\d+-[0-9a-f]+\\.partial\\): free space and import again; nothing was kept$`));

    const small = tempDir();
    const rng = new Rng(61);
    for (const name of ['a/0.png', 'a/1.png', 'b/0.png', 'b/1.png']) await writeImage(join(small, name), randomPixels(rng, 8, 8, 1), 8, 8, 1);
    const result = await importDataset(small, cacheDir);
    expect(readdirSync(cacheDir)).toEqual([`${result.contentHash}.cnnds`]);
  });

  it('extracting an archive larger than the disk → disk_full, the extraction folder removed', async () => {
    const sample = bundledSamplePath();
    const archive = join(tempDir(), 'sample.tar.gz');
    writeFileSync(archive, tarGzBytes(readdirSync(sample).map((name) => ({ name: `sample/${name}`, data: readFileSync(join(sample, name)) }))));
    const cacheDir = smallDisk();
    const error = await diskFull(archive, cacheDir);
    expect(error.message).toMatch(/^the disk is full \(writing .*\): free space and import again; nothing was kept$/);
  });
});
