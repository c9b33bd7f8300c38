/**
 * A training worker that dies mid-job, for the crash tests: it reports 'started' and one batch like
 * the real worker, then throws (mode 'throw') or ends its thread with process.exit (mode 'exit').
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerMessage } from '../protocol.js';

const mode = (workerData as { mode: 'throw' | 'exit' }).mode;
parentPort!.once('message', () => {
  const post = (m: WorkerMessage) => parentPort!.postMessage(m);
  post({ type: 'started', kernels: 'reference', trainCount: 10, validationCount: 0, batchesPerEpoch: 2, epoch: 0, step: 0, monitor: 'trainLoss' });
  post({ type: 'batch', event: { epoch: 0, batch: 0, batchesPerEpoch: 2, step: 1, loss: 2.3, accuracy: 0.1, learningRate: 0.01 }, wallTime: 0.01, imagesPerSecond: null });
  setTimeout(() => {
    if (mode === 'exit') process.exit(3);
    throw new Error('simulated bug in the training loop');
  }, 20);
});
