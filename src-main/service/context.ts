/** What the service's parts share: the one database writer, the event streams, where caches live, how workers start. */
import type { Store } from '../db/store.js';
import type { WorkerFactories } from '../worker-factories/types.js';
import type { EventHub } from './events.js';

export interface ServiceContext {
  readonly store: Store;
  readonly events: EventHub;
  /** Dataset cache files (`<sha256>.cnnds`) and in-flight import files. */
  readonly cacheDir: string;
  readonly workers: WorkerFactories;
  /** True once close() began: long operations stop storing results. */
  isClosed(): boolean;
}
