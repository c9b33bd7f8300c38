/**
 * The replica side of data-parallel training: the models of one thread and what they do for each
 * step the lead starts. The lead runs one too, on its own thread. Pure (Atomics and typed arrays
 * only): the thread it runs in is started by a bootstrap (worker-entry.ts for Node; a bundler's
 * worker import in the app).
 *
 * Two kinds of step, by model:
 * - Without batch norm a shard's gradient depends on its images alone, so threads take shards one
 *   at a time, whoever is free (a thread the OS slows down simply takes fewer), each on one model.
 * - With batch norm a shard's forward needs the whole batch's statistics, and its backward the whole
 *   batch's sums of dy and dy·x̂. The step is then synchronized: each thread computes a fixed run of
 *   shards (ownedShards), one model per shard, all over one copy of the weights; every shard's pass
 *   (Model.trainingPass) stops at each batch-norm layer with its sums, every thread writes its shards'
 *   sums to their slots and waits for the others, then each adds all S slots in shard order — the
 *   same total on every thread, bit for bit, whatever the thread count — and the passes go on.
 *   So batch statistics are over the whole batch, exactly as one model computing the batch at once
 *   defines them (within float rounding of it: the sums are grouped by shard).
 */
import { resolveKernels } from '../kernels/resolve.js';
import { isBatchSumLayer } from '../layers/layer.js';
import { buildModel, type BatchSumRequest, type Model, type PassResult } from '../model.js';
import { Rng } from '../rng.js';
import { C, COMMAND_EXIT, S, SHARD_TAG_SHIFT, maxShards, ownedShards, sharedViews, shardCount, shardOf, shardTag, waitWhile, type ReplicaInit, type SharedLayout, type SharedViews } from './shared.js';

/** The seed of shard `index`'s dropout stream for one step, from the lead's per-step seed. */
export function shardDropoutSeed(stepSeed: number, index: number): number {
  return (stepSeed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
}

function reportError(error: Uint8Array, control: Int32Array, message: string): void {
  if (Atomics.compareExchange(control, C.failed, 0, 1) !== 0) return;
  const bytes = new TextEncoder().encode(message).subarray(0, error.length - 1);
  error.fill(0);
  error.set(bytes);
}

/** The next shard of step `generation`, or -1 when its shards are all taken (or the step is over). */
function takeShard(control: Int32Array, generation: number, shards: number): number {
  const tag = shardTag(generation);
  for (;;) {
    const v = Atomics.load(control, C.nextShard);
    const index = v & ((1 << SHARD_TAG_SHIFT) - 1);
    if ((v & ~((1 << SHARD_TAG_SHIFT) - 1)) !== tag || index >= shards) return -1;
    if (Atomics.compareExchange(control, C.nextShard, v, v + 1) === v) return index;
  }
}

/** A point where every shard's pass stops for the whole batch's sums. */
export interface SyncPoint {
  layerIndex: number;
  phase: 'forward' | 'backward';
  length: number;
}

/** The sync points of a training pass of `model`, in order: each batch-norm layer's forward sums,
 *  then each one's backward sums, layers in reverse (every one is reached: a batch-norm layer has
 *  parameters, so the backward goes through it). */
export function syncPoints(model: Model): SyncPoint[] {
  const points: SyncPoint[] = [];
  const layers = model.layers.map((layer, layerIndex) => ({ layer, layerIndex })).filter(({ layer }) => isBatchSumLayer(layer));
  for (const { layer, layerIndex } of layers) {
    if (isBatchSumLayer(layer)) for (const length of layer.forwardSumLengths) points.push({ layerIndex, phase: 'forward', length });
  }
  for (const { layer, layerIndex } of layers.reverse()) {
    if (isBatchSumLayer(layer)) for (const length of layer.backwardSumLengths) points.push({ layerIndex, phase: 'backward', length });
  }
  return points;
}

/** The longest batch-sum vector of a model (the shared sums slots' length); 0 without batch norm. */
export const maxSumLength = (model: Model): number => Math.max(0, ...syncPoints(model).map((p) => p.length));

/**
 * One thread's models: a shard model per shard it computes at once (one for unsynchronized steps),
 * all over one copy of the shared weights, on the kernel set the lead resolved (by name): a thread
 * that would compute with another set refuses, since the shards' sum would then depend on who took
 * them.
 */
export class ReplicaModels {
  readonly values: Float32Array;
  readonly points: SyncPoint[];
  private readonly models: Model[] = [];

  constructor(private readonly init: Pick<ReplicaInit, 'spec' | 'kernels' | 'layout'>) {
    const first = this.build();
    if (first.values.length !== init.layout.values || first.grads.length !== init.layout.params) {
      throw new Error(`the model has ${first.grads.length} parameters and ${first.values.length} values, the lead ${init.layout.params} and ${init.layout.values}`);
    }
    this.values = first.values;
    this.models.push(first);
    this.points = syncPoints(first);
  }

  private build(values?: Float32Array): Model {
    const kernels = resolveKernels(this.init.kernels === 'reference' ? 'reference' : 'fast');
    if (kernels.name !== this.init.kernels) throw new Error(`this thread's kernels are ${kernels.name}, the lead's ${this.init.kernels}`);
    return buildModel(this.init.spec, { kernels, values });
  }

  get synchronized(): boolean {
    return this.points.length > 0;
  }

  /** Shard model i (built on first use). */
  model(i: number): Model {
    while (this.models.length <= i) this.models.push(this.build(this.values));
    return this.models[i]!;
  }
}

/** Shard `shard`'s training pass over its images, its dropout stream seeded for this step. */
function startShard(model: Model, v: SharedViews, layout: SharedLayout, shard: number, n: number, stepSeed: number, updateStatistics = false): Generator<BatchSumRequest, PassResult, Float64Array> {
  const [start, end] = shardOf(shard, layout.shardSize, n);
  if (stepSeed !== 0) model.dropoutRng.setState(new Rng(shardDropoutSeed(stepSeed, shard)).getState());
  return model.trainingPass(v.x.subarray(start * layout.inputSize, end * layout.inputSize), v.labels.subarray(start, end), end - start, {
    // each shard's part of the gradient of the whole batch's mean loss: the slots simply add up
    lossScale: 1 / n, labelSmoothing: v.step[S.labelSmoothing]!, inputGradient: false, training: true, updateStatistics,
  });
}

function finishShard(model: Model, v: SharedViews, layout: SharedLayout, shard: number, r: PassResult): void {
  v.grads.set(model.grads, shard * layout.params);
  v.results[2 * shard] = r.lossSum;
  v.results[2 * shard + 1] = r.correct;
}

/**
 * Step `generation`: this thread's shards into their slots. Run by every replica thread and by the
 * lead itself (thread 0); returns how many shards it computed. In a synchronized step the lead's
 * first shard also updates the batch-norm statistics in `replica.values`, once, from the batch's
 * totals: the lead copies them to its model after the step.
 */
export function serveStep(replica: ReplicaModels, v: SharedViews, layout: SharedLayout, generation: number, thread: number, who: string): number {
  // the lead wrote everything of this step before bumping the generation
  const n = v.control[C.n]!;
  const shards = shardCount(n, layout.shardSize);
  const stepSeed = v.control[C.dropoutSeed]! >>> 0;
  return replica.synchronized
    ? serveSynchronized(replica, v, layout, generation, n, shards, stepSeed, thread, who)
    : serveShards(replica, v, layout, generation, n, shards, stepSeed, who);
}

function serveShards(replica: ReplicaModels, v: SharedViews, layout: SharedLayout, generation: number, n: number, shards: number, stepSeed: number, who: string): number {
  const model = replica.model(0);
  let weightsCopied = false;
  let taken = 0;
  for (let shard = takeShard(v.control, generation, shards); shard >= 0; shard = takeShard(v.control, generation, shards)) {
    try {
      if (!weightsCopied) {
        replica.values.set(v.weights);
        weightsCopied = true;
      }
      const r = startShard(model, v, layout, shard, n, stepSeed).next();
      if (!r.done) throw new Error('a model without batch-sum layers stopped for sums');
      finishShard(model, v, layout, shard, r.value);
    } catch (e) {
      reportError(v.error, v.control, `${who}, shard ${shard}: ${(e as Error).message}`);
    }
    taken++;
    if (Atomics.sub(v.control, C.remaining, 1) === 1) Atomics.notify(v.control, C.remaining);
  }
  return taken;
}

/** Waits until every thread has reached sync point `point` (counted from the first step on, so the
 *  counter is never reset under a thread still leaving the last one); false when a thread failed. */
function arrive(control: Int32Array, threads: number, point: number): boolean {
  const target = threads * (point + 1);
  let now = Atomics.add(control, C.arrived, 1) + 1;
  if (now >= target) {
    Atomics.notify(control, C.arrived);
    return true;
  }
  while (now < target) {
    if (Atomics.load(control, C.failed)) return false;
    const next = waitWhile(control, C.arrived, now, 1000);
    now = next === 'timed-out' ? Atomics.load(control, C.arrived) : next;
  }
  return true;
}

function serveSynchronized(replica: ReplicaModels, v: SharedViews, layout: SharedLayout, generation: number, n: number, shards: number,
  stepSeed: number, thread: number, who: string): number {
  const [first, end] = ownedShards(thread, layout.threads, shards);
  // two sets of slots, alternating: a thread writing sync point k + 1 has passed point k, so every
  // thread has read point k − 1's set, the one it overwrites
  const slot = (k: number, shard: number) => ((k & 1) * maxShards(layout) + shard) * layout.sumLength;
  // every step (generation 1, 2, …) has the same sync points, all of them synchronized
  const before = (generation - 1) * replica.points.length;
  const passes: Generator<BatchSumRequest, PassResult, Float64Array>[] = [];
  const states: IteratorResult<BatchSumRequest, PassResult>[] = [];
  let failed = false;
  const fail = (shard: number | null, e: unknown) => {
    failed = true;
    reportError(v.error, v.control, `${who}${shard === null ? '' : `, shard ${shard}`}: ${(e as Error).message}`);
  };
  try {
    if (end > first) replica.values.set(v.weights);
    for (let s = first; s < end; s++) {
      const pass = startShard(replica.model(s - first), v, layout, s, n, stepSeed, thread === 0 && s === first);
      passes.push(pass);
      states.push(pass.next());
    }
  } catch (e) {
    fail(null, e);
  }
  const total = new Float64Array(layout.sumLength);
  for (let k = 0; k < replica.points.length; k++) {
    const point = replica.points[k]!;
    if (!failed) {
      try {
        states.forEach((state, j) => {
          if (state.done || state.value.layerIndex !== point.layerIndex || state.value.phase !== point.phase) {
            throw new Error(`shard ${first + j} is not at ${point.phase} of layer #${point.layerIndex + 1}`);
          }
          v.sums.set(state.value.sums, slot(k, first + j));
        });
      } catch (e) {
        fail(null, e);
      }
    }
    if (!arrive(v.control, layout.threads, before + k) || failed) {
      failed = true;
      continue;
    }
    // every thread adds the same slots in the same order: the same total everywhere
    const sums = total.subarray(0, point.length);
    sums.fill(0);
    for (let s = 0; s < shards; s++) {
      const at = slot(k, s);
      for (let i = 0; i < point.length; i++) sums[i] += v.sums[at + i]!;
    }
    try {
      for (let j = 0; j < passes.length; j++) states[j] = passes[j]!.next(sums);
    } catch (e) {
      fail(null, e);
    }
  }
  if (!failed) {
    states.forEach((state, j) => {
      if (!state.done) fail(first + j, new Error('its pass did not finish at the last sync point'));
      else finishShard(replica.model(j), v, layout, first + j, state.value);
    });
  }
  const owned = end - first;
  if (owned > 0 && Atomics.sub(v.control, C.remaining, owned) === owned) Atomics.notify(v.control, C.remaining);
  return owned;
}

/** A replica thread: serves steps until the lead says exit, blocked in Atomics.wait between steps. */
export function runReplica(init: ReplicaInit): void {
  const v = sharedViews(init.buffer, init.layout);
  const who = `replica ${init.index}`;
  let replica: ReplicaModels;
  try {
    replica = new ReplicaModels(init);
  } catch (e) {
    reportError(v.error, v.control, `${who} could not build the model: ${(e as Error).message}`);
    Atomics.add(v.control, C.ready, 1);
    Atomics.notify(v.control, C.ready);
    return;
  }
  Atomics.add(v.control, C.ready, 1);
  Atomics.notify(v.control, C.ready);

  let generation = 0;
  for (;;) {
    waitWhile(v.control, C.generation, generation);
    generation = Atomics.load(v.control, C.generation);
    if (Atomics.load(v.control, C.command) === COMMAND_EXIT) return;
    serveStep(replica, v, init.layout, generation, init.index, who);
  }
}
