/**
 * The replica side of data-parallel training: a copy of the model that, for each step the lead
 * starts, copies the shared weights once and then takes shards of the batch until none is left,
 * writing each shard's gradient to that shard's slot. The lead runs one too, on its own thread. Pure (Atomics and typed arrays only): the
 * thread it runs in is started by a bootstrap (worker-entry.ts for Node; a bundler's worker import
 * in the app).
 */
import { resolveKernels } from '../kernels/resolve.js';
import { buildModel, type Model } from '../model.js';
import { Rng } from '../rng.js';
import { C, COMMAND_EXIT, SHARD_TAG_SHIFT, sharedViews, shardCount, shardOf, shardTag, type ReplicaInit, type SharedLayout, type SharedViews } from './shared.js';

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

/** A replica's model for this layout, on the kernel set the lead resolved (by name): a thread that
 *  would compute with another set refuses, since the shards' sum would then depend on who took them. */
export function buildReplica(init: Pick<ReplicaInit, 'spec' | 'kernels' | 'layout'>): Model {
  const kernels = resolveKernels(init.kernels === 'reference' ? 'reference' : 'fast');
  if (kernels.name !== init.kernels) throw new Error(`this thread's kernels are ${kernels.name}, the lead's ${init.kernels}`);
  const model = buildModel(init.spec, { kernels });
  if (model.values.length !== init.layout.params) throw new Error(`the model has ${model.values.length} parameters, the lead ${init.layout.params}`);
  return model;
}

/**
 * Takes shards of step `generation` until none is left: for each, the gradient of the shard's mean
 * loss into the shard's slot. Run by every replica thread and by the lead itself; returns how many
 * it took.
 */
export function serveStep(model: Model, v: SharedViews, layout: SharedLayout, generation: number, who: string): number {
  const { params, inputSize: size, shardSize } = layout;
  // the lead wrote everything of this step before bumping the generation
  const n = v.control[C.n]!;
  const shards = shardCount(n, shardSize);
  const stepSeed = v.control[C.dropoutSeed]! >>> 0;
  let weightsCopied = false;
  let taken = 0;
  for (let shard = takeShard(v.control, generation, shards); shard >= 0; shard = takeShard(v.control, generation, shards)) {
    try {
      if (!weightsCopied) {
        model.values.set(v.weights);
        weightsCopied = true;
      }
      const [start, end] = shardOf(shard, shardSize, n);
      if (stepSeed !== 0) model.dropoutRng.setState(new Rng(shardDropoutSeed(stepSeed, shard)).getState());
      const r = model.lossAndGradients(v.x.subarray(start * size, end * size), v.labels.subarray(start, end), end - start,
        { inputGradient: false, validate: false });
      v.grads.set(model.grads, shard * params);
      v.results[2 * shard] = r.loss;
      v.results[2 * shard + 1] = r.correct;
    } catch (e) {
      reportError(v.error, v.control, `${who}, shard ${shard}: ${(e as Error).message}`);
    }
    taken++;
    if (Atomics.sub(v.control, C.remaining, 1) === 1) Atomics.notify(v.control, C.remaining);
  }
  return taken;
}

/** A replica thread: serves steps until the lead says exit, blocked in Atomics.wait between steps. */
export function runReplica(init: ReplicaInit): void {
  const v = sharedViews(init.buffer, init.layout);
  const who = `replica ${init.index}`;
  let model: Model;
  try {
    model = buildReplica(init);
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
    Atomics.wait(v.control, C.generation, generation);
    generation = Atomics.load(v.control, C.generation);
    if (Atomics.load(v.control, C.command) === COMMAND_EXIT) return;
    serveStep(model, v, init.layout, generation, who);
  }
}
