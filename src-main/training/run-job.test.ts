/**
 * The evaluation job's loss is the engine's: log-sum-exp of the logits, as validation computes it,
 * so evaluating on the validation split gives the run's last validation loss, and a confidently
 * wrong prediction costs what it really costs instead of the −log(1e-12) = 27.6 a clipped
 * probability would say.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src-engine/model.js';
import { loadSample } from '../../src-engine/test/sample.js';
import { Trainer } from '../../src-engine/train.js';
import { tempDir } from '../service/testing.js';
import type { EvaluateJob, WorkerMessage } from './protocol.js';
import { runJob } from './run-job.js';
import { SAMPLE_CLASSES, writeSampleCache } from './test/sample-cache.js';
import { SMALL_CONV } from './test/train-and-evaluate.js';
import { workerFactories } from '../worker-factories/index.js';

const dir = tempDir();
afterAll(() => dir.remove());
const cacheFile = writeSampleCache(dir.path, 200, 60);
const data = { cacheFile, validationSplit: 0.2, splitSeed: 1, trainLimit: null };

async function run(job: Parameters<typeof runJob>[0]): Promise<WorkerMessage[]> {
  const messages: WorkerMessage[] = [];
  await runJob(job, (m) => messages.push(m), workerFactories.replica);
  const failed = messages.find((m) => m.type === 'failed');
  if (failed) throw new Error(`job failed: ${JSON.stringify(failed)}`);
  return messages;
}

async function evaluated(job: Omit<EvaluateJob, 'type' | 'data' | 'kernels' | 'classNames' | 'maxMisclassified'>) {
  const messages = await run({ type: 'evaluate', data, kernels: 'reference', classNames: SAMPLE_CLASSES, maxMisclassified: 100, ...job });
  const result = messages.find((m) => m.type === 'evaluated');
  if (result?.type !== 'evaluated') throw new Error('no evaluated message');
  return result;
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('evaluation loss', () => {
  it('evaluating the final state on the validation split gives the run\'s last validation loss (to 1e-6)', async () => {
    const messages = await run({
      type: 'train', runId: 1, data, spec: SMALL_CONV, seed: 3, kernels: 'reference', threads: 1, progressEvery: 10, snapshotMinutes: 0, healthEvery: 0, wallTimeOffset: 0,
      config: { epochs: 2, batchSize: 16, optimizer: { type: 'sgd', learningRate: 0.05, momentum: 0.9 }, seed: 3 },
      control: new SharedArrayBuffer(4),
    });
    const last = messages.filter((m) => m.type === 'epoch').at(-1);
    if (last?.type !== 'epoch') throw new Error('no epoch message');
    const e = await evaluated({ split: 'validation', state: last.state });
    expect(e.count).toBe(40);
    expect(relative(e.loss, last.metrics.valLoss!)).toBeLessThan(1e-6);
    expect(e.accuracy).toBe(last.metrics.valAccuracy);
  });

  it('a confidently wrong model (class 0 logit +40): the loss equals model.evaluate\'s; the old clipped formula is off by more than 5', async () => {
    const model = buildModel(SMALL_CONV, { seed: 3 });
    const bias = model.parameters().find((p) => p.name === 'dense3.bias')!;
    bias.value[0] = 40;
    const state = new Trainer(model, loadSample('train', 16), { epochs: 1, batchSize: 16, optimizer: { type: 'sgd', learningRate: 0.1 } }).saveState();

    const test = loadSample('t10k', 60);
    const x = Float32Array.from(test.images, (v) => v / 255);
    const expected = model.evaluate(x, test.labels, test.n);
    // the construction means something: float32 probabilities of some true labels are below the old clip
    const probs = model.predict(x, test.n);
    const k = model.classes;
    const clipped = Array.from(test.labels, (y, i) => -Math.log(Math.max(probs[i * k + y]!, 1e-12)));
    expect(clipped.filter((l) => l === -Math.log(1e-12)).length).toBeGreaterThan(10);
    const oldLoss = clipped.reduce((a, b) => a + b, 0) / test.n;
    expect(expected.loss - oldLoss).toBeGreaterThan(5);

    const e = await evaluated({ split: 'test', state });
    expect(e.count).toBe(60);
    expect(relative(e.loss, expected.loss)).toBeLessThan(1e-6);
    expect(e.accuracy).toBe(expected.accuracy);
    // every image predicted class 0: the confusion matrix's first column holds them all
    expect(e.confusion.map((row) => row[0])).toEqual(e.confusion.map((row) => row.reduce((a, b) => a + b, 0)));
  });
});
