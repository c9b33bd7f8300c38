/**
 * The shared memory of a data-parallel step, one SharedArrayBuffer laid out once:
 *
 *   control  Int32Array(CONTROL_WORDS)   generation, command, shards left, batch size, next shard, …
 *   results  Float64Array(2·S)           per shard: its summed loss, its correct count
 *   step     Float64Array(STEP_WORDS)    the step's settings: label smoothing
 *   weights  Float32Array(V)             the lead's values (parameters and statistics), copied in before each step
 *   x        Float32Array(B·inputSize)   the batch, NHWC
 *   labels   Int32Array(B)
 *   grads    Float32Array(S·P)           per shard: its part of the gradient of the batch's mean loss
 *   sums     Float64Array(2·S·L)         per shard: its batch-sum vector at the current sync point,
 *                                        two sets alternating by sync point (none without batch norm)
 *   error    Uint8Array(ERROR_BYTES)     the first worker error, UTF-8
 *
 * A batch is cut into S shards of `shardSize` images in order; each shard's gradient has its own
 * slot, and the slots (and a batch norm's sums) are added in shard order, so the sum does not
 * depend on which thread computed what: the result is the same for any number of threads.
 *
 * Pure: no node:* import, so the layout is shared by the pool (Node) and the replicas (any worker).
 */

export const CONTROL_WORDS = 9;
export const STEP_WORDS = 2;
export const ERROR_BYTES = 1024;

/** Indices into the control words. */
export const C = {
  /** Bumped by the lead to start a step; worker threads Atomics.wait on it. */
  generation: 0,
  command: 1,
  /** Set to S by the lead; decremented per finished shard; the lead waits for 0. */
  remaining: 2,
  /** Images in this step's batch. */
  n: 3,
  /** Non-zero once a worker failed; the message is in `error`. */
  failed: 4,
  /** Per step: seeds the replicas' dropout streams (0 when the model has no dropout). */
  dropoutSeed: 5,
  /** Workers that finished building their replica. */
  ready: 6,
  /** (generation & 0x7fff) << 16 | next shard index; taken by compare-and-swap, so a worker still
   *  on an old step can never take a shard of the new one. */
  nextShard: 7,
  /** Threads that reached the current sync point of a synchronized step (batch norm), counting up
   *  over the step: sync point k is passed once it reaches threads·(k + 1). */
  arrived: 8,
} as const;

/** Indices into the step words. */
export const S = {
  labelSmoothing: 0,
} as const;

export const SHARD_TAG_SHIFT = 16;
export const shardTag = (generation: number): number => (generation & 0x7fff) << SHARD_TAG_SHIFT;

export const COMMAND_STEP = 1;
export const COMMAND_EXIT = 2;

export interface SharedLayout {
  threads: number;
  /** Trainable values: one gradient slot's length. */
  params: number;
  /** Every value (parameters, then statistics): the weights copied to the replicas. */
  values: number;
  /** The longest batch-sum vector of the model's batch-norm layers; 0 without any. */
  sumLength: number;
  maxBatch: number;
  inputSize: number;
  /** Images per shard (the last one of a batch may have fewer). */
  shardSize: number;
}

export const maxShards = (l: SharedLayout): number => Math.ceil(l.maxBatch / l.shardSize);

export interface SharedViews {
  control: Int32Array;
  results: Float64Array;
  step: Float64Array;
  weights: Float32Array;
  x: Float32Array;
  labels: Int32Array;
  grads: Float32Array;
  sums: Float64Array;
  error: Uint8Array;
}

const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

function offsets(l: SharedLayout) {
  const control = 0;
  const results = align(control + CONTROL_WORDS * 4);
  const step = align(results + 2 * maxShards(l) * 8);
  const weights = align(step + STEP_WORDS * 8);
  const x = align(weights + l.values * 4);
  const labels = align(x + l.maxBatch * l.inputSize * 4);
  const grads = align(labels + l.maxBatch * 4);
  const sums = align(grads + maxShards(l) * l.params * 4);
  const error = align(sums + 2 * maxShards(l) * l.sumLength * 8);
  return { control, results, step, weights, x, labels, grads, sums, error, total: align(error + ERROR_BYTES) };
}

export function sharedBytes(l: SharedLayout): number {
  return offsets(l).total;
}

export function sharedViews(buffer: SharedArrayBuffer, l: SharedLayout): SharedViews {
  const o = offsets(l);
  if (buffer.byteLength < o.total) throw new Error(`shared buffer has ${buffer.byteLength} bytes, the layout needs ${o.total}`);
  return {
    control: new Int32Array(buffer, o.control, CONTROL_WORDS),
    results: new Float64Array(buffer, o.results, 2 * maxShards(l)),
    step: new Float64Array(buffer, o.step, STEP_WORDS),
    weights: new Float32Array(buffer, o.weights, l.values),
    x: new Float32Array(buffer, o.x, l.maxBatch * l.inputSize),
    labels: new Int32Array(buffer, o.labels, l.maxBatch),
    grads: new Float32Array(buffer, o.grads, maxShards(l) * l.params),
    sums: new Float64Array(buffer, o.sums, 2 * maxShards(l) * l.sumLength),
    error: new Uint8Array(buffer, o.error, ERROR_BYTES),
  };
}

/** Shards of a batch of n: ⌈n / shardSize⌉. */
export const shardCount = (n: number, shardSize: number): number => Math.ceil(n / shardSize);

/** Shard i's images of a batch of n: [i·shardSize, min(n, (i+1)·shardSize)); in order, covering the batch. */
export function shardOf(i: number, shardSize: number, n: number): [start: number, end: number] {
  return [i * shardSize, Math.min(n, (i + 1) * shardSize)];
}

/** The shards thread t (0 = the lead) computes in a synchronized step, [first, end): consecutive
 *  runs, the lead's first and never empty while there is a shard. Who computes a shard changes
 *  nothing in its result. */
export function ownedShards(t: number, threads: number, shards: number): [first: number, end: number] {
  return [Math.ceil((shards * t) / threads), Math.ceil((shards * (t + 1)) / threads)];
}

/** What a worker is started with (structured-cloneable: goes through workerData). */
export interface ReplicaInit {
  buffer: SharedArrayBuffer;
  layout: SharedLayout;
  index: number;
  spec: import('../spec.js').ModelSpec;
  /** The name of the kernel set the lead resolved ('reference', 'wasm-simd', …): every replica
   *  computes with the same one. */
  kernels: string;
}

/**
 * How many times a waiting thread reads a control word before it sleeps in Atomics.wait. A sleeping
 * thread's wake-up (a futex, through the hypervisor on a VM) can take far longer than a batch-norm
 * layer's sums take to arrive, and every thread of a step waits for the slowest: a short spin first
 * (tens of microseconds) lets a step's sync points pass without a sleep. 0 turns it off.
 */
export const SPIN_READS = 1 << 14;

/** Returns once `words[index]` is no longer `value` (then its new value), or 'timed-out' after `timeoutMs` asleep. */
export function waitWhile(words: Int32Array, index: number, value: number, timeoutMs = Infinity, spinReads = SPIN_READS): number | 'timed-out' {
  for (let i = 0; i < spinReads; i++) {
    const now = Atomics.load(words, index);
    if (now !== value) return now;
  }
  if (Atomics.wait(words, index, value, timeoutMs) === 'timed-out') return 'timed-out';
  return Atomics.load(words, index);
}
