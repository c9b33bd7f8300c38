/**
 * Data-parallel gradients on real worker threads (Node worker_threads started through tsx):
 * N = 1 is the single-threaded computation bit for bit; a fixed N is deterministic; different N
 * agree within float rounding; the Trainer's gradients hook trains with it (also with dropout,
 * resumably); failures surface as errors that name what went wrong.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { fastKernels } from '../kernels/wasm/index.js';
import { buildModel } from '../model.js';
import type { ModelSpec } from '../spec.js';
import { Trainer, type TrainConfig } from '../train.js';
import { DataParallelError, type DataParallelGradients } from './data-parallel.js';
import { nodeHandle, startDataParallel } from './node.js';
import { shardOf } from './shared.js';

const REFERENCE_SPEC: ModelSpec = {
  inputShape: [28, 28, 1],
  layers: [
    { type: 'conv2d', filters: 16, kernelSize: 3 }, { type: 'maxpool2d', poolSize: 2 },
    { type: 'conv2d', filters: 32, kernelSize: 3 }, { type: 'maxpool2d', poolSize: 2 },
    { type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' },
  ],
};

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

// the first 256 images of the bundled Fashion-MNIST sample, uint8
const SAMPLE = new URL('../../resources/datasets/fashion-mnist-sample/', import.meta.url);
const idx = (name: string) => gunzipSync(readFileSync(new URL(name, SAMPLE)));
const train = {
  images: new Uint8Array(idx('train-images-idx3-ubyte.gz').subarray(16, 16 + 256 * 784)),
  labels: new Uint8Array(idx('train-labels-idx1-ubyte.gz').subarray(8, 8 + 256)),
  n: 256,
};
const pools: DataParallelGradients[] = [];
async function pool(spec: ModelSpec, workers: number, maxBatch = 32): Promise<DataParallelGradients> {
  const p = await startDataParallel(spec, { workers, maxBatch });
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
  it('cover the batch in order, sizes differ by at most one, empty when n < N', () => {
    expect([0, 1, 2].map((i) => shardOf(i, 3, 7))).toEqual([[0, 2], [2, 4], [4, 7]]);
    expect([0, 1, 2].map((i) => shardOf(i, 3, 2))).toEqual([[0, 0], [0, 1], [1, 2]]);
  });
});

describe('data-parallel gradients = single-threaded gradients', () => {
  it('reference net, batch 32: N = 1 bit-identical; N = 2 and N = 3 within 1e-5, each deterministic', async () => {
    const model = buildModel(REFERENCE_SPEC, { seed: 2, kernels: fastKernels() });
    const { x, y } = batch(32);
    const local = model.lossAndGradients(x, y, 32, { inputGradient: false });
    const localGrads = model.grads.slice();

    const one = await pool(REFERENCE_SPEC, 1);
    const r1 = one.compute(model, x, y, 32);
    expect(r1.loss).toBe(local.loss);
    expect(r1.correct).toBe(local.correct);
    expect(Array.from(model.grads)).toEqual(Array.from(localGrads));

    for (const workers of [2, 3]) {
      const p = await pool(REFERENCE_SPEC, workers);
      const r = p.compute(model, x, y, 32);
      const grads = model.grads.slice();
      expect(Math.abs(r.loss - local.loss) / local.loss).toBeLessThan(1e-5);
      expect(r.correct).toBe(local.correct);
      expect(maxRelative(grads, localGrads), `N=${workers}`).toBeLessThan(1e-5);
      expect(maxRelative(grads, localGrads), `N=${workers} really sums in another order`).toBeGreaterThan(0);
      const again = p.compute(model, x, y, 32);
      expect(again.loss).toBe(r.loss);
      expect(Array.from(model.grads)).toEqual(Array.from(grads));
    }
  });

  it('a batch smaller than N (2 images on 3 workers) and an odd last batch (7 on 3)', async () => {
    const model = buildModel(REFERENCE_SPEC, { seed: 3, kernels: fastKernels() });
    const p = await pool(REFERENCE_SPEC, 3);
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

describe('the Trainer with the data-parallel hook', () => {
  const config: TrainConfig = { epochs: 1, batchSize: 32, optimizer: { type: 'sgd', learningRate: 0.05, momentum: 0.9 }, seed: 5 };

  it('one epoch on 256 images: N = 2 is deterministic and tracks the single-threaded run', async () => {
    const p = await pool(REFERENCE_SPEC, 2);
    const run = (gradients?: DataParallelGradients) => {
      const model = buildModel(REFERENCE_SPEC, { seed: 9, kernels: fastKernels() });
      const metrics = new Trainer(model, train, config, undefined, gradients ? { gradients } : {}).run();
      return { values: model.values, loss: metrics[0]!.trainLoss };
    };
    const a = run(p), b = run(p), local = run();
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
    expect(() => p.compute(other, x, y, 8)).toThrow(/the model has 2326 parameters, the pool's replicas 12810/);
    const ok = buildModel(REFERENCE_SPEC);
    const big = batch(9);
    expect(() => p.compute(ok, big.x, big.y, 9)).toThrow(/batch of 9 exceeds the pool's maxBatch 8/);
  });

  it('a replica thread that cannot start rejects start() with its error', async () => {
    const start = startDataParallel(REFERENCE_SPEC, {
      workers: 1, maxBatch: 4,
      spawn: () => nodeHandle(new Worker('throw new Error("no entry here")', { eval: true })),
    });
    await expect(start).rejects.toThrow(DataParallelError);
    await expect(start).rejects.toThrow(/replica 0 failed: no entry here/);
  });
});
