/**
 * The service: owns the database (the only writer) and puts its parts together — the dataset
 * library, runs, evaluations — over one event hub. Transports (Electron IPC, the web server) use
 * `call`, which validates the request against the contract and answers a Result; in-process
 * callers (the CLI, tests) use the parts or `exec` directly.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isCommandName, parseRequest, type CommandName, type ContractHandler, type EventName, type Events, type RequestOf, type ResponseOf, type Result } from '../contract/index.js';
import { bundledSamplePath, removeStaleImportFiles } from '../datasets/index.js';
import { Store } from '../db/store.js';
import type { WorkerFactories } from '../worker-factories/types.js';
import type { ServiceContext } from './context.js';
import { DatasetLibrary } from './datasets.js';
import { ServiceError } from './errors.js';
import { Evaluations } from './evaluations.js';
import { EventHub } from './events.js';
import { commandHandlers, type CommandHandlers } from './handlers.js';
import { RunManager } from './runs.js';
import { Sweeps } from './sweeps.js';

export const SAMPLE_DATASET_NAME = 'Fashion-MNIST sample';

export interface ServiceOptions {
  /** How worker threads start: from src-main/composition.ts (source or bundle), or a test's own. */
  workers: WorkerFactories;
  /** Training workers at once (default 2); further runs wait in the queue. */
  poolSize?: number;
  /** Gradient threads the running runs may use between them (default 2, the cores of a small machine):
   *  a two-thread run trains alone, two one-thread runs (a sweep's "two at a time") together. */
  threadBudget?: number;
  /** Import the bundled Fashion-MNIST sample on first start (default true). */
  importSample?: boolean;
  /** Batch metric rows are buffered and written at most this often (ms); epoch ends flush at once. */
  flushIntervalMs?: number;
  /** Misclassified samples kept per evaluation. */
  maxMisclassified?: number;
}

export class Service implements ContractHandler {
  readonly store: Store;
  readonly dataDir: string;
  /** Dataset cache files and in-flight imports. */
  readonly cacheDir: string;
  readonly datasets: DatasetLibrary;
  readonly runs: RunManager;
  readonly evaluations: Evaluations;
  readonly sweeps: Sweeps;
  private readonly events = new EventHub();
  private readonly handlers: CommandHandlers;
  private closed = false;
  /** What open() found: runs it marked interrupted and the integrity check's answer. */
  readonly startup: { interrupted: number[]; integrity: string; sampleError?: string };

  private constructor(dbPath: string, dataDir: string, options: ServiceOptions) {
    this.dataDir = resolve(dataDir);
    const cacheDir = (this.cacheDir = join(this.dataDir, 'datasets'));
    mkdirSync(cacheDir, { recursive: true });
    // what imports of processes that died (kill -9, a crash) left behind; a live process's stay
    removeStaleImportFiles(cacheDir);
    mkdirSync(dirname(resolve(dbPath)), { recursive: true });
    this.store = new Store(dbPath);
    const ctx: ServiceContext = { store: this.store, events: this.events, cacheDir, workers: options.workers, isClosed: () => this.closed };
    this.datasets = new DatasetLibrary(ctx);
    this.runs = new RunManager(ctx, this.datasets, { poolSize: options.poolSize ?? 2, threadBudget: options.threadBudget ?? 2, flushIntervalMs: options.flushIntervalMs ?? 250 });
    this.evaluations = new Evaluations(ctx, this.runs, this.datasets, options.maxMisclassified ?? 1000);
    this.sweeps = new Sweeps(ctx, this.runs, this.datasets);
    this.handlers = commandHandlers(this);
    // Nothing runs yet: anything the database says is running or queued died with the last process.
    const interrupted = [...this.store.runIdsWithStatus('running'), ...this.store.runIdsWithStatus('queued')];
    for (const id of interrupted) this.store.setStatus(id, 'interrupted');
    this.startup = { interrupted, integrity: this.store.integrityCheck() };
  }

  /** Opens (creating if needed) the database and the data folder; imports the sample on first start. */
  static async open(dbPath: string, dataDir: string, options: ServiceOptions): Promise<Service> {
    const service = new Service(dbPath, dataDir, options);
    if ((options.importSample ?? true) && service.store.getMeta('sample_imported') === undefined) {
      try {
        await service.datasets.import({ path: bundledSamplePath(), name: SAMPLE_DATASET_NAME });
        service.store.setMeta('sample_imported', new Date().toISOString());
      } catch (e) {
        // not fatal (the library works without it), but said: the next start tries again
        service.store.setMeta('sample_import_error', (e as Error).message);
        service.startup.sampleError = (e as Error).message;
      }
    }
    return service;
  }

  /** Pauses running runs (their state is snapshotted), flushes metrics, closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.datasets.cancelAll();
    await this.runs.close(30_000);
    await this.evaluations.close();
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
