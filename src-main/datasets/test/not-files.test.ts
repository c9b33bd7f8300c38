/**
 * Files that are not files: a folder import reads only regular files. Links that break, loop or lead
 * out of the folder, pipes, sockets, devices, unreadable files and names that are not UTF-8 are
 * skipped and listed with the reason; the import goes on, leaves nothing but its cache file, and the
 * next import works.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../src-engine/rng.js';
import { DEFAULT_IMPORT_LIMITS, DatasetImportError, importDataset } from '../index.js';
import { FolderWalker } from '../walk.js';
import { randomPixels, removeTempDirs, runChild, tempDir, writeImage } from './fixtures.js';

afterAll(removeTempDirs);

const isRoot = process.getuid?.() === 0;
const NOT_UTF8 = Buffer.from([0xff, 0xfe, 0x41]); // 0xff never occurs in UTF-8

async function writePngs(dir: string, names: string[], rng: Rng): Promise<void> {
  for (const name of names) await writeImage(join(dir, name), randomPixels(rng, 6, 6, 1), 6, 6, 1);
}

function listenOn(path: string): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(path, () => resolve(server));
  });
}

async function importError(promise: Promise<unknown>): Promise<DatasetImportError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(DatasetImportError);
  return error as DatasetImportError;
}

describe('a folder import reads only regular files', () => {
  it('broken, looping and outward links, a pipe, a socket, a device and non-UTF-8 names are skipped and listed; links inside are followed', async () => {
    const rng = new Rng(31);
    const root = tempDir();
    const elsewhere = tempDir();
    await writePngs(elsewhere, ['secret.png'], rng);
    await writePngs(join(root, 'cat'), ['c0.png', 'c1.png', 'c2.png', join('sub', 's0.png')], rng);
    await writePngs(join(root, 'dog'), ['d0.png', 'd1.png', 'd2.png'], rng);
    symlinkSync(join(root, 'nowhere.png'), join(root, 'cat', 'broken.png'));
    symlinkSync(join(elsewhere, 'secret.png'), join(root, 'cat', 'outside.png'));
    symlinkSync(join('..', 'dog', 'd0.png'), join(root, 'cat', 'inside.png')); // followed: stays inside
    symlinkSync(elsewhere, join(root, 'dog', 'outside-dir'));
    symlinkSync('..', join(root, 'dog', 'loop'));
    symlinkSync(join('..', 'cat', 'sub'), join(root, 'dog', 'from-cat')); // followed: stays inside
    symlinkSync(join(root, 'gone'), join(root, 'dangling'));
    execFileSync('mkfifo', [join(root, 'dog', 'pipe.png')]);
    execFileSync('mkfifo', [join(root, 'data.csv')]); // format sniffing must not open it
    const server = await listenOn(join(root, 'dog', 'sock'));
    if (isRoot) execFileSync('mknod', [join(root, 'dog', 'null'), 'c', '1', '3']);
    else console.log('not root: the character-device case is not created (mknod needs root)');
    const badName = Buffer.concat([Buffer.from(join(root, 'cat') + '/'), NOT_UTF8, Buffer.from('.png')]);
    writeFileSync(badName, Buffer.from('a file whose name is not UTF-8'));
    const badFolder = Buffer.concat([Buffer.from(root + '/'), NOT_UTF8, Buffer.from('-class')]);
    mkdirSync(badFolder);
    writeFileSync(Buffer.concat([badFolder, Buffer.from('/x.png')]), 'never read');

    const cacheDir = tempDir();
    let result;
    try {
      result = await importDataset(root, cacheDir);
    } finally {
      server.close();
    }
    expect(result.classNames).toEqual(['cat', 'dog']);
    // cat: c0 c1 c2 inside(=d0) sub/s0; dog: d0 d1 d2 from-cat/s0
    expect(result.countsPerClass.train).toEqual([5, 4]);
    const reasons = Object.fromEntries(result.lint.corrupt.map((c) => [c.file, c.reason]));
    const expected: Record<string, string> = {
      [join('cat', 'broken.png')]: 'a broken link (its target does not exist)',
      [join('cat', 'outside.png')]: `a link to ${join(elsewhere, 'secret.png')}, outside the imported folder`,
      [join('dog', 'outside-dir')]: `a link to ${elsewhere}, outside the imported folder`,
      [join('dog', 'loop')]: 'a link to a folder that contains it (a loop)',
      dangling: 'a broken link (its target does not exist)',
      [join('dog', 'pipe.png')]: 'a named pipe (FIFO), not a regular file',
      'data.csv': 'a named pipe (FIFO), not a regular file',
      [join('dog', 'sock')]: 'a socket, not a regular file',
      [join('cat', '\uFFFD\uFFFDA.png')]: 'name is not valid UTF-8 (shown with � for the bytes that are not); rename it to import it',
      '\uFFFD\uFFFDA-class': 'name is not valid UTF-8 (shown with � for the bytes that are not); rename it to import it',
    };
    if (isRoot) expected[join('dog', 'null')] = 'a character device, not a regular file';
    expect(reasons).toEqual(expected);
    expect(result.lint.corruptCount).toBe(Object.keys(expected).length);
    expect(result.lint.warnings[0]).toMatch(new RegExp(`^${Object.keys(expected).length} unreadable or non-image files skipped`));

    // nothing left but the cache file; the next import into the same cache folder works
    expect(readdirSync(cacheDir)).toEqual([`${result.contentHash}.cnnds`]);
    const again = await importDataset(root, cacheDir, {}, {});
    expect(again.reused).toBe(true);
    expect(readdirSync(cacheDir)).toEqual([`${result.contentHash}.cnnds`]);
  });

  it('unreadable files and folders (EACCES, in a child process without root\'s bypass of mode bits) are skipped and listed', async () => {
    const rng = new Rng(32);
    const root = tempDir();
    await writePngs(join(root, 'cat'), ['c0.png', 'c1.png', 'secret.png'], rng);
    await writePngs(join(root, 'dog'), ['d0.png', 'd1.png', join('locked', 'l0.png')], rng);
    const cacheDir = tempDir();
    // root reads everything whatever the mode bits say: the import runs without that power
    const asUser = { withoutRootBypass: true };
    chmodSync(join(root, 'cat', 'secret.png'), 0o000);
    chmodSync(join(root, 'dog', 'locked'), 0o000);
    const child = await runChild('import-child.ts', [root, cacheDir], asUser);
    expect(child.stderr).toBe('');
    const outcome = JSON.parse(child.stdout) as { ok: boolean; trainCount: number; corrupt: { file: string; reason: string }[] };
    expect(outcome.ok).toBe(true);
    expect(outcome.trainCount).toBe(4);
    expect(outcome.corrupt).toEqual([
      { file: join('cat', 'secret.png'), reason: 'cannot be read: permission denied' },
      { file: join('dog', 'locked'), reason: 'folder cannot be read: permission denied' },
    ]);
    expect(readdirSync(cacheDir).filter((n) => n.startsWith('.import-'))).toEqual([]);

    // the imported folder itself unreadable: the whole import is refused, in words
    chmodSync(root, 0o000);
    const locked = JSON.parse((await runChild('import-child.ts', [root, cacheDir], asUser)).stdout) as { ok: boolean; code: string; message: string };
    chmodSync(root, 0o755);
    expect(locked).toMatchObject({ ok: false, code: 'unreadable', message: `${root}: folder cannot be read: permission denied` });
  });

  it('a source that is a pipe, a broken link or a device is refused at once, not opened', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const cacheDir = tempDir();
    const pipeError = await importError(importDataset(fifo, cacheDir));
    expect(pipeError.code).toBe('unsupported');
    expect(pipeError.message).toBe(`${fifo}: a named pipe (FIFO), not a regular file or folder`);

    symlinkSync(join(dir, 'nothing'), join(dir, 'link'));
    const linkError = await importError(importDataset(join(dir, 'link'), cacheDir));
    expect(linkError.code).toBe('not_found');
    expect(linkError.message).toBe(`${join(dir, 'link')}: no such file or folder (a broken link)`);

    const deviceError = await importError(importDataset('/dev/zero', cacheDir));
    expect(deviceError.message).toBe('/dev/zero: a character device, not a regular file or folder');
    expect(readdirSync(cacheDir)).toEqual([]);
  });
});

describe('FolderWalker', () => {
  it('two folder links that lead to each other end the walk (reported as a loop) instead of recursing forever', async () => {
    const root = tempDir();
    await writePngs(join(root, 'a'), ['a0.png'], new Rng(1));
    await writePngs(join(root, 'b'), ['b0.png'], new Rng(2));
    symlinkSync(join('..', 'b'), join(root, 'a', 'to-b'));
    symlinkSync(join('..', 'a'), join(root, 'b', 'to-a'));
    const walker = new FolderWalker(root, DEFAULT_IMPORT_LIMITS);
    const files = walker.walkFiles(join(root, 'a'));
    expect(files).toEqual([join(root, 'a', 'a0.png'), join(root, 'a', 'to-b', 'b0.png')]);
    expect(walker.skipped).toEqual([{ path: join(root, 'a', 'to-b', 'to-a'), reason: 'a link to a folder that contains it (a loop)' }]);
  });

  it(`more files than maxFiles → too_large naming the limit`, async () => {
    const root = tempDir();
    for (const cls of ['a', 'b']) {
      mkdirSync(join(root, cls));
      for (let i = 0; i < 3; i++) writeFileSync(join(root, cls, `${i}.png`), 'x');
    }
    const cacheDir = tempDir();
    const error = await importError(importDataset(root, cacheDir, { limits: { maxFiles: 5 } }));
    expect(error.code).toBe('too_large');
    expect(error.message).toBe(`${root}: more than 5 files in the folder (the limit per folder import)`);
    expect(error.limit).toEqual({ name: 'maxFiles', actual: 6, limit: 5 });
    expect(readdirSync(cacheDir)).toEqual([]);
  });
});
