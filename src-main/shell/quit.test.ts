/**
 * Quitting on the stand-in app: the first attempt is held back, the shutdown runs once, and only then
 * do the windows close and the app quit. With the real service, a run that is training when the
 * window's close button is pressed is paused with a snapshot, and the next start of the library
 * shows it paused (not interrupted) and resumable.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createElectron } from '../../e2e/electron-stand-in/electron.mjs';
import type { Events } from '../contract/index.js';
import { SAMPLE_DATASET_NAME } from '../service/service.js';
import { MLP_SPEC, openService, tempDir } from '../service/testing.js';
import { QuitSequence } from './quit.js';

const dir = tempDir('cnn-studio-quit-');
afterAll(() => dir.remove());

function quitting(platform: NodeJS.Platform, shutdown: () => Promise<void> = async () => undefined) {
  const e = createElectron({ home: dir.path });
  const log: string[] = [];
  let shutdowns = 0;
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const quit = new QuitSequence({
    app: e.app,
    platform,
    shutdown: async () => {
      shutdowns++;
      log.push('shutdown');
      await held;
      await shutdown();
    },
    trainingCount: () => 2,
    announce: (n) => log.push(`announce ${n}`),
    log: (m) => log.push(m),
  });
  const win = new e.BrowserWindow({});
  quit.watch(win as never);
  e.app.on('quit', () => log.push('quit'));
  win.on('closed', () => log.push('window closed'));
  return { e, win, quit, log, release, shutdowns: () => shutdowns };
}

describe('the quit sequence', () => {
  it('Windows/Linux: the close button holds the window, pauses (once, however often it is pressed), then closes it and quits', async () => {
    const q = quitting('linux');
    expect(q.win.close()).toBe(false);
    expect(q.win.close()).toBe(false);
    q.e.app.quit(); // the menu's Quit while shutting down: held too
    expect([q.quit.phase, q.win.isDestroyed(), q.e.standIn.quitCount, q.shutdowns()]).toEqual(['shutting-down', false, 0, 1]);
    expect(q.log.slice(0, 2)).toEqual(['quitting: pausing 2 training runs and snapshotting them', 'announce 2']);
    q.release();
    await q.quit.finished;
    expect([q.quit.phase, q.win.isDestroyed(), q.e.standIn.quitCount]).toEqual(['closed', true, 1]);
    expect(q.log.slice(2)).toEqual(['shutdown', 'window closed', 'quit']);
  });

  it('Cmd+Q / the menu\'s Quit: held until the trainings are paused, then the windows close', async () => {
    const q = quitting('darwin');
    q.e.app.quit();
    expect([q.win.isDestroyed(), q.e.standIn.quitCount]).toEqual([false, 0]);
    q.release();
    await q.quit.finished;
    expect([q.win.isDestroyed(), q.e.standIn.quitCount, q.shutdowns()]).toEqual([true, 1, 1]);
  });

  it('macOS: closing the window keeps the app (and its trainings) running, as Mac apps do', () => {
    const q = quitting('darwin');
    expect(q.win.close()).toBe(true);
    expect([q.quit.phase, q.shutdowns(), q.e.standIn.quitCount]).toEqual(['open', 0, 0]);
  });

  it('a failing shutdown still quits, and says why', async () => {
    const q = quitting('linux', async () => { throw new Error('disk full'); });
    q.win.close();
    q.release();
    await q.quit.finished;
    expect(q.e.standIn.quitCount).toBe(1);
    expect(q.log).toContain('quitting: the shutdown failed: disk full');
  });
});

describe('quitting with the real service', () => {
  it('a run training at quit is paused with a snapshot; the next start shows it paused and it resumes', async () => {
    const home = tempDir('cnn-studio-quit-service-');
    try {
      const service = await openService(home.path);
      const datasetId = service.datasets.find(SAMPLE_DATASET_NAME).id;
      const firstBatch = new Promise<number>((resolve) => {
        const off = service.on('runProgress', (p: Events['runProgress']) => {
          if (p.kind === 'batch') {
            off();
            resolve(p.runId);
          }
        });
      });
      // long by construction: 500 epochs of the whole sample cannot finish while the quit runs
      const run = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { epochs: 500, batchSize: 32, progressEvery: 1, threads: 1 } });
      expect(await firstBatch).toBe(run.id);

      const e = createElectron({ home: home.path });
      const quit = new QuitSequence({
        app: e.app, platform: 'linux', shutdown: () => service.close(),
        trainingCount: () => service.runningHere(), announce: () => undefined, log: () => undefined,
      });
      const win = new e.BrowserWindow({});
      quit.watch(win as never);
      expect(win.close()).toBe(false);
      await quit.finished;
      expect([win.isDestroyed(), e.standIn.quitCount]).toEqual([true, 1]);

      const next = await openService(home.path);
      try {
        expect(next.startup.interrupted).toEqual([]);
        const detail = next.runs.detail(run.id, false);
        expect(detail.status).toBe('paused');
        expect(detail.snapshots.map((s) => s.kind)).toContain('pause');
        const resumed = await next.call('resumeRun', { id: run.id });
        expect(resumed.ok && resumed.value.status).toMatch(/^(queued|running)$/);
        await next.call('stopRun', { id: run.id });
      } finally {
        await next.close();
      }
    } finally {
      home.remove();
    }
  });
});
