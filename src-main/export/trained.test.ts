/**
 * The exports of a model that has actually learned something, on real Fashion-MNIST images: the
 * ONNX file, run by onnxruntime-node, classifies the test images exactly as the engine does, and the
 * model JSON reloads to the same predictions, bit for bit.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src-engine/model.js';
import { referenceNet } from '../../src-engine/reference-net.js';
import type { ModelSpec } from '../../src-engine/spec.js';
import { Trainer, type EpochMetrics } from '../../src-engine/train.js';
import { metricsCsv } from './csv.js';
import { exportModelJson, modelFromJson } from './model-json.js';
import { exportOnnx } from './onnx.js';

const SAMPLE = join(import.meta.dirname, '../../resources/datasets/fashion-mnist-sample');

/** IDX pixels after the 16-byte header, labels after the 8-byte header; the first n of each. */
function readIdx(prefix: string, n: number): { images: Uint8Array; labels: Uint8Array } {
  const images = gunzipSync(readFileSync(join(SAMPLE, `${prefix}-images-idx3-ubyte.gz`))).subarray(16, 16 + n * 784);
  const labels = gunzipSync(readFileSync(join(SAMPLE, `${prefix}-labels-idx1-ubyte.gz`))).subarray(8, 8 + n);
  return { images, labels };
}

const REFERENCE_NET: ModelSpec = referenceNet();

describe('exports of a trained reference net (28×28×1 conv16-pool-conv32-pool-dense10) on Fashion-MNIST', () => {
  it('1 epoch on 1,000 sample images; 200 test images: ONNX probabilities within 1e-4, same predicted classes; JSON reload bit-identical', async () => {
    const train = readIdx('train', 1000);
    const test = readIdx('t10k', 200);
    const classNames = readFileSync(join(SAMPLE, 'classes.txt'), 'utf8').trim().split('\n');
    const model = buildModel(REFERENCE_NET, { seed: 1 });
    const trainer = new Trainer(model, { images: train.images, labels: train.labels, n: 1000 },
      { epochs: 1, batchSize: 32, optimizer: { type: 'adam', learningRate: 0.002 }, seed: 1 });
    const history: EpochMetrics[] = trainer.run();

    const n = 200;
    const x = Float32Array.from(test.images, (v) => v / 255);
    const expected = model.predict(x, n);
    const argmax = (p: Float32Array, i: number) => {
      let best = 0;
      for (let k = 1; k < 10; k++) if (p[i * 10 + k]! > p[i * 10 + best]!) best = k;
      return best;
    };
    let correct = 0;
    for (let i = 0; i < n; i++) if (argmax(expected, i) === test.labels[i]) correct++;
    // It learned: well above the 10% of chance after one short epoch.
    expect(correct / n).toBeGreaterThan(0.55);

    const session = await ort.InferenceSession.create(exportOnnx(REFERENCE_NET, model.values, { classNames }));
    const out = (await session.run({ input: new ort.Tensor('float32', x, [n, 28, 28, 1]) })).probabilities!;
    await session.release();
    const onnxProbs = out.data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(onnxProbs[i]! - expected[i]!));
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
    for (let i = 0; i < n; i++) expect(argmax(onnxProbs, i)).toBe(argmax(expected, i));

    const { json, bin } = exportModelJson(REFERENCE_NET, model.values, { classNames });
    const reloaded = modelFromJson(json, bin);
    expect(new Uint32Array(reloaded.predict(x, n).buffer)).toEqual(new Uint32Array(expected.buffer));

    const csv = metricsCsv(history.map((m) => ({ ...m, wall_seconds: m.seconds })));
    const [header, row] = csv.trim().split('\n');
    expect(header).toBe('epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,images_per_second,wall_seconds');
    const cells = row!.split(',');
    expect(cells).toHaveLength(8);
    expect(Number(cells[1])).toBe(history[0]!.trainLoss);
    expect(cells[3]).toBe('');
    console.log(`trained 1 epoch on 1,000 images: test accuracy ${(correct / n).toFixed(3)} on ${n}; ONNX max |Δp| ${maxDiff.toExponential(2)}`);
  });
});
