/**
 * The composition root: the one place that puts the service together with its worker threads.
 * The CLI, the web server and the Electron shell open the studio through here; source runs and
 * built runs differ only in the worker-factories module this imports (electron.vite.config.ts
 * swaps ./worker-factories/index.ts for ./worker-factories/bundle.ts).
 */
import { dirname, resolve } from 'node:path';
import { Service, type ServiceOptions } from './service/service.js';
import { workerFactories } from './worker-factories/index.js';

export type StudioOptions = Omit<ServiceOptions, 'workers'> & Partial<Pick<ServiceOptions, 'workers'>>;

/** Opens the library at `dbPath` (its data folder beside it unless told otherwise). */
export function openStudio(dbPath: string, options: StudioOptions = {}, dataDir: string = dirname(resolve(dbPath))): Promise<Service> {
  return Service.open(dbPath, dataDir, { workers: workerFactories, ...options });
}
