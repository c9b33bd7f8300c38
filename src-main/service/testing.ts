/** Helpers for the service's tests: a temp folder per test file, a small, quick run, and child processes on the same library. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { HyperparameterInput, ModelSpec } from '../contract/index.js';
import Database from 'better-sqlite3';
import { referenceNet } from '../../src-engine/reference-net.js';
import { openStudio, type StudioOptions } from '../composition.js';
import type { Store } from '../db/store.js';
import type { Service } from './service.js';

export function tempDir(prefix = 'cnn-studio-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export async function openService(dir: string, options: StudioOptions = {}): Promise<Service> {
  return openStudio(join(dir, 'studio.sqlite'), options, dir);
}

export const MLP_SPEC: ModelSpec = {
  inputShape: [28, 28, 1],
  layers: [{ type: 'flatten' }, { type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }],
};

/** A few hundred images, a handful of batches per epoch: seconds, not minutes. */
export const QUICK: HyperparameterInput = { epochs: 2, batchSize: 25, trainLimit: 300, validationSplit: 0.1, seed: 7, progressEvery: 1 };

export function countRows(service: Service, table: string): number {
  return service.store.db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
}

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A TypeScript entry of this repository in a child process of its own (tsx), stdout/stderr piped. */
export function spawnTs(entry: string, args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** The JSON lines a child prints, read once and kept: `next` waits for the first line after the last one it returned that matches. */
export class JsonLines<T = Record<string, unknown>> {
  readonly lines: T[] = [];
  stderr = '';
  private read = 0;
  private ended = false;
  private wake: (() => void) | null = null;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (text) => {
      try {
        this.lines.push(JSON.parse(text) as T);
      } catch {
        return; // not JSON: a log line
      }
      this.wake?.();
    });
    child.stderr.on('data', (d) => (this.stderr += d));
    child.once('close', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  async next(until: (line: T) => boolean = () => true): Promise<T> {
    for (;;) {
      while (this.read < this.lines.length) {
        const line = this.lines[this.read++]!;
        if (until(line)) return line;
      }
      if (this.ended) throw new Error(`the child ended (${this.child.exitCode ?? this.child.signalCode}) before the line waited for; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }
}

/** Resolves with the child's exit code or signal. */
export function exited(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** The Store methods that write: a stand-in for a disk that takes no more writes patches them all. */
export const STORE_WRITES = [
  'setMeta', 'insertDataset', 'insertDatasetOnce', 'deleteDataset', 'insertRun', 'setStatus', 'releaseRun', 'claimForResume', 'setKernelsUsed',
  'updateRunInfo', 'deleteRun', 'addTrainSeconds', 'insertBatches', 'commitEpoch', 'insertSnapshot', 'rewindTo', 'insertEvaluation',
  'insertOwner', 'deleteOwner', 'insertHealthFailure',
] as const satisfies readonly (keyof Store)[];

/** Makes every write of `store` throw SQLITE_FULL while `full()` says so, as a full disk would. */
export function failWritesWhile(store: Store, full: () => boolean): { restore: () => void } {
  const originals = STORE_WRITES.map((m) => [m, store[m]] as const);
  for (const [m, original] of originals) {
    (store as unknown as Record<string, unknown>)[m] = (...args: unknown[]) => {
      if (full()) throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
      return (original as (...a: unknown[]) => unknown).apply(store, args);
    };
  }
  return { restore: () => originals.forEach(([m, original]) => ((store as unknown as Record<string, unknown>)[m] = original)) };
}

/** A 4-filter conv net on the sample's 28×28 gray images: every inspection has a conv and a pool to show, and it trains in seconds. */
export const SMALL_CONV_SPEC: ModelSpec = {
  inputShape: [28, 28, 1],
  layers: [
    { type: 'conv2d', filters: 4, kernelSize: 3, activation: 'relu' },
    { type: 'maxpool2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
};

/**
 * The reference conv net on the reference kernels: ~20–50 ms a batch here, 36 batches in all, so a
 * pause sent at its first batch event lands long before the run could finish.
 */
export const SLOW_SPEC: ModelSpec = referenceNet([28, 28, 1], 10);
export const SLOW: HyperparameterInput = { ...QUICK, epochs: 3, kernels: 'reference' };

/** A SLOW run paused at its first batch event, with its pause snapshot. */
export async function pausedRun(service: Service, datasetId: number): Promise<number> {
  const run = service.runs.start({ datasetId, spec: SLOW_SPEC, hyperparameters: SLOW });
  let pausing: Promise<unknown> | null = null;
  const off = service.on('runProgress', (e) => {
    if (e.runId === run.id && e.kind === 'batch' && !pausing) pausing = service.runs.pause(run.id);
  });
  const done = await service.runs.waitFor(run.id);
  off();
  await pausing;
  if (done.status !== 'paused') throw new Error(`the run should have paused, it is ${done.status}`);
  return run.id;
}
