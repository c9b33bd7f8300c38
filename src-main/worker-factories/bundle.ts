/**
 * The worker factories of built runs (the electron-vite bundle: the desktop app, the built CLI and
 * web server). electron-vite turns each `?nodeWorker` import into a chunk of its own and a function
 * that starts it; electron.vite.config.ts puts this module in place of ./index.ts.
 */
import startImporter from '../datasets/worker.ts?nodeWorker';
import startReplica from '../../src-engine/parallel/worker-entry.ts?nodeWorker';
import startInspection from '../inspection/worker.ts?nodeWorker';
import startTraining from '../training/worker.ts?nodeWorker';
import type { WorkerFactories } from './types.js';

export type { WorkerFactories } from './types.js';

export const workerFactories: WorkerFactories = {
  training: () => startTraining({}),
  evaluation: () => startTraining({}),
  inspection: () => startInspection({}),
  importer: (data) => startImporter({ workerData: data }),
  replica: (init) => startReplica({ workerData: init }),
};
