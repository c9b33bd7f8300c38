/**
 * The Node bootstrap of a replica thread: the only file of the parallel engine that touches
 * node:*. It reads the ReplicaInit from workerData and serves steps until told to exit. The app
 * bundles it with electron-vite's `?nodeWorker` import; scripts and tests start it through tsx
 * (node.ts).
 */
import { workerData } from 'node:worker_threads';
import { runReplica } from './replica.js';
import type { ReplicaInit } from './shared.js';

runReplica(workerData as ReplicaInit);
