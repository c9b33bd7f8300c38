/**
 * Temp files of killed imports are removed: `.import-*.partial` / `.import-*.extract` left by a
 * process that was SIGKILLed mid-import are removed by removeStaleImportFiles (which the service calls
 * at start), while those of a process still importing into the same cache folder are left alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Rng } from '../../../src-engine/rng.js';
import { processStartTime } from '../cache.js';
import { importDataset, removeStaleImportFiles } from '../index.js';
import { REPO_ROOT, encodeImage, randomPixels, removeTempDirs, tempDir, writeImage, zipBytes } from './fixtures.js';

afterAll(removeTempDirs);

/** Children this file started: a failing assertion must not leave one stopped forever. */
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

interface Stopped {
  child: ChildProcess;
  paths: { tempPath: string; extractDir: string };
  lines: AsyncIterator<string>;
}

/** Starts an import in a child process and resolves once it has stopped itself in `phase`. */
async function importStoppedIn(source: string, cacheDir: string, phase: 'decoding' | 'writing'): Promise<Stopped> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'stop-mid-import-child.ts'), source, cacheDir, phase], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error(`the import child for ${source} ended before stopping in ${phase}`);
  return { child, paths: JSON.parse(first.value) as Stopped['paths'], lines };
}

async function folderOfPngs(seed: number): Promise<string> {
  const root = tempDir();
  const rng = new Rng(seed);
  for (const name of ['a/0.png', 'a/1.png', 'b/0.png', 'b/1.png']) await writeImage(join(root, name), randomPixels(rng, 6, 6, 1), 6, 6, 1);
  return root;
}

describe('temp files of killed imports', () => {
  it('a SIGKILLed import leaves .extract / .partial; removeStaleImportFiles removes exactly those, not a live import\'s; the live one completes, the next import works', async () => {
    const cacheDir = tempDir();
    const rng = new Rng(41);
    const entries = [];
    for (const name of ['a/0.png', 'a/1.png', 'b/0.png', 'b/1.png']) entries.push({ name, data: await encodeImage(randomPixels(rng, 6, 6, 1), 6, 6, 1, 'png') });
    const zip = join(tempDir(), 'shapes.zip');
    writeFileSync(zip, zipBytes(entries));

    const extracting = await importStoppedIn(zip, cacheDir, 'decoding'); // extracted, decoding
    const writing = await importStoppedIn(await folderOfPngs(42), cacheDir, 'writing'); // cache file half written
    const live = await importStoppedIn(await folderOfPngs(43), cacheDir, 'writing');
    expect(existsSync(extracting.paths.extractDir)).toBe(true);
    expect(existsSync(writing.paths.tempPath)).toBe(true);
    expect(existsSync(live.paths.tempPath)).toBe(true);

    for (const killed of [extracting, writing]) {
      const exited = once(killed.child, 'exit');
      killed.child.kill('SIGKILL');
      expect(await exited).toEqual([null, 'SIGKILL']);
    }
    // a killed process cleans nothing: its files are still there
    expect(existsSync(extracting.paths.extractDir)).toBe(true);
    expect(existsSync(writing.paths.tempPath)).toBe(true);

    const removed = removeStaleImportFiles(cacheDir);
    expect(removed.sort()).toEqual([basename(extracting.paths.extractDir), basename(writing.paths.tempPath)].sort());
    expect(readdirSync(cacheDir)).toEqual([basename(live.paths.tempPath)]); // the live import's file is untouched

    // the live import goes on and finishes as if nothing happened
    const liveExit = once(live.child, 'exit');
    live.child.kill('SIGCONT');
    expect((await live.lines.next()).value).toBe('done');
    expect(await liveExit).toEqual([0, null]);
    const afterLive = readdirSync(cacheDir);
    expect(afterLive).toHaveLength(1);
    expect(afterLive[0]).toMatch(/^[0-9a-f]{64}\.cnnds$/);

    // the next import into the same cache folder works and leaves only cache files
    const next = await importDataset(zip, cacheDir);
    expect(next.trainCount).toBe(4);
    expect(readdirSync(cacheDir).sort()).toEqual([afterLive[0], `${next.contentHash}.cnnds`].sort());
    expect(removeStaleImportFiles(cacheDir)).toEqual([]);
  });

  it('ownership is the pid and its start time: a reused pid does not keep a dead import\'s file; names of older builds go by the pid alone', () => {
    const dir = tempDir();
    const start = processStartTime(process.pid);
    if (start === null) console.log('no /proc/<pid>/stat (not Linux): start times are not recorded, the pid alone decides');
    const deadPid = 2 ** 22 + 12345; // above Linux's pid_max: never a live process
    const names = {
      mine: `.import-${process.pid}${start === null ? '' : `-t${start}`}-aaaaaa.partial`,
      reusedPid: `.import-${process.pid}-t${start === null ? '1' : String(Number(start) + 1)}-bbbbbb.partial`,
      oldBuildLive: `.import-${process.pid}-cccccc.extract`,
      oldBuildDead: `.import-${deadPid}-dddddd.partial`,
      deadWithStart: `.import-${deadPid}-t99-eeeeee.extract`,
    };
    for (const name of Object.values(names)) {
      if (name.endsWith('.extract')) mkdirSync(join(dir, name));
      else writeFileSync(join(dir, name), 'x');
    }
    writeFileSync(join(dir, 'keep.cnnds'), 'x');
    writeFileSync(join(dir, '.import-notes.txt'), 'not a temp name');
    const expectedRemoved = start === null ? [names.oldBuildDead, names.deadWithStart] : [names.reusedPid, names.oldBuildDead, names.deadWithStart];
    expect(removeStaleImportFiles(dir).sort()).toEqual(expectedRemoved.sort());
    expect(readdirSync(dir).sort()).toEqual(['.import-notes.txt', 'keep.cnnds', names.oldBuildLive, names.mine, ...(start === null ? [names.reusedPid] : [])].sort());
    expect(removeStaleImportFiles(join(dir, 'no-such-folder'))).toEqual([]); // never throws
  });
});
