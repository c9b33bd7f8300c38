/**
 * The service: owns the database (the only writer) and puts its parts together — the dataset
 * library, runs, evaluations — over one event hub. Transports (Electron IPC, the web server) use
 * `call`, which validates the request against the contract and answers a Result; in-process
 * callers (the CLI, tests) use the parts or `exec` directly.
 */
import { mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isCommandName, parseRequest, type CommandName, type ContractHandler, type EventName, type Events, type RequestOf, type ResponseOf, type Result } from '../contract/index.js';
import { bundledSamplePath, removeStaleImportFiles } from '../datasets/index.js';
import { describeStorageFailure } from '../db/failure.js';
import { DamagedLibraryError, Store } from '../db/store.js';
import type { WorkerFactories } from '../worker-factories/types.js';
import type { ServiceContext } from './context.js';
import { DatasetLibrary } from './datasets.js';
import { ServiceError } from './errors.js';
import { Evaluations } from './evaluations.js';
import { EventHub } from './events.js';
import { commandHandlers, type CommandHandlers } from './handlers.js';
import type { JobQueueLimits } from './job-queue.js';
import { Ownership } from './ownership.js';
import { RunManager } from './runs.js';

export const SAMPLE_DATASET_NAME = 'Fashion-MNIST sample';

export interface ServiceOptions {
  /** How worker threads start: from src-main/composition.ts (source or bundle), or a test's own. */
  workers: WorkerFactories;
  /** Training workers at once (default 1); further runs wait in the queue. */
  poolSize?: number;
  /** Runs that may wait for a training slot (default 100); one more is refused. */
  maxQueuedRuns?: number;
  /** Imports at once and waiting (default 1 and 8); one more is refused. */
  imports?: Partial<JobQueueLimits>;
  /** Evaluations at once and waiting (default 1 and 8); one more is refused. */
  evaluations?: Partial<JobQueueLimits>;
  /** Import the bundled Fashion-MNIST sample on first start (default true). */
  importSample?: boolean;
  /** Batch metric rows are buffered and written at most this often (ms; 0: each as it comes); epoch ends flush at once. */
  flushIntervalMs?: number;
  /** Misclassified samples kept per evaluation. */
  maxMisclassified?: number;
  /** What this process is, as other processes name it when it has a run ("cnn-studio train", "the web server"). */
  ownerLabel?: string;
}

const DEFAULT_QUEUE: JobQueueLimits = { concurrency: 1, maxWaiting: 8 };

/** Why a library cannot be opened, in words, with what to do. */
function openFailure(dbPath: string, e: unknown): ServiceError {
  if (e instanceof ServiceError) return e;
  if (e instanceof DamagedLibraryError) return damagedLibrary(dbPath, e.problems);
  const words = describeStorageFailure(e, 'start again');
  return new ServiceError('storage', `cannot open the library ${dbPath}: ${words ?? (e as Error)?.message ?? String(e)}`);
}

/** The refusal for a library whose integrity check fails: nothing is written to it. */
export function damagedLibrary(dbPath: string, problems: string[]): ServiceError {
  const count = problems.length >= 10 ? 'at least 10 problems' : `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  return new ServiceError('storage', `the library ${dbPath} is damaged: its integrity check found ${count}, the first: "${problems[0]}". ` +
    `Nothing was written to it. Close CNN Studio everywhere it is open, keep a copy of ${basename(dbPath)} (with its -wal file, if any), ` +
    `then run "cnn-studio check --db ${dbPath}": it says whether rebuilding its indexes (--repair) can fix it or a backup must be restored`);
}

export class Service implements ContractHandler {
  readonly dataDir: string;
  /** Dataset cache files and in-flight imports. */
  readonly cacheDir: string;
  readonly datasets: DatasetLibrary;
  readonly runs: RunManager;
  readonly evaluations: Evaluations;
  private readonly events = new EventHub();
  private readonly handlers: CommandHandlers;
  private closed = false;
  /** What open() found: runs whose owner was gone (now interrupted), the integrity check's answer, stale import files removed. */
  readonly startup: { interrupted: number[]; integrity: string; staleImportFiles: string[]; sampleError?: string };

  private constructor(readonly store: Store, readonly ownership: Ownership, dataDir: string, cacheDir: string, options: ServiceOptions) {
    this.dataDir = dataDir;
    this.cacheDir = cacheDir;
    const ctx: ServiceContext = { store, events: this.events, cacheDir, workers: options.workers, isClosed: () => this.closed };
    this.datasets = new DatasetLibrary(ctx, { ...DEFAULT_QUEUE, ...options.imports });
    this.runs = new RunManager(ctx, this.datasets, ownership, {
      poolSize: options.poolSize ?? 1, flushIntervalMs: options.flushIntervalMs ?? 250, maxQueuedRuns: options.maxQueuedRuns ?? 100,
    });
    this.evaluations = new Evaluations(ctx, this.runs, this.datasets, options.maxMisclassified ?? 1000, { ...DEFAULT_QUEUE, ...options.evaluations });
    this.handlers = commandHandlers(this);
    // Runs another process marked queued/running stay so while it lives; those of a process that is gone are interrupted.
    const interrupted = this.runs.reconcile();
    try {
      ownership.forgetDeadOwners();
    } catch {
      // a full or read-only disk: a later look forgets them
    }
    // What killed imports left (their process is gone); never fails the start.
    let staleImportFiles: string[] = [];
    try {
      staleImportFiles = removeStaleImportFiles(cacheDir);
    } catch {
      // left for the next start
    }
    this.startup = { interrupted, integrity: 'ok', staleImportFiles };
  }

  /**
   * Opens (creating if needed) the database and the data folder; imports the sample on first start.
   * A library that cannot be opened, or fails its integrity check, is refused with what to do
   * (ServiceError 'storage'), and nothing is written to it.
   */
  static async open(dbPath: string, dataDir: string, options: ServiceOptions): Promise<Service> {
    const absoluteDb = resolve(dbPath);
    const absoluteData = resolve(dataDir);
    const cacheDir = join(absoluteData, 'datasets');
    let store: Store | null = null;
    let service: Service;
    try {
      mkdirSync(cacheDir, { recursive: true });
      mkdirSync(dirname(absoluteDb), { recursive: true });
      store = new Store(absoluteDb, { checkIntegrity: true });
      const ownership = new Ownership(store, absoluteDb, options.ownerLabel ?? defaultOwnerLabel());
      try {
        service = new Service(store, ownership, absoluteData, cacheDir, options);
      } catch (e) {
        ownership.release();
        throw e;
      }
    } catch (e) {
      store?.close();
      throw openFailure(absoluteDb, e);
    }
    if ((options.importSample ?? true) && service.store.getMeta('sample_imported') === undefined) {
      try {
        await service.datasets.import({ path: bundledSamplePath(), name: SAMPLE_DATASET_NAME });
        service.store.setMeta('sample_imported', new Date().toISOString());
      } catch (e) {
        // not fatal (the library works without it), but said: the next start tries again
        service.startup.sampleError = (e as Error).message;
        try {
          service.store.setMeta('sample_import_error', (e as Error).message);
        } catch {
          // the disk is full: the message above says so
        }
      }
    }
    return service;
  }

  /** Pauses running runs (their state is snapshotted), flushes metrics, closes the database. */
  /** How many runs this process is training now: what closing it pauses and snapshots. */
  runningHere(): number {
    return this.store.activeRuns().filter((r) => r.status === 'running' && this.ownership.isMine(r.owner)).length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.datasets.cancelAll();
    await this.runs.close(30_000);
    await this.evaluations.close();
    this.ownership.release();
    this.store.close();
  }

  /** A command from a transport: the request is validated against the contract first. */
  async call<C extends CommandName>(command: C, request: unknown): Promise<Result<ResponseOf<C>>> {
    if (typeof command !== 'string' || !isCommandName(command)) {
      return { ok: false, error: { code: 'bad_request', message: `unknown command ${JSON.stringify(command)}` } };
    }
    const parsed = parseRequest(command, request);
    if (!parsed.ok) return parsed;
    try {
      return { ok: true, value: await this.exec(command, parsed.value) };
    } catch (e) {
      if (e instanceof ServiceError) return { ok: false, error: e.toData() };
      // A read that failed (a damaged page, a vanished disk) is said in words like a failed write.
      const words = describeStorageFailure(e, 'try again');
      if (words) return { ok: false, error: { code: 'storage', message: words } };
      return { ok: false, error: { code: 'internal', message: (e as Error)?.message ?? String(e) } };
    }
  }

  /** A command from an in-process caller whose request is typed already; throws ServiceError. */
  async exec<C extends CommandName>(command: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
    return (this.handlers[command] as (r: RequestOf<C>) => ResponseOf<C> | Promise<ResponseOf<C>>)(request);
  }

  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    return this.events.on(event, listener);
  }
}

/** How other processes name this one when it has a run: the program and its first argument. */
function defaultOwnerLabel(): string {
  if (process.versions.electron) return 'the CNN Studio desktop app';
  const script = process.argv[1] ? basename(process.argv[1]) : 'node';
  return `${script}${process.argv[2] && !process.argv[2].startsWith('-') ? ` ${process.argv[2]}` : ''}`;
}
