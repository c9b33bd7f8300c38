/** Worker entry: one job per worker thread (train or evaluate); the thread ends when the job does. */
import { parentPort } from 'node:worker_threads';
import { workerFactories } from '../worker-factories/index.js';
import type { WorkerJob } from './protocol.js';
import { runJob } from './run-job.js';

if (!parentPort) throw new Error('training/worker.ts must run in a worker thread');
const port = parentPort;
port.once('message', (job: WorkerJob) => {
  void runJob(job, (message, transfer) => port.postMessage(message, transfer ?? []), workerFactories.replica);
});
