/**
 * Data-parallel gradients on real worker threads (Node worker_threads started through tsx):
 * the result is the same bit for bit for N = 1, 2, 3 threads (the caller plus N − 1 workers; shards
 * have their own slots, summed in shard order) and within float rounding of the single-threaded gradient; one shard per batch is
 * the single-threaded computation bit for bit; the Trainer's gradients hook trains with it (also
 * with dropout, resumably); failures surface as errors that name what went wrong.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { fastKernels } from '../kernels/wasm/index.js';
import { buildModel } from '../model.js';
import { referenceNet } from '../reference-net.js';
import type { ModelSpec } from '../spec.js';
import { Trainer, type TrainConfig } from '../train.js';
import { DataParallelError, sumShards, type DataParallelGradients } from './data-parallel.js';
import { nodeHandle, startDataParallel } from './node.js';
// the studio's composition starts the replica threads (a test may reach outside the engine)
import { workerFactories } from '../../src-main/worker-factories/index.js';
import { shardCount, shardOf } from './shared.js';

const REFERENCE_SPEC: ModelSpec = referenceNet();

const DROPOUT_NET: ModelSpec = {
  inputShape: [28, 28, 1],
  layers: [
    { type: 'conv2d', filters: 6, kernelSize: 5, stride: 2 },
    { type: 'maxpool2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dropout', rate: 0.3 },
    { type: 'dense', units: 10 },
  ],
};

/** Batch norm after a conv and after a dense layer, with dropout: every kind of sync point. */
const BATCHNORM_NET: ModelSpec = {
  inputShape: [28, 28, 1],
  layers: [
    { type: 'conv2d', filters: 6, kernelSize: 5, stride: 2, activation: 'linear' },
    { type: 'batchnorm' },
    { type: 'maxpool2d', poolSize: 2 },
    { type: 'conv2d', filters: 8, kernelSize: 3, padding: 'same' },
    { type: 'batchnorm', momentum: 0.2 },
    { type: 'globalavgpool2d' },
    { type: 'dropout', rate: 0.2 },
    { type: 'dense', units: 12, activation: 'linear' },
    { type: 'batchnorm' },
    { type: 'dense', units: 10 },
  ],
};

// the first 256 images of the bundled Fashion-MNIST sample, uint8
const SAMPLE = new URL('../../resources/datasets/fashion-mnist-sample/', import.meta.url);
const idx = (name: string) => gunzipSync(readFileSync(new URL(name, SAMPLE)));
const train = {
  images: new Uint8Array(idx('train-images-idx3-ubyte.gz').subarray(16, 16 + 256 * 784)),
  labels: new Uint8Array(idx('train-labels-idx1-ubyte.gz').subarray(8, 8 + 256)),
  n: 256,
};
const pools: DataParallelGradients[] = [];
async function pool(spec: ModelSpec, threads: number, maxBatch = 32, shardSize?: number): Promise<DataParallelGradients> {
  const p = await startDataParallel(spec, { threads, maxBatch, shardSize, spawn: (init) => nodeHandle(workerFactories.replica(init)) });
  pools.push(p);
  return p;
}
afterAll(async () => { await Promise.all(pools.map((p) => p.close())); });

function batch(n: number, offset = 0): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(n * 784);
  const y = new Int32Array(n);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < 784; i++) x[b * 784 + i] = train.images[(offset + b) * 784 + i]! / 255;
    y[b] = train.labels[offset + b]!;
  }
  return { x, y };
}

function maxRelative(a: Float32Array, b: Float32Array): number {
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return d / s;
}

describe('shards', () => {
  it('cover the batch in order; the last one takes the rest', () => {
    expect(shardCount(7, 3)).toBe(3);
    expect([0, 1, 2].map((i) => shardOf(i, 3, 7))).toEqual([[0, 3], [3, 6], [6, 7]]);
    expect(shardCount(2, 4)).toBe(1);
    expect(shardOf(0, 4, 2)).toEqual([0, 2]);
  });
});

describe('data-parallel gradients = single-threaded gradients', () => {
  it('reference net, batch 32 in shards of 4: N = 1, 2, 3 threads the same bits, within 1e-5 of single-threaded, repeatable; the workers take shards', async () => {
    const model = buildModel(REFERENCE_SPEC, { seed: 2, kernels: fastKernels() });
    const { x, y } = batch(32);
    const local = model.lossAndGradients(x, y, 32, { inputGradient: false });
    const localGrads = model.grads.slice();

    let first: { loss: number; grads: number[] } | null = null;
    for (const workers of [1, 2, 3]) {
      const p = await pool(REFERENCE_SPEC, workers, 32, 4);
      const r = p.compute(model, x, y, 32);
      const grads = model.grads.slice();
      expect(Math.abs(r.loss - local.loss) / local.loss).toBeLessThan(1e-5);
      expect(r.correct).toBe(local.correct);
      expect(maxRelative(grads, localGrads), `N=${workers}`).toBeLessThan(1e-5);
      expect(maxRelative(grads, localGrads), `N=${workers} really sums in another order`).toBeGreaterThan(0);
      if (!first) first = { loss: r.loss, grads: Array.from(grads) };
      expect(r.loss, `N=${workers} loss = N=1 loss`).toBe(first.loss);
      expect(Array.from(grads), `N=${workers} grads = N=1 grads`).toEqual(first.grads);
      const again = p.compute(model, x, y, 32);
      expect(again.loss).toBe(r.loss);
      expect(Array.from(model.grads)).toEqual(Array.from(grads));
      for (let i = 0; i < 20; i++) p.compute(model, x, y, 32);
      expect(p.stats.shards).toBe(22 * 8);
      if (workers === 1) expect(p.stats.leadShards).toBe(p.stats.shards);
      else expect(p.stats.leadShards, `N=${workers}: the worker threads computed some shards`).toBeLessThan(p.stats.shards);
    }
  });

  it('300 steps of random batch sizes (1–32, dropout net) on 3 threads = on 1 thread, bit for bit: no lost or doubled shard', async () => {
    const p1 = await pool(DROPOUT_NET, 1, 32, 3);
    const p3 = await pool(DROPOUT_NET, 3, 32, 3);
    const a = buildModel(DROPOUT_NET, { seed: 6, kernels: fastKernels() });
    const b = buildModel(DROPOUT_NET, { seed: 6, kernels: fastKernels() });
    const { x, y } = batch(32);
    let sizes = 17;
    for (let step = 0; step < 300; step++) {
      sizes = (sizes * 1103515245 + 12345) >>> 0;
      const n = 1 + (sizes % 32);
      const ra = p1.compute(a, x, y, n);
      const rb = p3.compute(b, x, y, n);
      expect(rb.loss, `step ${step}, n ${n}`).toBe(ra.loss);
      expect(rb.correct).toBe(ra.correct);
      if (step % 50 === 0) expect(Array.from(b.grads)).toEqual(Array.from(a.grads));
    }
    expect(Array.from(b.grads)).toEqual(Array.from(a.grads));
  });

  it('one shard per batch (shardSize = batch) is the single-threaded computation bit for bit', async () => {
    const model = buildModel(REFERENCE_SPEC, { seed: 2, kernels: fastKernels() });
    const { x, y } = batch(32);
    const local = model.lossAndGradients(x, y, 32, { inputGradient: false });
    const localGrads = Array.from(model.grads);
    const p = await pool(REFERENCE_SPEC, 2, 32, 32);
    const r = p.compute(model, x, y, 32);
    expect(r.loss).toBe(local.loss);
    expect(r.correct).toBe(local.correct);
    expect(Array.from(model.grads)).toEqual(localGrads);
  });

  it('a batch smaller than a shard (2 images) and an odd last batch (7 = 4 + 3) on 3 threads', async () => {
    const model = buildModel(REFERENCE_SPEC, { seed: 3, kernels: fastKernels() });
    const p = await pool(REFERENCE_SPEC, 3, 32, 4);
    for (const n of [2, 7]) {
      const { x, y } = batch(n, 40);
      const local = model.lossAndGradients(x, y, n, { inputGradient: false });
      const localGrads = model.grads.slice();
      const r = p.compute(model, x, y, n);
      expect(Math.abs(r.loss - local.loss) / local.loss, `n=${n}`).toBeLessThan(1e-5);
      expect(maxRelative(model.grads, localGrads), `n=${n}`).toBeLessThan(1e-5);
    }
  });
});

describe('batch norm across shards: the whole batch\'s statistics', () => {
  const NO_DROPOUT: ModelSpec = { ...BATCHNORM_NET, layers: BATCHNORM_NET.layers.filter((l) => l.type !== 'dropout') };

  it('batch 30 in shards of 4 (the last of 2): N = 1, 2, 3 threads the same bits; = one model on the whole batch within 1e-5, running statistics too', async () => {
    const model = buildModel(NO_DROPOUT, { seed: 2, kernels: fastKernels() });
    const start = model.values.slice();
    const { x, y } = batch(30);
    const local = model.lossAndGradients(x, y, 30, { inputGradient: false });
    const localGrads = model.grads.slice();
    const localValues = model.values.slice();
    const P = model.grads.length;
    // one step of running statistics moved away from (0, 1)
    expect(maxRelative(localValues.subarray(P), start.subarray(P))).toBeGreaterThan(1e-3);

    let first: { loss: number; grads: number[]; values: number[] } | null = null;
    for (const threads of [1, 2, 3]) {
      const p = await pool(NO_DROPOUT, threads, 32, 4);
      model.values.set(start);
      const r = p.compute(model, x, y, 30);
      expect(Math.abs(r.loss - local.loss) / local.loss, `N=${threads} loss`).toBeLessThan(1e-5);
      expect(r.correct).toBe(local.correct);
      expect(maxRelative(model.grads, localGrads), `N=${threads} grads`).toBeLessThan(1e-5);
      expect(maxRelative(model.values.subarray(P), localValues.subarray(P)), `N=${threads} running statistics`).toBeLessThan(1e-6);
      expect(Array.from(model.values.subarray(0, P)), 'compute leaves the parameters alone').toEqual(Array.from(start.subarray(0, P)));
      const now = { loss: r.loss, grads: Array.from(model.grads), values: Array.from(model.values) };
      first ??= now;
      expect(now, `N=${threads} = N=1, bit for bit`).toEqual(first);
    }
  });

  it('per-shard statistics would be another model: the pool is not computing them (a shard of 4 alone differs by far)', async () => {
    const model = buildModel(NO_DROPOUT, { seed: 2, kernels: fastKernels() });
    const { x, y } = batch(8);
    const whole = model.lossAndGradients(x, y, 8, { inputGradient: false }).loss;
    const halves = (model.lossAndGradients(x.subarray(0, 4 * 784), y.subarray(0, 4), 4).loss + model.lossAndGradients(x.subarray(4 * 784), y.subarray(4), 4).loss) / 2;
    const p = await pool(NO_DROPOUT, 2);
    const r = p.compute(model, x, y, 8);
    expect(Math.abs(whole - halves) / whole).toBeGreaterThan(1e-3);
    expect(Math.abs(r.loss - whole) / whole).toBeLessThan(1e-6);
  });

  it('200 steps of random batch sizes (1–32, with dropout) on 3 threads = on 1 thread, bit for bit, shards of 3', async () => {
    const p1 = await pool(BATCHNORM_NET, 1, 32, 3);
    const p3 = await pool(BATCHNORM_NET, 3, 32, 3);
    const a = buildModel(BATCHNORM_NET, { seed: 6, kernels: fastKernels() });
    const b = buildModel(BATCHNORM_NET, { seed: 6, kernels: fastKernels() });
    const { x, y } = batch(32);
    let sizes = 29;
    for (let step = 0; step < 200; step++) {
      sizes = (sizes * 1103515245 + 12345) >>> 0;
      const n = 2 + (sizes % 31);
      const ra = p1.compute(a, x, y, n, { labelSmoothing: 0.1 });
      const rb = p3.compute(b, x, y, n, { labelSmoothing: 0.1 });
      expect(rb.loss, `step ${step}, n ${n}`).toBe(ra.loss);
      if (step % 40 === 0) {
        expect(Array.from(b.grads)).toEqual(Array.from(a.grads));
        expect(Array.from(b.values)).toEqual(Array.from(a.values));
      }
    }
    expect(Array.from(b.values)).toEqual(Array.from(a.values));
  });

  it('the Trainer on 2 threads = on 1 thread, and a saved trainer resumes bit-identically (weights and running statistics)', async () => {
    const config: TrainConfig = { epochs: 2, batchSize: 32, optimizer: { type: 'adamw', learningRate: 0.003 }, seed: 5, labelSmoothing: 0.1, schedule: { type: 'cosine', warmupEpochs: 1 } };
    const p1 = await pool(BATCHNORM_NET, 1);
    const p2 = await pool(BATCHNORM_NET, 2);
    const straight = buildModel(BATCHNORM_NET, { seed: 4, kernels: fastKernels() });
    new Trainer(straight, train, config, undefined, { gradients: p2 }).run();
    const one = buildModel(BATCHNORM_NET, { seed: 4, kernels: fastKernels() });
    new Trainer(one, train, config, undefined, { gradients: p1 }).run();
    expect(Array.from(one.values)).toEqual(Array.from(straight.values));

    const first = buildModel(BATCHNORM_NET, { seed: 4, kernels: fastKernels() });
    const t1 = new Trainer(first, train, config, undefined, { gradients: p2 });
    for (let i = 0; i < 11; i++) t1.step(); // stop mid-epoch
    const t2 = Trainer.restore(t1.saveState(), train, undefined, { gradients: p2, kernels: fastKernels() });
    t2.run();
    expect(Array.from(t2.model.values)).toEqual(Array.from(straight.values));
    const P = straight.grads.length;
    expect(straight.values.subarray(P).some((v, i) => v !== (i % 2 === 0 ? 0 : 1))).toBe(true);
  });
});

describe('the Trainer with the data-parallel hook', () => {
  const config: TrainConfig = { epochs: 1, batchSize: 32, optimizer: { type: 'sgd', learningRate: 0.05, momentum: 0.9 }, seed: 5 };

  it('one epoch on 256 images: 2 threads give the weights of 1 thread bit for bit and tracks the single-threaded run', async () => {
    const p2 = await pool(REFERENCE_SPEC, 2);
    const p1 = await pool(REFERENCE_SPEC, 1);
    const run = (gradients?: DataParallelGradients) => {
      const model = buildModel(REFERENCE_SPEC, { seed: 9, kernels: fastKernels() });
      const metrics = new Trainer(model, train, config, undefined, gradients ? { gradients } : {}).run();
      return { values: model.values, loss: metrics[0]!.trainLoss };
    };
    const a = run(p2), b = run(p1), local = run();
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    expect(maxRelative(a.values, local.values)).toBeLessThan(1e-4);
    expect(Math.abs(a.loss - local.loss) / local.loss).toBeLessThan(1e-4);
  });

  it('dropout: each step seeds the replicas from the lead\'s stream, so a saved trainer resumes bit-identically', async () => {
    const p = await pool(DROPOUT_NET, 2);
    const straight = buildModel(DROPOUT_NET, { seed: 4, kernels: fastKernels() });
    const t0 = new Trainer(straight, train, { ...config, epochs: 2 }, undefined, { gradients: p });
    t0.run();

    const first = buildModel(DROPOUT_NET, { seed: 4, kernels: fastKernels() });
    const t1 = new Trainer(first, train, { ...config, epochs: 2 }, undefined, { gradients: p });
    t1.runEpoch();
    const t2 = Trainer.restore(t1.saveState(), train, undefined, { gradients: p, kernels: fastKernels() });
    t2.run();
    expect(Array.from(t2.model.values)).toEqual(Array.from(straight.values));
  });
});

describe('failures', () => {
  it('a model of another shape, or a batch over maxBatch, is refused before any work', async () => {
    const p = await pool(REFERENCE_SPEC, 1, 8);
    const other = buildModel(DROPOUT_NET);
    const { x, y } = batch(8);
    expect(() => p.compute(other, x, y, 8)).toThrow(/the model has 2326 parameters and 2326 values, the pool's replicas 12810 and 12810/);
    const ok = buildModel(REFERENCE_SPEC);
    const big = batch(9);
    expect(() => p.compute(ok, big.x, big.y, 9)).toThrow(/batch of 9 is outside the pool's 1..8/);
    expect(() => p.compute(ok, x.subarray(0, 784 * 7), y, 8)).toThrow(/needs 6272 values and 8 labels, got 5488 and 8/);
  });

  it('a replica thread that cannot start rejects start() with its error', async () => {
    const start = startDataParallel(REFERENCE_SPEC, {
      threads: 2, maxBatch: 4,
      spawn: () => nodeHandle(new Worker('throw new Error("no entry here")', { eval: true })),
    });
    await expect(start).rejects.toThrow(DataParallelError);
    await expect(start).rejects.toThrow(/replica 1 failed: no entry here/);
  });
});

describe('the sum of the shards', () => {
  it('is slot 0 + slot 1 + … in shard order, rounded to float32 after each addition, bit for bit, for 1 to 6 shards', () => {
    const params = 1001;
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 2 ** ((seed >>> 27) - 8);
    for (let shards = 1; shards <= 6; shards++) {
      const slots = new Float32Array(shards * params).map(next);
      const expected = slots.slice(0, params);
      for (let s = 1; s < shards; s++) for (let j = 0; j < params; j++) expected[j] += slots[s * params + j]!;
      const grads = new Float32Array(params).fill(NaN);
      sumShards(slots, shards, params, grads);
      expect(Array.from(grads), `${shards} shards`).toEqual(Array.from(expected));
    }
  });
});
