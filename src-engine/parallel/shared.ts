/**
 * The shared memory of a data-parallel step, one SharedArrayBuffer laid out once:
 *
 *   control  Int32Array(CONTROL_WORDS)   generation, command, workers still running, batch size, …
 *   results  Float64Array(2·N)           per worker: shard loss (mean), shard correct count
 *   weights  Float32Array(P)             the lead's weights, copied in before each step
 *   x        Float32Array(B·inputSize)   the batch, NHWC
 *   labels   Int32Array(B)
 *   grads    Float32Array(N·P)           per worker: the gradient of its shard's mean loss
 *   error    Uint8Array(ERROR_BYTES)     the first worker error, UTF-8
 *
 * Pure: no node:* import, so the layout is shared by the pool (Node) and the replicas (any worker).
 */

export const CONTROL_WORDS = 8;
export const ERROR_BYTES = 1024;

/** Indices into the control words. */
export const C = {
  /** Bumped by the lead to start a step; workers Atomics.wait on it. */
  generation: 0,
  command: 1,
  /** Set to N by the lead; each worker decrements it when done; the lead waits for 0. */
  remaining: 2,
  /** Images in this step's batch. */
  n: 3,
  /** Non-zero once a worker failed; the message is in `error`. */
  failed: 4,
  /** Per step: seeds the replicas' dropout streams (0 when the model has no dropout). */
  dropoutSeed: 5,
  /** Workers that finished building their replica. */
  ready: 6,
} as const;

export const COMMAND_STEP = 1;
export const COMMAND_EXIT = 2;

export interface SharedLayout {
  workers: number;
  params: number;
  maxBatch: number;
  inputSize: number;
}

export interface SharedViews {
  control: Int32Array;
  results: Float64Array;
  weights: Float32Array;
  x: Float32Array;
  labels: Int32Array;
  grads: Float32Array;
  error: Uint8Array;
}

const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

function offsets(l: SharedLayout) {
  const control = 0;
  const results = align(control + CONTROL_WORDS * 4);
  const weights = align(results + 2 * l.workers * 8);
  const x = align(weights + l.params * 4);
  const labels = align(x + l.maxBatch * l.inputSize * 4);
  const grads = align(labels + l.maxBatch * 4);
  const error = align(grads + l.workers * l.params * 4);
  return { control, results, weights, x, labels, grads, error, total: align(error + ERROR_BYTES) };
}

export function sharedBytes(l: SharedLayout): number {
  return offsets(l).total;
}

export function sharedViews(buffer: SharedArrayBuffer, l: SharedLayout): SharedViews {
  const o = offsets(l);
  if (buffer.byteLength < o.total) throw new Error(`shared buffer has ${buffer.byteLength} bytes, the layout needs ${o.total}`);
  return {
    control: new Int32Array(buffer, o.control, CONTROL_WORDS),
    results: new Float64Array(buffer, o.results, 2 * l.workers),
    weights: new Float32Array(buffer, o.weights, l.params),
    x: new Float32Array(buffer, o.x, l.maxBatch * l.inputSize),
    labels: new Int32Array(buffer, o.labels, l.maxBatch),
    grads: new Float32Array(buffer, o.grads, l.workers * l.params),
    error: new Uint8Array(buffer, o.error, ERROR_BYTES),
  };
}

/** Worker i's images of a batch of n: [⌊i·n/N⌋, ⌊(i+1)·n/N⌋); the shards cover the batch in order. */
export function shardOf(i: number, workers: number, n: number): [start: number, end: number] {
  return [Math.floor((i * n) / workers), Math.floor(((i + 1) * n) / workers)];
}

/** What a worker is started with (structured-cloneable: goes through workerData). */
export interface ReplicaInit {
  buffer: SharedArrayBuffer;
  layout: SharedLayout;
  index: number;
  spec: import('../spec.js').ModelSpec;
  kernels: 'fast' | 'reference';
}
