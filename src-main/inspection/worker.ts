/** Worker entry: one inspection per worker thread; the thread ends when it has answered. */
import { parentPort } from 'node:worker_threads';
import type { InspectionJob } from './protocol.js';
import { inspectionMessage } from './run-inspection.js';

if (!parentPort) throw new Error('inspection/worker.ts must run in a worker thread');
const port = parentPort;
port.once('message', (job: InspectionJob) => {
  void inspectionMessage(job, (m) => port.postMessage(m)).then((message) => {
    port.postMessage(message);
    port.close();
  });
});
