/**
 * A real full disk. The library lives on a 20 MB tmpfs (the tests run as root here; elsewhere a
 * stand-in makes every library write fail, and says so): the web server — a process of its own —
 * trains a run that cannot fit, the disk fills, the run pauses with the reason, the server keeps
 * answering, and once the disk has room again the run resumes to its end with nothing lost. An
 * import whose bookkeeping meets a full disk is refused in words and leaves nothing behind.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Events, Result, RunSummary } from '../contract/index.js';
import { startWebServer } from '../web/server.js';
import { SAMPLE_DATASET_NAME, type Service } from './service.js';
import { exited, failWritesWhile, openService, spawnTs, tempDir } from './testing.js';

const temps: ReturnType<typeof tempDir>[] = [];
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) {
    try {
      execFileSync('umount', [m]);
    } catch {
      execFileSync('umount', ['-l', m]);
    }
  }
  temps.forEach((t) => t.remove());
});

/** A disk that can be filled and given room again. */
interface Disk {
  dir: string;
  kind: 'tmpfs' | 'stand-in';
  fill(): void;
  makeRoom(): void;
}

/** A 20 MB tmpfs when this process may mount one; null (with the reason) otherwise. */
function tmpfs(): { disk: Disk } | { reason: string } {
  if (process.getuid?.() !== 0) return { reason: 'not running as root, so no tmpfs can be mounted' };
  const t = tempDir('cnn-studio-disk-');
  temps.push(t);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', t.path]);
  } catch (e) {
    return { reason: `mount -t tmpfs failed: ${(e as Error).message}` };
  }
  mounts.push(t.path);
  const filler = join(t.path, 'filler');
  return {
    disk: {
      dir: t.path,
      kind: 'tmpfs',
      fill() {
        const fd = openSync(filler, 'a');
        try {
          for (const size of [1 << 20, 4096]) {
            const chunk = Buffer.alloc(size, 1);
            try {
              for (;;) writeSync(fd, chunk);
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
            }
          }
        } finally {
          closeSync(fd);
        }
      },
      makeRoom() {
        rmSync(filler, { force: true });
        execFileSync('mount', ['-o', 'remount,size=400m', t.path]);
      },
    },
  };
}

const post = async <T>(server: { apiUrl: string; token: string }, command: string, body: unknown): Promise<Result<T>> =>
  (await (await fetch(`${server.apiUrl}/${command}`, { method: 'POST', headers: { authorization: `Bearer ${server.token}` }, body: JSON.stringify(body) })).json()) as Result<T>;

/** The web server's events, kept as they come. */
function eventsOf(port: number, token: string): { next: (until: (e: { event: keyof Events; payload: never }) => boolean) => Promise<{ event: string; payload: Record<string, unknown> }>; close: () => void; ready: Promise<void> } {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/events?token=${token}`);
  const seen: { event: keyof Events; payload: never }[] = [];
  let wake: (() => void) | null = null;
  let closed = false;
  ws.on('message', (data) => {
    seen.push(JSON.parse(String(data)));
    wake?.();
  });
  ws.on('close', () => {
    closed = true;
    wake?.();
  });
  let read = 0;
  return {
    ready: new Promise((r) => ws.once('open', () => r())),
    close: () => ws.close(),
    async next(until) {
      for (;;) {
        while (read < seen.length) {
          const e = seen[read++]!;
          if (until(e)) return e as never;
        }
        if (closed) throw new Error('the web server\'s event stream ended (did the server die?)');
        await new Promise<void>((r) => (wake = r));
      }
    },
  };
}

describe('the disk fills while the web server trains', () => {
  it('the run pauses with "the disk is full: free space and resume", the server keeps serving, and with room again the run resumes to its end', async () => {
    const made = tmpfs();
    let disk: Disk;
    let server: { apiUrl: string; port: number; token: string };
    let stop: () => Promise<void>;
    if ('disk' in made) {
      disk = made.disk;
      const child = spawnTs('src-main/web/main.ts', ['--db', join(disk.dir, 'studio.sqlite'), '--port', '0']);
      child.stdin.end();
      let stdout = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          stdout += d;
          const m = /serving on (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([0-9a-f]+))/.exec(stdout);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`the web server exited (${code}) before serving`)));
      });
      const u = new URL(url);
      server = { apiUrl: `${u.origin}/api`, port: Number(u.port), token: u.searchParams.get('token')! };
      stop = async () => {
        child.kill('SIGTERM');
        expect((await exited(child)).code).toBe(0);
      };
    } else {
      console.log(`disk-full test: using the stand-in that makes every library write fail (${made.reason})`);
      const t = tempDir();
      temps.push(t);
      const service = await openService(t.path);
      let full = false;
      failWritesWhile(service.store, () => full);
      const web = await startWebServer(service, { rendererDir: null });
      disk = { dir: t.path, kind: 'stand-in', fill: () => (full = true), makeRoom: () => (full = false) };
      server = web;
      stop = async () => {
        await web.close();
        await service.close();
      };
    }

    const events = eventsOf(server.port, server.token);
    await events.ready;
    try {
      const datasets = await post<{ id: number; name: string }[]>(server, 'listDatasets', {});
      const datasetId = datasets.ok ? datasets.value.find((d) => d.name === SAMPLE_DATASET_NAME)!.id : -1;
      // ~0.9 MB of snapshot per epoch: 60 epochs cannot fit on a 20 MB disk, whatever the timing
      const spec = { inputShape: [28, 28, 1], layers: [{ type: 'flatten' }, { type: 'dense', units: 64, activation: 'relu' }, { type: 'dense', units: 10 }] };
      const epochs = 60;
      const started = await post<RunSummary>(server, 'startRun', { datasetId, spec, hyperparameters: { epochs, batchSize: 25, trainLimit: 300, validationSplit: 0.1, seed: 3, progressEvery: 1 } });
      expect(started.ok).toBe(true);
      const runId = started.ok ? started.value.id : -1;
      await events.next((e) => e.event === 'runProgress' && (e.payload as Events['runProgress']).runId === runId && (e.payload as Events['runProgress']).kind === 'epoch');
      disk.fill();

      const paused = (await events.next((e) => e.event === 'runStatus' && (e.payload as Events['runStatus']).runId === runId && (e.payload as Events['runStatus']).status !== 'running')).payload as unknown as Events['runStatus'];
      expect(paused.status).toBe('paused');
      expect(paused.error).toMatch(/^the disk is full: free space and resume \(.* failed; everything saved before it is kept\)$/);
      // the server answers as before
      const listed = await post<RunSummary[]>(server, 'listRuns', {});
      expect(listed.ok && listed.value.find((r) => r.id === runId)?.status).toBe('paused');
      const kept = await post<{ epochs: { epoch: number }[] }>(server, 'getRun', { id: runId, batches: false });
      const keptEpochs = kept.ok ? kept.value.epochs.map((e) => e.epoch) : [];
      expect(keptEpochs.length).toBeGreaterThanOrEqual(1);
      expect(keptEpochs.length).toBeLessThan(epochs);

      disk.makeRoom();
      const resumed = await post<RunSummary>(server, 'resumeRun', { id: runId });
      expect(resumed.ok).toBe(true);
      const done = (await events.next((e) => e.event === 'runStatus' && (e.payload as Events['runStatus']).runId === runId && ['completed', 'paused', 'failed'].includes((e.payload as Events['runStatus']).status))).payload as unknown as Events['runStatus'];
      expect([done.status, done.error]).toEqual(['completed', null]);
    } finally {
      events.close();
      await stop();
    }
    // what the library holds afterwards: every epoch once, and a sound file
    const db = new Database(join(disk.dir, 'studio.sqlite'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.prepare('SELECT epoch FROM epoch_metrics ORDER BY epoch').pluck().all()).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect(db.prepare(`SELECT epoch FROM snapshots WHERE kind = 'epoch' ORDER BY id`).pluck().all()).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect(db.prepare('SELECT COUNT(*) FROM batch_metrics').pluck().get()).toBe(60 * 12);
    } finally {
      db.close();
    }
  });
});

describe('the disk is full when an import is recorded', () => {
  it('the import is refused in words, nothing is stored or left behind, and with room again the same import succeeds', async () => {
    const made = tmpfs();
    const normal = tempDir();
    temps.push(normal);
    // The import's cache file is made on a normal disk first and placed on the small one, so the
    // import itself only writes the library: the write this test is about.
    const prepare = await openService(normal.path);
    const folder = join(normal.path, 'two-classes');
    let cacheFile: string;
    try {
      const datasetId = prepare.datasets.find(SAMPLE_DATASET_NAME).id;
      const thumbs = await prepare.exec('getThumbnails', { datasetId, split: 'train', indices: Array.from({ length: 40 }, (_, i) => i) });
      for (const t of thumbs.filter((x) => x.label < 2)) {
        mkdirSync(join(folder, String(t.label)), { recursive: true });
        writeFileSync(join(folder, String(t.label), `${t.index}.png`), Buffer.from(t.base64, 'base64'));
      }
      const r = await prepare.datasets.import({ path: folder });
      cacheFile = prepare.store.getDataset(r.dataset.id)!.cacheFile;
    } finally {
      await prepare.close();
    }

    let disk: Disk;
    let service: Service;
    if ('disk' in made) {
      disk = made.disk;
      service = await openService(disk.dir);
    } else {
      console.log(`disk-full import test: using the stand-in that makes every library write fail (${made.reason})`);
      const t = tempDir();
      temps.push(t);
      service = await openService(t.path);
      let full = false;
      failWritesWhile(service.store, () => full);
      disk = { dir: t.path, kind: 'stand-in', fill: () => (full = true), makeRoom: () => (full = false) };
    }
    try {
      copyFileSync(cacheFile, join(service.cacheDir, cacheFile.split('/').at(-1)!));
      const datasetsBefore = service.datasets.list();
      const filesBefore = readdirSync(service.cacheDir).sort();
      // An empty WAL: any write must grow a file, and the disk has no room.
      service.store.db.pragma('wal_checkpoint(TRUNCATE)');
      disk.fill();
      const refused = await service.call('importDataset', { path: folder, name: 'two classes' });
      expect(refused).toEqual({ ok: false, error: { code: 'storage', message: 'the disk is full: free space and import again (nothing was kept)' } });
      expect(service.datasets.list()).toEqual(datasetsBefore);
      expect(readdirSync(service.cacheDir).sort()).toEqual(filesBefore);
      expect(service.store.integrityCheck()).toBe('ok');

      disk.makeRoom();
      const imported = await service.call('importDataset', { path: folder, name: 'two classes' });
      expect(imported.ok && [imported.value.alreadyImported, imported.value.dataset.name, imported.value.dataset.trainCount]).toEqual([false, 'two classes', expect.any(Number)]);
      expect(service.datasets.list()).toHaveLength(datasetsBefore.length + 1);
    } finally {
      await service.close();
    }
  });
});
