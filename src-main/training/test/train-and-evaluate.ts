/**
 * Test helper, also a script: trains a small run through runJob (data-parallel on `threads`
 * threads, as the studio's worker does) on a cache file, evaluates the final state on its test
 * split, and summarises what the jobs posted. The no-SIMD test runs it as a child Node without
 * WebAssembly (`node --no-expose-wasm --import tsx train-and-evaluate.ts CACHE fast 2`) and
 * compares with the same function called in-process with the reference kernels.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { KernelChoice } from '../../../src-engine/kernels/resolve.js';
import type { ModelSpec } from '../../../src-engine/spec.js';
import { readTrainerState } from '../../../src-engine/trainer-state.js';
import type { WorkerJob, WorkerMessage } from '../protocol.js';
import { runJob } from '../run-job.js';
import { workerFactories } from '../../worker-factories/index.js';
import { SAMPLE_CLASSES } from './sample-cache.js';

export const SMALL_CONV: ModelSpec = {
  inputShape: [28, 28, 1],
  layers: [{ type: 'conv2d', filters: 4, kernelSize: 5, stride: 3 }, { type: 'flatten' }, { type: 'dense', units: 10 }],
};

export interface JobsSummary {
  /** typeof WebAssembly in the process that ran the jobs. */
  webAssembly: string;
  startedKernels: string | null;
  ended: string | null;
  failed: string | null;
  epochs: number;
  /** sha256 of the final weights' bytes. */
  weights: string | null;
  evaluated: { loss: number; accuracy: number; count: number } | null;
}

async function run(job: WorkerJob): Promise<WorkerMessage[]> {
  const messages: WorkerMessage[] = [];
  await runJob(job, (m) => messages.push(m), workerFactories.replica);
  return messages;
}

export async function trainAndEvaluate(cacheFile: string, kernels: KernelChoice, threads: number): Promise<JobsSummary> {
  const data = { cacheFile, validationSplit: 0.2, splitSeed: 1, trainLimit: null };
  const trained = await run({
    type: 'train', runId: 1, data, spec: SMALL_CONV, seed: 3, kernels, threads, progressEvery: 1, snapshotMinutes: 0, healthEvery: 0, wallTimeOffset: 0,
    config: { epochs: 2, batchSize: 16, optimizer: { type: 'sgd', learningRate: 0.05, momentum: 0.9 }, seed: 3 },
    control: new SharedArrayBuffer(4),
  });
  const summary: JobsSummary = { webAssembly: typeof WebAssembly, startedKernels: null, ended: null, failed: null, epochs: 0, weights: null, evaluated: null };
  let state: Uint8Array | null = null;
  for (const m of trained) {
    if (m.type === 'started') summary.startedKernels = m.kernels;
    if (m.type === 'ended') summary.ended = m.reason;
    if (m.type === 'failed') summary.failed = `${m.code}: ${m.message}`;
    if (m.type === 'epoch') {
      summary.epochs++;
      state = m.state;
    }
  }
  if (!state) return summary;
  summary.weights = createHash('sha256').update(readTrainerState(state).weights).digest('hex');
  const evaluated = await run({ type: 'evaluate', data, split: 'test', state, kernels, classNames: SAMPLE_CLASSES, maxMisclassified: 10 });
  for (const m of evaluated) {
    if (m.type === 'evaluated') summary.evaluated = { loss: m.loss, accuracy: m.accuracy, count: m.count };
    if (m.type === 'failed') summary.failed = `${m.code}: ${m.message}`;
  }
  return summary;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [cacheFile, kernels, threads] = process.argv.slice(2);
  trainAndEvaluate(cacheFile!, kernels as KernelChoice, Number(threads)).then(
    (s) => process.stdout.write(JSON.stringify(s) + '\n'),
    (e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); },
  );
}
