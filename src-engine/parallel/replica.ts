/**
 * The worker side of data-parallel training: a replica of the model that, for each step the lead
 * starts, copies the shared weights, computes the gradient of its shard of the batch and writes it
 * to its own slot. Pure (Atomics and typed arrays only): the thread it runs in is started by a
 * bootstrap (worker-entry.ts for Node; a bundler's worker import in the app).
 */
import { fastKernels } from '../kernels/wasm/index.js';
import { referenceKernels } from '../kernels/reference.js';
import { buildModel } from '../model.js';
import { Rng } from '../rng.js';
import { C, COMMAND_EXIT, sharedViews, shardOf, type ReplicaInit } from './shared.js';

/** The seed of replica `index`'s dropout stream for one step, from the lead's per-step seed. */
export function replicaDropoutSeed(stepSeed: number, index: number): number {
  return (stepSeed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
}

function reportError(error: Uint8Array, control: Int32Array, message: string): void {
  if (Atomics.compareExchange(control, C.failed, 0, 1) !== 0) return;
  const bytes = new TextEncoder().encode(message).subarray(0, error.length - 1);
  error.fill(0);
  error.set(bytes);
}

/** Serves steps until the lead says exit. Blocks this thread in Atomics.wait between steps. */
export function runReplica(init: ReplicaInit): void {
  const { layout, index } = init;
  const v = sharedViews(init.buffer, layout);
  let model;
  try {
    model = buildModel(init.spec, { kernels: init.kernels === 'reference' ? referenceKernels : fastKernels() });
    if (model.values.length !== layout.params) throw new Error(`replica ${index}: the model has ${model.values.length} parameters, the lead ${layout.params}`);
  } catch (e) {
    reportError(v.error, v.control, `replica ${index} could not build the model: ${(e as Error).message}`);
    Atomics.add(v.control, C.ready, 1);
    Atomics.notify(v.control, C.ready);
    return;
  }
  const slot = v.grads.subarray(index * layout.params, (index + 1) * layout.params);
  const size = layout.inputSize;
  Atomics.add(v.control, C.ready, 1);
  Atomics.notify(v.control, C.ready);

  let generation = 0;
  for (;;) {
    Atomics.wait(v.control, C.generation, generation);
    generation = Atomics.load(v.control, C.generation);
    if (Atomics.load(v.control, C.command) === COMMAND_EXIT) return;
    try {
      const n = v.control[C.n]!;
      const [start, end] = shardOf(index, layout.workers, n);
      const m = end - start;
      if (m > 0) {
        model.values.set(v.weights);
        const seed = v.control[C.dropoutSeed]! >>> 0;
        if (seed !== 0) model.dropoutRng.setState(new Rng(replicaDropoutSeed(seed, index)).getState());
        const r = model.lossAndGradients(v.x.subarray(start * size, end * size), v.labels.subarray(start, end), m,
          { inputGradient: false, validate: false });
        slot.set(model.grads);
        v.results[2 * index] = r.loss;
        v.results[2 * index + 1] = r.correct;
      } else {
        v.results[2 * index] = 0;
        v.results[2 * index + 1] = 0;
      }
    } catch (e) {
      reportError(v.error, v.control, `replica ${index}: ${(e as Error).message}`);
    }
    if (Atomics.sub(v.control, C.remaining, 1) === 1) Atomics.notify(v.control, C.remaining);
  }
}
