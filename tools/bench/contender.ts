/**
 * One contender of `npm run bench`, run in its own child process so that its peak RSS and CPU time
 * are its own:   tsx tools/bench/contender.ts <name> '<json options>'
 * Trains a bench net (tools/bench/nets.ts; options.net, default the reference net) for one epoch
 * (or the first `trainLimit` images) with the net's optimizer at batch 32, shuffled, then classifies
 * the test images in batches of 256 after one untimed warm-up batch, and prints one line
 * `RESULT {json}`. Names: engine-reference, engine-fast (options.threads: 1 or more data-parallel
 * threads), ort (onnxruntime-node inference only, over our ONNX export, options.threads intra-op
 * threads), tfjs-cpu, tfjs-wasm (the reference net only).
 */
import { getHeapStatistics } from 'node:v8';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fastKernels } from '../../src-engine/kernels/wasm/index.js';
import { referenceKernels } from '../../src-engine/kernels/reference.js';
import { buildModel, type Model } from '../../src-engine/model.js';
import { nodeHandle, startDataParallel } from '../../src-engine/parallel/node.js';
import { workerFactories } from '../../src-main/worker-factories/index.js';
import { Trainer } from '../../src-engine/train.js';
import { exportOnnx, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from '../../src-main/export/onnx.js';
import { loadSplit, scaleBatch, type ImageSet } from './data.js';
import { benchNet, type BenchNet } from './nets.js';

export interface ContenderOptions {
  dir: string;
  trainLimit: number;
  testLimit: number;
  seed: number;
  /** A bench net's name (nets.ts); default 'reference'. */
  net?: string;
  /** engine-fast: data-parallel threads; ort: intra-op threads. Default 1. */
  threads?: number;
}

export interface ContenderResult {
  name: string;
  trainImages: number;
  trainSeconds: number;
  trainImagesPerSecond: number;
  /** CPU seconds of the whole process (all threads) during training: robust to a busy machine. */
  trainCpuSeconds: number;
  /** The kernel set (engine contenders). */
  kernels?: string;
  testImages: number;
  inferImagesPerSecond: number;
  testAccuracy: number;
  maxRssMB: number;
  /** Heap used sampled after every batch: the positive steps summed (≈ bytes allocated) per batch. */
  heapKBPerBatch?: number;
  heapUsedMB?: [min: number, max: number];
  notes: string[];
}

const BATCH = 32;
const INFER_CHUNK = 256;
/** The reference net's optimizer, which TF.js is given by hand. */
const LEARNING_RATE = 0.01;
const MOMENTUM = 0.9;

const now = () => performance.now() / 1000;

class HeapSampler {
  private last = -1;
  private grown = 0;
  private samples = 0;
  private min = Infinity;
  private max = 0;
  sample(): void {
    const used = getHeapStatistics().used_heap_size;
    if (this.last >= 0 && used > this.last) this.grown += used - this.last;
    this.last = used;
    this.samples++;
    this.min = Math.min(this.min, used);
    this.max = Math.max(this.max, used);
  }
  result(): Pick<ContenderResult, 'heapKBPerBatch' | 'heapUsedMB'> {
    return { heapKBPerBatch: this.grown / Math.max(this.samples - 1, 1) / 1024, heapUsedMB: [this.min / 2 ** 20, this.max / 2 ** 20] };
  }
}

function engineAccuracy(model: Model, test: ImageSet): { seconds: number; accuracy: number } {
  const x = new Float32Array(INFER_CHUNK * 784);
  let correct = 0;
  model.predict(scaleBatch(test, 0, Math.min(INFER_CHUNK, test.n), x), Math.min(INFER_CHUNK, test.n), INFER_CHUNK); // warm-up, untimed
  const t0 = now();
  for (let start = 0; start < test.n; start += INFER_CHUNK) {
    const m = Math.min(INFER_CHUNK, test.n - start);
    const probs = model.predict(scaleBatch(test, start, m, x), m, INFER_CHUNK);
    for (let b = 0; b < m; b++) {
      let best = 0;
      for (let k = 1; k < 10; k++) if (probs[b * 10 + k]! > probs[b * 10 + best]!) best = k;
      if (best === test.labels[start + b]) correct++;
    }
  }
  return { seconds: now() - t0, accuracy: correct / test.n };
}

async function runEngine(name: string, net: BenchNet, threads: number, train: ImageSet, test: ImageSet, seed: number): Promise<Omit<ContenderResult, 'maxRssMB'>> {
  const notes: string[] = [];
  const kernels = name === 'engine-reference' ? referenceKernels : fastKernels();
  const model = buildModel(net.spec, { seed, kernels });
  const pool = threads > 1 ? await startDataParallel(net.spec, { threads, maxBatch: BATCH, spawn: (init) => nodeHandle(workerFactories.replica(init)) }) : null;
  if (pool) notes.push(`${threads} threads (the trainer's + ${threads - 1} worker${threads > 2 ? 's' : ''}), shards of 8 images (the default, as the studio runs it), SharedArrayBuffer; inference on 1 thread`);
  const trainer = new Trainer(model, train, { epochs: 1, batchSize: BATCH, seed, optimizer: net.optimizer }, undefined, pool ? { gradients: pool } : {});
  const heap = new HeapSampler();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  trainer.run({ onBatch: () => heap.sample() });
  const trainSeconds = now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await pool?.close();
  const inf = engineAccuracy(model, test);
  return {
    name, trainImages: train.n, trainSeconds, trainImagesPerSecond: train.n / trainSeconds, trainCpuSeconds: (cpu.user + cpu.system) / 1e6,
    kernels: kernels.name, testImages: test.n, inferImagesPerSecond: test.n / inf.seconds, testAccuracy: inf.accuracy, ...heap.result(), notes,
  };
}

/** onnxruntime-node over our own ONNX export of the net (fresh weights: inference speed only). */
async function runOrt(net: BenchNet, threads: number, test: ImageSet, seed: number): Promise<Omit<ContenderResult, 'maxRssMB'>> {
  const ort = await import('onnxruntime-node');
  const model = buildModel(net.spec, { seed, kernels: referenceKernels });
  const session = await ort.InferenceSession.create(exportOnnx(net.spec, model.values), {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const [h, w, c] = net.spec.inputShape;
  const x = new Float32Array(INFER_CHUNK * h * w * c);
  const batch = (start: number, m: number) => session.run({ [ONNX_INPUT_NAME]: new ort.Tensor('float32', scaleBatch(test, start, m, x), [m, h, w, c]) });
  await batch(0, Math.min(INFER_CHUNK, test.n)); // warm-up, untimed
  const t0 = now();
  for (let start = 0; start < test.n; start += INFER_CHUNK) await batch(start, Math.min(INFER_CHUNK, test.n - start));
  const seconds = now() - t0;
  await session.release();
  return {
    name: `ort-${threads}`, trainImages: 0, trainSeconds: 0, trainImagesPerSecond: 0, trainCpuSeconds: 0, testImages: test.n,
    inferImagesPerSecond: test.n / seconds, testAccuracy: NaN,
    notes: [`onnxruntime-node, ${threads} intra-op thread${threads > 1 ? 's' : ''}, our ONNX export (${ONNX_OUTPUT_NAME}), untrained weights: inference speed only`],
  };
}

async function runTfjs(name: string, train: ImageSet, test: ImageSet, seed: number): Promise<Omit<ContenderResult, 'maxRssMB'>> {
  const tf = await import('@tensorflow/tfjs');
  const notes: string[] = [];
  if (name === 'tfjs-wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    await tf.setBackend('wasm');
    notes.push('WASM backend, SIMD, no threads under Node');
  } else {
    await tf.setBackend('cpu');
  }
  // Stock TF.js has no Conv2DBackpropFilter on WASM and a very slow one on CPU: the filter gradient
  // of a stride-1 'valid' conv is itself a conv, X(N,H,W,C)ᵀ → (C,H,W,N) ⊛ dY(N,OH,OW,OC)ᵀ → (OH,OW,N,OC).
  tf.registerGradient({
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved) => {
      const [x, filter] = saved as [import('@tensorflow/tfjs').Tensor4D, import('@tensorflow/tfjs').Tensor4D];
      const g = dy as import('@tensorflow/tfjs').Tensor4D;
      return {
        x: () => tf.conv2dTranspose(g, filter, x.shape, 1, 'valid'),
        filter: () => tf.transpose(tf.conv2d(tf.transpose(x, [3, 1, 2, 0]), tf.transpose(g, [1, 2, 0, 3]), 1, 'valid'), [1, 2, 0, 3]),
      };
    },
  });
  notes.push('own Conv2D gradient registered (filter gradient = transpose → conv2d → transpose)');
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 10 + k });
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, kernelInitializer: init(3) }),
    ],
  });
  const optimizer = tf.train.momentum(LEARNING_RATE, MOMENTUM);
  const order = Array.from({ length: train.n }, (_, i) => i);
  let state = seed + 1;
  for (let i = order.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const x = new Float32Array(BATCH * 784);
  const y = new Int32Array(BATCH);
  const heap = new HeapSampler();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  for (let start = 0; start < train.n; start += BATCH) {
    const m = Math.min(BATCH, train.n - start);
    for (let b = 0; b < m; b++) {
      const idx = order[start + b]!;
      for (let i = 0; i < 784; i++) x[b * 784 + i] = train.images[idx * 784 + i]! / 255;
      y[b] = train.labels[idx]!;
    }
    tf.tidy(() => {
      const xb = tf.tensor4d(x.subarray(0, m * 784), [m, 28, 28, 1]);
      const yb = tf.oneHot(tf.tensor1d(y.subarray(0, m), 'int32'), 10);
      optimizer.minimize(() => tf.losses.softmaxCrossEntropy(yb, model.apply(xb) as import('@tensorflow/tfjs').Tensor) as import('@tensorflow/tfjs').Scalar);
    });
    heap.sample();
  }
  const trainSeconds = now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const t1 = now();
  let correct = 0;
  const xi = new Float32Array(INFER_CHUNK * 784);
  for (let start = 0; start < test.n; start += INFER_CHUNK) {
    const m = Math.min(INFER_CHUNK, test.n - start);
    const predicted = tf.tidy(() => (model.predict(tf.tensor4d(scaleBatch(test, start, m, xi), [m, 28, 28, 1])) as import('@tensorflow/tfjs').Tensor).argMax(1).dataSync());
    for (let b = 0; b < m; b++) if (predicted[b] === test.labels[start + b]) correct++;
  }
  const inferSeconds = now() - t1;
  return {
    name, trainImages: train.n, trainSeconds, trainImagesPerSecond: train.n / trainSeconds, trainCpuSeconds: (cpu.user + cpu.system) / 1e6,
    testImages: test.n, inferImagesPerSecond: test.n / inferSeconds, testAccuracy: correct / test.n, ...heap.result(), notes,
  };
}

async function main(): Promise<void> {
  const [name, json] = process.argv.slice(2);
  if (!name || !json) throw new Error('usage: contender.ts <name> <json options>');
  const options = JSON.parse(json) as ContenderOptions;
  const net = benchNet(options.net ?? 'reference');
  const threads = options.threads ?? 1;
  const test = loadSplit(options.dir, 't10k', options.testLimit);
  let result: Omit<ContenderResult, 'maxRssMB'>;
  if (name === 'ort') result = await runOrt(net, threads, test, options.seed);
  else if (name.startsWith('engine-')) result = await runEngine(name, net, threads, loadSplit(options.dir, 'train', options.trainLimit), test, options.seed);
  else if (name.startsWith('tfjs-')) {
    if (net.name !== 'reference') throw new Error('the TF.js contenders train the reference net only');
    result = await runTfjs(name, loadSplit(options.dir, 'train', options.trainLimit), test, options.seed);
  }
  else throw new Error(`unknown contender ${name}`);
  const full: ContenderResult = { ...result, maxRssMB: process.resourceUsage().maxRSS / 1024 };
  console.log(`RESULT ${JSON.stringify(full)}`);
}

await main();
