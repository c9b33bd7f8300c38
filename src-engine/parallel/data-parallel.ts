/**
 * Data-parallel gradients: the Trainer's `gradients` hook, computed by replicas of the model on N
 * threads: the calling thread (the lead) and N − 1 worker threads. Each step the lead copies its
 * weights and the batch into shared memory; the batch is cut into shards of `shardSize` images,
 * which the threads compute — the lead too, so a step needs no hand-off while there is work; each
 * shard's part of the gradient of the batch's mean loss (its summed loss over n) goes to its own
 * slot, and the lead adds the slots in shard order:
 *   loss = Σ_s lossSum_s / n,   grad = Σ_s grad_s
 * So the result depends on the batch and the shard size only, not on N or on the scheduling: it is
 * deterministic, the same bit for bit for any N, and within float rounding of the single-threaded
 * gradient of the whole batch (the sums are grouped differently).
 *
 * Batch norm keeps that definition: its statistics are the whole batch's, not a shard's. Its
 * layers' sums (Σx, Σ(x − mean)², then Σdy, Σdy·(x − mean)) are added over every shard in shard
 * order at each batch-norm layer before any shard goes on (replica.ts, the synchronized step), and
 * the running statistics are updated once per step from those totals.
 *
 * Pure: threads come from a `spawn` function (node.ts gives one for Node's worker_threads, the app
 * gives its bundler's), and `compute` blocks the calling thread in Atomics.wait until the step is
 * done — so call it from a worker thread or Node's main thread, never a browser window.
 */
import { resolveKernels, type KernelChoice } from '../kernels/resolve.js';
import type { Kernels } from '../kernels/types.js';
import { layerDefinition } from '../layers/registry.js';
import type { Model } from '../model.js';
import type { ModelSpec } from '../spec.js';
import type { GradientComputer, GradientOptions } from '../train.js';
import { sizeOf, type FloatArray } from '../tensor.js';
import { inferShapesOrThrow } from '../shapes.js';
import { maxSumLength, ReplicaModels, serveStep } from './replica.js';
import { C, COMMAND_EXIT, COMMAND_STEP, S, SHARD_TAG_SHIFT, sharedBytes, sharedViews, shardCount, shardTag, waitWhile, type ReplicaInit, type SharedLayout, type SharedViews } from './shared.js';

/** A started replica thread, as much of it as the pool needs. */
export interface ReplicaHandle {
  /** Called at most once if the thread fails to start or dies. */
  onFailure(listener: (error: Error) => void): void;
  terminate(): unknown;
}

export type SpawnReplica = (init: ReplicaInit) => ReplicaHandle;

export interface DataParallelOptions {
  /** Computing threads, the calling one included: N − 1 worker threads are started. */
  threads: number;
  /** The largest batch a step will get (the trainer's batch size). */
  maxBatch: number;
  /** Images per shard. Default 8: small shards balance the threads, and 8 images per kernel call
   *  amortise what each call copies (a dense layer's weights and their gradient): measured 1.2–1.3×
   *  the images per CPU-second of 4, while 16 and 32 lose it again to cache misses. */
  shardSize?: number;
  /** Default 'fast': resolved once by resolveKernels (the reference loops where there is no
   *  WebAssembly SIMD), and every replica computes with the same set. */
  kernels?: KernelChoice;
  spawn: SpawnReplica;
  /** A step that takes longer than this is a dead replica. Default 120 s. */
  stepTimeoutMs?: number;
}

export class DataParallelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataParallelError';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * grads = slot 0 + slot 1 + … + slot (shards − 1), added in that order and rounded to float32 after
 * each addition, as `grads[j] += slot[j]` shard after shard would, but up to four slots in one pass
 * over the parameters: the shard-by-shard passes re-read and re-wrote the gradient once a shard
 * (1.3 ms a shard for the bigger nets' 421K parameters, 3.9 ms a step in 4 shards; one pass 1.9).
 */
export function sumShards(slots: Float32Array, shards: number, params: number, grads: FloatArray): void {
  const f = Math.fround;
  const slot = (s: number) => slots.subarray(s * params, (s + 1) * params);
  const s0 = slot(0);
  if (shards === 1) grads.set(s0);
  else if (shards === 2) {
    const s1 = slot(1);
    for (let j = 0; j < params; j++) grads[j] = f(s0[j]! + s1[j]!);
  } else {
    const s1 = slot(1), s2 = slot(2);
    if (shards === 3) for (let j = 0; j < params; j++) grads[j] = f(f(s0[j]! + s1[j]!) + s2[j]!);
    else {
      const s3 = slot(3);
      for (let j = 0; j < params; j++) grads[j] = f(f(f(s0[j]! + s1[j]!) + s2[j]!) + s3[j]!);
    }
  }
  for (let s = 4; s < shards; s++) {
    const a = slot(s);
    for (let j = 0; j < params; j++) grads[j] = f(grads[j]! + a[j]!);
  }
}

export class DataParallelGradients implements GradientComputer {
  readonly threads: number;
  readonly maxBatch: number;
  private readonly layout: SharedLayout;
  private readonly v: SharedViews;
  private readonly handles: ReplicaHandle[] = [];
  private readonly hasDropout: boolean;
  private readonly timeoutMs: number;
  private failure: Error | null = null;
  /** Shards computed so far, and how many of them by the lead (the rest by the worker threads). */
  readonly stats = { shards: 0, leadShards: 0 };
  /** The kernel set every replica computes with, as resolved from the choice. */
  readonly kernels: Kernels;
  /** The lead's own replica models: it computes shards with the same kernels as the threads, so the
   *  result does not depend on who took which shard. */
  private readonly replica: ReplicaModels;
  private closed = false;

  private constructor(readonly spec: ModelSpec, options: DataParallelOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1) throw new DataParallelError(`threads must be a positive integer, got ${options.threads}`);
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) throw new DataParallelError(`maxBatch must be a positive integer, got ${options.maxBatch}`);
    const shardSize = options.shardSize ?? 8;
    this.kernels = resolveKernels(options.kernels ?? 'fast');
    if (!Number.isInteger(shardSize) || shardSize < 1) throw new DataParallelError(`shardSize must be a positive integer, got ${shardSize}`);
    if (Math.ceil(options.maxBatch / shardSize) >= 1 << SHARD_TAG_SHIFT) throw new DataParallelError(`maxBatch ${options.maxBatch} / shardSize ${shardSize} makes too many shards`);
    const shapes = inferShapesOrThrow(spec);
    this.threads = options.threads;
    this.maxBatch = options.maxBatch;
    this.layout = {
      threads: options.threads, params: shapes.totalParams, values: shapes.totalParams + shapes.totalStatistics, sumLength: 0,
      maxBatch: options.maxBatch, inputSize: sizeOf(spec.inputShape), shardSize,
    };
    this.replica = new ReplicaModels({ spec, kernels: this.kernels.name, layout: this.layout });
    this.layout.sumLength = maxSumLength(this.replica.model(0));
    this.v = sharedViews(new SharedArrayBuffer(sharedBytes(this.layout)), this.layout);
    this.hasDropout = spec.layers.some((l) => layerDefinition(l).random === true);
    this.timeoutMs = options.stepTimeoutMs ?? 120_000;
  }

  /** Starts the replicas and resolves once every one has built its model. */
  static async start(spec: ModelSpec, options: DataParallelOptions): Promise<DataParallelGradients> {
    const pool = new DataParallelGradients(spec, options);
    const buffer = pool.v.control.buffer as SharedArrayBuffer;
    try {
      for (let index = 1; index < pool.threads; index++) {
        const handle = options.spawn({ buffer, layout: pool.layout, index, spec, kernels: pool.kernels.name });
        handle.onFailure((e) => { pool.failure ??= new DataParallelError(`replica ${index} failed: ${e.message}`); });
        pool.handles.push(handle);
      }
      const deadline = Date.now() + pool.timeoutMs;
      while (Atomics.load(pool.v.control, C.ready) < pool.threads - 1) {
        if (pool.failure) throw pool.failure;
        if (Date.now() > deadline) throw new DataParallelError(`only ${Atomics.load(pool.v.control, C.ready)} of ${pool.threads - 1} replica threads started within ${pool.timeoutMs} ms`);
        await sleep(2);
      }
      if (Atomics.load(pool.v.control, C.failed)) throw new DataParallelError(pool.errorText());
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  private errorText(): string {
    const bytes = this.v.error;
    const end = bytes.indexOf(0);
    return new TextDecoder().decode(bytes.slice(0, end < 0 ? bytes.length : end));
  }

  /** The batch's mean loss and correct count; overwrites model.grads with the batch's gradient and
   *  updates the model's statistics (batch norm's running ones) from the batch. */
  compute(model: Model, x: Float32Array, labels: Int32Array, n: number, options: GradientOptions = {}): { loss: number; correct: number } {
    if (this.closed) throw new DataParallelError('the data-parallel pool is closed');
    if (this.failure) throw this.failure;
    const { params, inputSize, shardSize } = this.layout;
    if (model.grads.length !== params || model.values.length !== this.layout.values) {
      throw new DataParallelError(`the model has ${model.grads.length} parameters and ${model.values.length} values, the pool's replicas ${params} and ${this.layout.values}`);
    }
    if (!Number.isInteger(n) || n < 1 || n > this.maxBatch) throw new DataParallelError(`batch of ${n} is outside the pool's 1..${this.maxBatch} (maxBatch)`);
    if (x.length < n * inputSize || labels.length < n) {
      throw new DataParallelError(`batch of ${n} needs ${n * inputSize} values and ${n} labels, got ${x.length} and ${labels.length}`);
    }
    const v = this.v;
    v.weights.set(model.values);
    v.x.set(x.length === n * inputSize ? x : x.subarray(0, n * inputSize));
    v.labels.set(labels.length === n ? labels : labels.subarray(0, n));
    const shards = shardCount(n, shardSize);
    v.control[C.n] = n;
    v.step[S.labelSmoothing] = options.labelSmoothing ?? 0;
    // one draw per step from the lead's stream keeps dropout resumable from the trainer state
    v.control[C.dropoutSeed] = this.hasDropout ? (model.dropoutRng.nextU32() | 1) : 0;
    Atomics.store(v.control, C.remaining, shards);
    Atomics.store(v.control, C.command, COMMAND_STEP);
    const generation = Atomics.load(v.control, C.generation) + 1;
    Atomics.store(v.control, C.nextShard, shardTag(generation));
    Atomics.store(v.control, C.generation, generation);
    Atomics.notify(v.control, C.generation);
    this.stats.leadShards += serveStep(this.replica, v, this.layout, generation, 0, 'lead');
    this.stats.shards += shards;

    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const left = Atomics.load(v.control, C.remaining);
      if (left === 0) break;
      if (waitWhile(v.control, C.remaining, left, 1000) === 'timed-out' && Date.now() > deadline) {
        this.failure = new DataParallelError(`${left} of ${shards} shards were not done within ${this.timeoutMs} ms`);
        throw this.failure;
      }
    }
    if (Atomics.load(v.control, C.failed)) {
      this.failure = new DataParallelError(this.errorText());
      throw this.failure;
    }

    // the sum of the shards, in shard order
    const grads = model.grads;
    let lossSum = 0;
    let correct = 0;
    sumShards(v.grads, shards, params, grads);
    for (let s = 0; s < shards; s++) {
      lossSum += v.results[2 * s]!;
      correct += v.results[2 * s + 1]!;
    }
    // the lead's first shard updated the running statistics once, from the batch's totals
    if (this.replica.synchronized) model.values.set(this.replica.values.subarray(params), params);
    return { loss: lossSum / n, correct };
  }

  /** Stops the replicas. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.v.control, C.command, COMMAND_EXIT);
    Atomics.add(this.v.control, C.generation, 1);
    Atomics.notify(this.v.control, C.generation);
    await Promise.all(this.handles.map((h) => h.terminate()));
  }
}
