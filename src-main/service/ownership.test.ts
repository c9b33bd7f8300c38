/**
 * A run has one owner, with real processes on one library: a `cnn-studio train` process, the test
 * process opening the same library, more CLI processes; several processes resuming one run at
 * once; several first starts on a new library at once. And the owner's liveness is its lock, not
 * its pid: a live pid without the lock is gone, a dead pid with the lock held is alive.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { OwnerLock, ownerLockDir } from '../db/owner-lock.js';
import { SCHEMA_VERSION } from '../db/schema.js';
import { Store } from '../db/store.js';
import { ServiceError } from './errors.js';
import { SAMPLE_DATASET_NAME, type Service } from './service.js';
import { exited, JsonLines, MLP_SPEC, openService, pausedRun, QUICK, spawnTs, tempDir } from './testing.js';

const dirs: ReturnType<typeof tempDir>[] = [];
afterAll(() => dirs.forEach((d) => d.remove()));
function newDir() {
  const d = tempDir();
  dirs.push(d);
  return d;
}

/** A CLI process on the library, to its end. */
async function cliProcess(db: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnTs('src-main/cli/main.ts', ['--db', db, ...args]);
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const { code } = await exited(child);
  return { code, stdout, stderr };
}

/** Resolves once the process is stopped (state T in /proc/<pid>/stat). */
async function stoppedState(pid: number): Promise<void> {
  for (;;) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) return;
    await new Promise((r) => setImmediate(r));
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function refusal(action: () => unknown): Promise<ServiceError> {
  try {
    await action();
  } catch (e) {
    if (e instanceof ServiceError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('a run trained by a cnn-studio process, seen from other processes', () => {
  it('stays running while its trainer lives (list, resume, pause, stop, delete are refused naming it); after SIGKILL it is interrupted and resumes to the end, each epoch trained once', async (ctx) => {
    if (!existsSync('/proc/self/stat')) {
      console.log('skipped: no /proc here to see that the suspended trainer has stopped');
      ctx.skip();
    }
    const dir = newDir();
    const db = join(dir.path, 'studio.sqlite');
    const epochs = 24;
    const trainer = spawnTs('src-main/cli/main.ts', ['--db', db, '--json', 'train', '--dataset', SAMPLE_DATASET_NAME, '--model', 'reference',
      '--epochs', String(epochs), '--limit', '60', '--val-split', '0.02', '--batch-size', '16', '--kernels', 'reference', '--progress-every', '1', '--seed', '5']);
    trainer.stdin.end();
    const out = new JsonLines<{ type: string; kind?: string; runId?: number; batchesPerEpoch?: number }>(trainer);
    const firstBatch = await out.next((l) => l.type === 'runProgress' && l.kind === 'batch');
    const runId = firstBatch.runId!;

    // Suspend the trainer where it cannot hold the library's write lock: while this connection
    // holds it, the trainer is not inside a write. A stopped process is alive and keeps its lock.
    const writer = new Database(db);
    writer.pragma('busy_timeout = 30000');
    writer.exec('BEGIN IMMEDIATE');
    trainer.kill('SIGSTOP');
    await stoppedState(trainer.pid!);
    writer.exec('ROLLBACK');
    writer.close();

    let service: Service | null = await openService(dir.path, { ownerLabel: 'the test' });
    try {
      expect(service.startup.interrupted).toEqual([]);
      expect(service.runs.list({}).find((r) => r.id === runId)?.status).toBe('running');
      const who = new RegExp(`^run ${runId} is running in another process, cnn-studio train \\(pid ${trainer.pid}, since [0-9T:.-]+Z\\): `);
      for (const [what, act] of [
        ['resume', () => service!.runs.resume(runId)], ['pause', () => service!.runs.pause(runId)],
        ['stop', () => service!.runs.stop(runId)], ['delete', () => service!.runs.delete(runId)],
      ] as const) {
        const e = await refusal(act);
        expect([what, e.code]).toEqual([what, 'conflict']);
        expect(e.message).toMatch(who);
      }

      // Two more processes: listing leaves it running; resuming is refused naming the trainer.
      const listed = await cliProcess(db, ['--json', 'runs']);
      expect(listed.code, listed.stderr).toBe(0);
      const result = JSON.parse(listed.stdout.trim().split('\n').at(-1)!) as { value: { id: number; status: string }[] };
      expect(result.value.find((r) => r.id === runId)?.status).toBe('running');
      const resumed = await cliProcess(db, ['resume', String(runId)]);
      expect(resumed.code).toBe(1);
      expect(resumed.stderr).toMatch(new RegExp(`is running in another process, cnn-studio train \\(pid ${trainer.pid},`));
      expect(service.runs.list({}).find((r) => r.id === runId)?.status).toBe('running');

      trainer.kill('SIGKILL');
      expect((await exited(trainer)).signal).toBe('SIGKILL');
      // Its owner is gone: the next look marks the run interrupted, and forgets the dead owner.
      expect(service.runs.list({}).find((r) => r.id === runId)?.status).toBe('interrupted');
      expect(service.store.ownerTokens()).toEqual([service.ownership.me.token]);
      expect(readdirSync(ownerLockDir(db))).toEqual([`${service.ownership.me.token}.lock`]);

      const before = service.runs.detail(runId, true);
      expect(before.epochsDone).toBeLessThan(epochs);
      service.runs.resume(runId);
      expect((await service.runs.waitFor(runId)).status).toBe('completed');
      const after = service.runs.detail(runId, true);
      expect(after.epochs.map((e) => e.epoch)).toEqual(range(1, epochs));
      expect(after.snapshots.filter((s) => s.kind === 'epoch').map((s) => s.epoch)).toEqual(range(1, epochs));
      expect(after.batches.map((b) => b.step)).toEqual(range(1, epochs * firstBatch.batchesPerEpoch!));
      expect(service.store.integrityCheck()).toBe('ok');
      await service.close();
      service = null;
      // A closed process leaves neither its owner row nor its lock file.
      const raw = new Database(db, { readonly: true });
      expect(raw.prepare('SELECT COUNT(*) FROM owners').pluck().get()).toBe(0);
      raw.close();
      expect(readdirSync(ownerLockDir(db))).toEqual([]);
    } finally {
      if (trainer.exitCode === null && trainer.signalCode === null) trainer.kill('SIGKILL');
      await service?.close();
    }
  });
});

describe('liveness is the owner\'s lock, not its pid', () => {
  it('a run marked by an owner whose pid is alive (reused) but whose lock nobody holds is interrupted; one whose pid is dead but whose lock is held stays running', async () => {
    const dir = newDir();
    const db = join(dir.path, 'studio.sqlite');
    const service = await openService(dir.path);
    try {
      const datasetId = service.datasets.find(SAMPLE_DATASET_NAME).id;
      const a = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 1 } });
      const b = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 1 } });
      await service.runs.waitFor(a.id);
      await service.runs.waitFor(b.id);
      const mark = (runId: number, token: string, pid: number) => {
        service.store.insertOwner({ token, pid, label: `owner ${token}`, startedAt: new Date().toISOString() });
        service.store.db.prepare(`UPDATE runs SET status = 'running', owner = ? WHERE id = ?`).run(token, runId);
      };
      // Owner "reused": its pid is this very process (alive), its lock file exists, nobody holds it.
      writeFileSync(join(ownerLockDir(db), 'reused.lock'), '');
      mark(a.id, 'reused', process.pid);
      // Owner "held": a pid no process has, but its lock is held (as a live owner holds it).
      const held = OwnerLock.acquire(ownerLockDir(db));
      mark(b.id, held.token, 4_194_304);

      const statuses = () => Object.fromEntries(service.runs.list({}).map((r) => [r.id, r.status]));
      expect(statuses()).toEqual({ [a.id]: 'interrupted', [b.id]: 'running' });
      expect(readdirSync(ownerLockDir(db)).sort()).toEqual([`${held.token}.lock`, `${service.ownership.me.token}.lock`].sort());
      const e = await refusal(() => service.runs.resume(b.id));
      expect(e.message).toMatch(new RegExp(`is running in another process, owner ${held.token} \\(pid 4194304,`));

      held.release();
      expect(statuses()).toEqual({ [a.id]: 'interrupted', [b.id]: 'interrupted' });
      expect(service.store.ownerTokens()).toEqual([service.ownership.me.token]);
    } finally {
      await service.close();
    }
  });
});

describe('claiming a run is a compare-and-set', () => {
  it('when another process claims the run between this one\'s checks and its claim, this one is refused naming it and changes nothing', async () => {
    const dir = newDir();
    const service = await openService(dir.path);
    const other = new Store(join(dir.path, 'studio.sqlite'));
    const otherLock = OwnerLock.acquire(ownerLockDir(join(dir.path, 'studio.sqlite')));
    try {
      const datasetId = service.datasets.find(SAMPLE_DATASET_NAME).id;
      const run = { id: await pausedRun(service, datasetId) };
      const before = service.runs.detail(run.id, true);
      expect(before.status).toBe('paused');
      other.insertOwner({ token: otherLock.token, pid: 4242, label: 'the other process', startedAt: new Date().toISOString() });
      // The other process wins the race: it claims the run right before this one's claim runs.
      const claim = service.store.claimForResume.bind(service.store);
      service.store.claimForResume = (id, owner, snapshot) => {
        expect(other.claimForResume(id, otherLock.token, snapshot)).toBe(true);
        return claim(id, owner, snapshot);
      };
      const e = await refusal(() => service.runs.resume(run.id));
      expect(e.message).toMatch(new RegExp(`^run ${run.id} is queued in another process, the other process \\(pid 4242,`));
      expect(service.runs.detail(run.id, true)).toMatchObject({ status: 'queued', epochs: before.epochs, snapshots: before.snapshots, batches: before.batches });
      expect(service.store.runOwner(run.id)).toBe(otherLock.token);
    } finally {
      other.close();
      otherLock.release();
      await service.close();
    }
  });
});

describe('several processes at once', () => {
  /** Starts `count` studio-child processes, waits until each is ready, then lets them all go at once. */
  async function atOnce(count: number, args: string[]): Promise<Record<string, unknown>[]> {
    const children = Array.from({ length: count }, () => spawnTs('src-main/service/test/studio-child.ts', args));
    const outs = children.map((c) => new JsonLines(c));
    await Promise.all(outs.map((o) => o.next((l) => l.ready === true)));
    for (const c of children) c.stdin.end('go\n');
    const results = await Promise.all(outs.map((o) => o.next((l) => 'ok' in l)));
    await Promise.all(children.map(exited));
    return results;
  }

  it('four first starts on a new library at once: one migrates, all open it, the sample is stored once', async () => {
    const dir = newDir();
    const db = join(dir.path, 'studio.sqlite');
    const results = await atOnce(4, ['open', db]);
    for (const r of results) expect(r).toEqual({ ok: true, datasets: [SAMPLE_DATASET_NAME], interrupted: [], version: SCHEMA_VERSION });
    const raw = new Database(db, { readonly: true });
    expect(raw.prepare('SELECT COUNT(*) FROM datasets').pluck().get()).toBe(1);
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(raw.prepare('SELECT COUNT(*) FROM owners').pluck().get()).toBe(0);
    raw.close();
  });

  it('three processes resume one paused run at once: exactly one trains it, the others are refused, each epoch is trained once', async () => {
    const dir = newDir();
    const db = join(dir.path, 'studio.sqlite');
    const service = await openService(dir.path);
    const datasetId = service.datasets.find(SAMPLE_DATASET_NAME).id;
    const run = { id: await pausedRun(service, datasetId) };
    await service.close();

    const results = await atOnce(3, ['resume', db, String(run.id)]);
    const winners = results.filter((r) => r.resumed === true);
    expect(winners).toEqual([{ ok: true, resumed: true, status: 'completed' }]);
    for (const r of results.filter((x) => x.resumed === false)) expect(r.code).toBe('conflict');

    const again = await openService(dir.path);
    try {
      const d = again.runs.detail(run.id, true);
      expect(d.status).toBe('completed');
      expect(d.epochs.map((e) => e.epoch)).toEqual(range(1, 3));
      expect(d.snapshots.filter((s) => s.kind === 'epoch').map((s) => s.epoch)).toEqual(range(1, 3));
      expect(d.batches.map((b) => b.step)).toEqual(range(1, 3 * 12));
      expect(again.store.integrityCheck()).toBe('ok');
    } finally {
      await again.close();
    }
  });
});
