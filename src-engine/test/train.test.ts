import { describe, expect, it } from 'vitest';
import { buildModel, InputError } from '../model.js';
import { loadModel, saveModel } from '../serialize.js';
import type { ModelSpec } from '../spec.js';
import { Trainer, TrainingError, type TrainConfig } from '../train.js';
import { learningRateAt, plateauAfterEpoch, initialPlateau, type ScheduleConfig } from '../schedules.js';
import { softmaxCrossEntropy } from '../kernels/activations.js';
import { Adam } from '../optimizers/adam.js';
import { loadSample } from './sample.js';

const SMALL: ModelSpec = {
  inputShape: [28, 28, 1],
  layers: [
    { type: 'conv2d', filters: 4, kernelSize: 5, stride: 2 },
    { type: 'maxpool2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dropout', rate: 0.2 },
    { type: 'dense', units: 16, activation: 'relu' },
    { type: 'dense', units: 10 },
  ],
};
/** Batch norm after a conv and a dense layer, with dropout: statistics in every blob of the state. */
const NORMED: ModelSpec = {
  inputShape: [28, 28, 1],
  layers: [
    { type: 'conv2d', filters: 4, kernelSize: 5, stride: 2, activation: 'linear' },
    { type: 'batchnorm' },
    { type: 'avgpool2d', poolSize: 2, padding: 'same' },
    { type: 'flatten' },
    { type: 'dropout', rate: 0.2 },
    { type: 'dense', units: 16, activation: 'leakyRelu' },
    { type: 'batchnorm' },
    { type: 'dense', units: 10 },
  ],
};
const train = loadSample('train', 300);
const val = loadSample('t10k', 100);
const config = (over: Partial<TrainConfig> = {}): TrainConfig => ({
  epochs: 2, batchSize: 32, optimizer: { type: 'adam', learningRate: 0.003 }, seed: 11,
  augment: { flipHorizontal: true, maxShift: 2 }, ...over,
});

const bytesEqual = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

describe('determinism', () => {
  it('same seed → the same weights, bit for bit; another seed → different', () => {
    const run = (seed: number) => {
      const m = buildModel(SMALL, { seed });
      new Trainer(m, train, config({ seed }), val).run();
      return new Uint8Array(m.values.buffer.slice(0));
    };
    const a = run(3), b = run(3), c = run(4);
    expect(bytesEqual(a, b)).toBe(true);
    expect(bytesEqual(a, c)).toBe(false);
  });

  it('same seed → the same initial weights; He std for ReLU conv ≈ √(2/fanIn)', () => {
    const a = buildModel(SMALL, { seed: 5 }), b = buildModel(SMALL, { seed: 5 });
    expect(bytesEqual(new Uint8Array(a.values.buffer), new Uint8Array(b.values.buffer))).toBe(true);
    const w = a.parameters()[2]!.value; // dense 16 relu: fanIn 144
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(Math.sqrt(2 / 144) * 0.9);
    expect(std).toBeLessThan(Math.sqrt(2 / 144) * 1.1);
  });
});

describe('exact resume', () => {
  for (let [name, over] of [
    ['adam + dropout + flip/shift augmentation', {}],
    ['sgd momentum nesterov + step schedule', { optimizer: { type: 'sgd', learningRate: 0.05, momentum: 0.9, nesterov: true }, schedule: { type: 'step', stepSize: 1, gamma: 0.5 } }],
    ['batch norm + adamw + warm-up then cosine + label smoothing', { spec: NORMED, epochs: 3, optimizer: { type: 'adamw', learningRate: 0.004 }, schedule: { type: 'cosine', warmupEpochs: 1 }, labelSmoothing: 0.1 }],
    ['batch norm + reduce-on-plateau (patience 0: reduces at once)', { spec: NORMED, epochs: 3, optimizer: { type: 'sgd', learningRate: 0.5, momentum: 0.9 }, schedule: { type: 'plateau', factor: 0.5, patience: 0, threshold: 0.9 } }],
  ] as const) {
    it(`${name}: 2 epochs = 1 epoch, save, restore, 1 epoch (bit-identical)`, () => {
      const { spec = SMALL, ...rest } = over as Partial<TrainConfig> & { spec?: ModelSpec };
      over = rest as never;
      const straight = buildModel(spec, { seed: 1 });
      const t0 = new Trainer(straight, train, config(over as Partial<TrainConfig>), val);
      t0.run();
      // the schedule really moved the rate (for plateau: a reduction happened, resumed with the state)
      if ((over as Partial<TrainConfig>).schedule) expect(new Set(t0.history.map((h) => h.learningRate)).size).toBeGreaterThan(1);

      const first = buildModel(spec, { seed: 1 });
      const t1 = new Trainer(first, train, config(over as Partial<TrainConfig>), val);
      t1.runEpoch();
      const bytes = t1.saveState();
      const t2 = Trainer.restore(bytes, train, val);
      t2.run();
      expect(t2.epoch).toBe(t0.config.epochs);
      expect(bytesEqual(new Uint8Array(t2.model.values.buffer), new Uint8Array(straight.values.buffer))).toBe(true);
      expect(t2.history.map((h) => h.trainLoss)).toEqual(t0.history.map((h) => h.trainLoss));
    });
  }

  it('stopping mid-epoch (after batch 4 of 10) and restoring is bit-identical too', () => {
    const straight = buildModel(SMALL, { seed: 2 });
    new Trainer(straight, train, config(), val).run();
    const m = buildModel(SMALL, { seed: 2 });
    const t = new Trainer(m, train, config(), val);
    let steps = 0;
    t.run({ shouldStop: () => steps++ >= 14 });
    expect(t.stopReason).toBe('stopped');
    expect(t.epoch).toBe(1);
    expect(t.batch).toBe(4);
    const resumed = Trainer.restore(t.saveState(), train, val);
    resumed.run();
    expect(bytesEqual(new Uint8Array(resumed.model.values.buffer), new Uint8Array(straight.values.buffer))).toBe(true);
  });

  it('a corrupt or foreign state is a clear error', () => {
    const t = new Trainer(buildModel(SMALL), train, config({ epochs: 1 }));
    const bytes = t.saveState();
    const flipped = bytes.slice();
    flipped[200] ^= 0xff;
    expect(() => Trainer.restore(flipped, train)).toThrow(/corrupt: checksum mismatch/);
    expect(() => Trainer.restore(saveModel(t.model as never), train)).toThrow(/not a CNN Studio trainer state/);
    expect(() => Trainer.restore(bytes, loadSample('train', 64))).toThrow(/saved for 300 training images, got 64/);
  });
});

describe('training behaviour', () => {
  it('a NaN loss stops with a clear error and keeps the last good weights', () => {
    // a linear classifier with an absurd learning rate overflows float32 within a few steps
    const linear: ModelSpec = { inputShape: [28, 28, 1], layers: [{ type: 'flatten' }, { type: 'dense', units: 10 }] };
    const m = buildModel(linear, { seed: 1 });
    const t = new Trainer(m, train, config({ optimizer: { type: 'sgd', learningRate: 1e38 }, augment: undefined, epochs: 5 }));
    let lastGood: Float32Array | null = null;
    let error: unknown = null;
    let steps = 0;
    try {
      for (;;) {
        const before = Float32Array.from(m.values);
        if (t.step() === null) break;
        steps++;
        lastGood = before; // the weights that produced this step's finite loss
      }
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TrainingError);
    expect((error as TrainingError).code).toBe('nan_loss');
    expect((error as Error).message).toMatch(/loss became (NaN|Infinity) at epoch 1, batch \d+/);
    expect(steps).toBeGreaterThan(0);
    expect(t.done).toBe(true);
    expect(t.step()).toBeNull();
    expect(m.values.every(Number.isFinite)).toBe(true);
    expect(Array.from(m.values)).toEqual(Array.from(lastGood!));
  });

  it('early stopping with patience 1 stops before the epoch limit and restores the best weights', () => {
    const m = buildModel(SMALL, { seed: 1 });
    // a learning rate this high makes validation loss get worse quickly after the first epochs
    const t = new Trainer(m, train, config({ epochs: 30, optimizer: { type: 'adam', learningRate: 0.05 }, earlyStopping: { patience: 1 } }), val);
    let best: Float32Array | null = null;
    t.run({ onEpoch: (e) => { if (e.improved) best = Float32Array.from(m.values); } });
    expect(t.stopReason).toBe('early-stopped');
    expect(t.history.length).toBeLessThan(30);
    expect(t.history.length).toBe(t.bestEpoch + 2);
    expect(Array.from(m.values)).toEqual(Array.from(best!));
  });

  it('bad input throws a clear error and changes no weight', () => {
    const m = buildModel(SMALL, { seed: 1 });
    const before = Float32Array.from(m.values);
    const x = new Float32Array(2 * 784);
    expect(() => m.lossAndGradients(x.subarray(0, 700), [0, 1], 2)).toThrow(/input has 700 values, expected 2 × 784 = 1568/);
    expect(() => m.lossAndGradients(x, [0, 10], 2)).toThrow(/label #1 is 10; labels must be integers in \[0, 10\)/);
    expect(() => m.lossAndGradients(x, [0, 1.5], 2)).toThrow(InputError);
    x[5] = NaN;
    expect(() => m.predict(x, 2)).toThrow(/input value #5 \(image 0\) is NaN/);
    x[5] = Infinity;
    expect(() => new Trainer(m, { images: x, labels: [0, 1], n: 2 }, config())).toThrow(/is Infinity; inputs must be finite/);
    expect(() => new Trainer(m, train, config({ batchSize: 0 }))).toThrow(/batch size must be a positive integer, got 0/);
    expect(() => new Trainer(m, train, config({ optimizer: { type: 'sgd', learningRate: -1 } }))).toThrow(/learning rate must be a positive number, got -1/);
    expect(() => new Trainer(m, { images: train.images, labels: new Uint8Array(300).fill(12), n: 300 }, config())).toThrow(/training label #0 is 12/);
    expect(Array.from(m.values)).toEqual(Array.from(before));
  });

  it('cosine schedule reaches minLearningRate shape: lr per epoch decreases from base', () => {
    const m = buildModel(SMALL, { seed: 1 });
    const t = new Trainer(m, loadSample('train', 64), config({ epochs: 3, schedule: { type: 'cosine', minLearningRate: 0 } }));
    t.run();
    expect(t.history.map((h) => h.learningRate)).toEqual([0.003, 0.003 * 0.75, 0.003 * 0.25].map((v) => expect.closeTo(v, 12) as unknown as number));
  });
});

describe('schedules, AdamW, label smoothing', () => {
  const at = (epoch: number, batch = 0, plateauScale = 1) => ({ epoch, epochs: 6, batch, batchesPerEpoch: 4, plateauScale });

  it('warm-up rises per step to the base rate over W epochs, then the schedule starts from epoch W', () => {
    const cosine: ScheduleConfig = { type: 'cosine', warmupEpochs: 2 };
    expect([0, 1, 2, 3].map((b) => learningRateAt(cosine, 0.8, at(0, b)))).toEqual([0.1, 0.2, 0.3, 0.4].map((v) => expect.closeTo(v, 12)));
    expect(learningRateAt(cosine, 0.8, at(1, 3))).toBe(0.8);
    // cosine over the 4 epochs after warm-up: 1, (1 + cos π/4)/2, 1/2, (1 + cos 3π/4)/2
    expect([2, 3, 4, 5].map((e) => learningRateAt(cosine, 0.8, at(e)))).toEqual([1, (1 + Math.SQRT1_2) / 2, 0.5, (1 - Math.SQRT1_2) / 2].map((f) => expect.closeTo(0.8 * f, 12)));
    const step: ScheduleConfig = { type: 'step', stepSize: 2, gamma: 0.5, warmupEpochs: 1 };
    expect([1, 2, 3, 4].map((e) => learningRateAt(step, 1, at(e)))).toEqual([1, 1, 0.5, 0.5]);
    expect(learningRateAt({ type: 'constant' }, 0.3, at(0))).toBe(0.3);
  });

  it('reduce-on-plateau: PyTorch\'s rule (relative threshold, reduce after more than `patience` bad epochs), never below minLearningRate', () => {
    const plateau: ScheduleConfig = { type: 'plateau', factor: 0.5, patience: 1, minLearningRate: 0.2, warmupEpochs: 1 };
    let s = initialPlateau();
    const scales: number[] = [];
    // epoch 0 is warm-up (not counted); 1.0 best; 0.99995 is within the 1e-4 threshold: bad
    for (const [epoch, loss] of [[0, 0.5], [1, 1.0], [2, 0.99995], [3, 1.2], [4, 0.9], [5, 0.95], [6, 0.95]] as const) {
      s = plateauAfterEpoch(plateau, s, epoch, loss);
      scales.push(s.scale);
    }
    expect(scales).toEqual([1, 1, 1, 0.5, 0.5, 0.5, 0.25]);
    expect(s.best).toBe(0.9);
    expect(learningRateAt(plateau, 1, at(4, 0, 0.25))).toBe(0.25);
    expect(learningRateAt(plateau, 0.5, at(4, 0, 0.25))).toBe(0.2);
  });

  it('reduce-on-plateau needs validation data; warm-up must leave epochs for the schedule; label smoothing is in [0, 1)', () => {
    const m = buildModel(SMALL);
    expect(() => new Trainer(m, train, config({ schedule: { type: 'plateau', factor: 0.5, patience: 2 } }))).toThrow(/reduce-on-plateau watches the validation loss, but there is no validation data/);
    expect(() => new Trainer(m, train, config({ schedule: { type: 'cosine', warmupEpochs: 2 } }), val)).toThrow(/warm-up of 2 epochs leaves none of the 2/);
    expect(() => new Trainer(m, train, config({ labelSmoothing: 1 }), val)).toThrow(/label smoothing must be in \[0, 1\), got 1/);
    expect(() => new Trainer(m, train, config({ schedule: { type: 'plateau', factor: 1.5, patience: 2 } }), val)).toThrow(/factor must be in \(0, 1\)/);
  });

  it('AdamW decays the weights apart from the gradient (w·(1 − lr·wd), then Adam); Adam adds wd·w to the gradient', () => {
    const w = () => Float32Array.from([1, -2]);
    const g = new Float32Array(2); // zero gradient: only the decay moves the weights
    const adamw = new Adam({ type: 'adamw', learningRate: 0.1, weightDecay: 0.5 }, 2);
    const a = w();
    adamw.step(a, g, 0.1);
    expect(Array.from(a)).toEqual([0.95, -1.9].map((v) => expect.closeTo(v, 6)));
    const adam = new Adam({ type: 'adam', learningRate: 0.1, weightDecay: 0.5 }, 2);
    const b = w();
    adam.step(b, g, 0.1);
    // first Adam step is lr·sign(g) for g = wd·w
    expect(Array.from(b)).toEqual([0.9, -1.9].map((v) => expect.closeTo(v, 6)));
    // AdamW's default decay is PyTorch's 0.01
    const d = new Adam({ type: 'adamw', learningRate: 1 }, 2);
    const c = w();
    d.step(c, g, 1);
    expect(Array.from(c)).toEqual([0.99, -1.98].map((v) => expect.closeTo(v, 6)));
  });

  it('label smoothing ε: loss = −Σ ((1−ε)·onehot + ε/K)·log p, gradient p − target; ε = 0 is the plain loss', () => {
    const logits = Float64Array.from([2, 0, -1, 0.5, 0.5, 3]);
    const probs = new Float64Array(6), d = new Float64Array(6);
    const plain = softmaxCrossEntropy(2, 3, logits, [0, 2], probs, d, 1, 0).lossSum;
    const smooth = softmaxCrossEntropy(2, 3, logits, [0, 2], probs, d, 1, 0.3);
    let expected = 0;
    for (let b = 0; b < 2; b++) {
      const y = [0, 2][b]!;
      const lse = Math.log([0, 1, 2].reduce((s, j) => s + Math.exp(logits[b * 3 + j]!), 0));
      for (let j = 0; j < 3; j++) expected -= ((j === y ? 0.7 : 0) + 0.1) * (logits[b * 3 + j]! - lse);
      for (let j = 0; j < 3; j++) expect(d[b * 3 + j]).toBeCloseTo(probs[b * 3 + j]! - ((j === y ? 0.7 : 0) + 0.1), 12);
    }
    expect(smooth.lossSum).toBeCloseTo(expected, 12);
    expect(smooth.lossSum).toBeGreaterThan(plain);
  });

  it('batch norm: training uses the batch\'s statistics and moves the running ones by momentum; predict uses the running ones', () => {
    const spec: ModelSpec = { inputShape: [1, 1, 2], layers: [{ type: 'batchnorm', momentum: 0.25 }, { type: 'dense', units: 2 }] };
    const m = buildModel(spec);
    const x = Float32Array.from([1, 10, 3, 20, 5, 60]); // feature 0: mean 3, biased var 8/3, unbiased 4
    m.lossAndGradients(x, [0, 1, 0], 3);
    const [mean, variance] = m.statistics().map((st) => Array.from(st.value));
    expect(mean).toEqual([0.75, 7.5].map((v) => expect.closeTo(v, 5)));
    expect(variance![0]).toBeCloseTo(0.75 + 0.25 * 4, 5);
    const bn = m.layers[0]!;
    const train = Array.from(bn.forward(x, 3, true));
    expect(train[0]).toBeCloseTo(-2 / Math.sqrt(8 / 3 + 1e-5), 5);
    const infer = Array.from(bn.forward(x, 3, false));
    expect(infer[0]).toBeCloseTo((1 - 0.75) / Math.sqrt(1.75 + 1e-5), 5);
  });
});

describe('model files', () => {
  it('save → load gives identical predictions; wrong or corrupt bytes are clear errors', () => {
    const m = buildModel(SMALL, { seed: 9 });
    const bytes = saveModel(m);
    const back = loadModel(bytes);
    const x = Float32Array.from(train.images.subarray(0, 3 * 784), (v) => v / 255);
    expect(Array.from(back.predict(x, 3))).toEqual(Array.from(m.predict(x, 3)));
    expect(() => loadModel(new TextEncoder().encode('hello, this is not a model file'))).toThrow(/not a CNN Studio model file: magic number is "hell"/);
    const corrupt = bytes.slice();
    corrupt[bytes.length - 100] ^= 1;
    expect(() => loadModel(corrupt)).toThrow(/model file is corrupt: checksum mismatch/);
    const future = bytes.slice();
    future[4] = 9;
    expect(() => loadModel(future)).toThrow(/format version 9 is not supported/);
    expect(() => loadModel(bytes.subarray(0, 10))).toThrow(/only 10 bytes/);
  });
});
