/**
 * Training health: each measurement against an independent computation, measuring changes no bit
 * of training, a NaN loss names the first layer that went non-finite, and each plain-words rule
 * fires on the records it is about and stays quiet on healthy ones.
 */
import { describe, expect, it } from 'vitest';
import { healthFindings, type HealthRecord } from '../inspect/findings.js';
import { firstNonFinite, measureHealth, type LayerHealth } from '../inspect/health.js';
import { buildModel } from '../model.js';
import { parameterLayout } from '../parameters.js';
import type { ModelSpec } from '../spec.js';
import { Trainer, TrainingError, type StepView } from '../train.js';
import { loadSample, REFERENCE_SPEC } from './sample.js';

const train = loadSample('train', 256);
const SMALL: ModelSpec = {
  inputShape: [28, 28, 1],
  layers: [{ type: 'conv2d', filters: 4, kernelSize: 3, stride: 2 }, { type: 'maxpool2d', poolSize: 2 }, { type: 'flatten' }, { type: 'dropout', rate: 0.3 }, { type: 'dense', units: 10 }],
};

const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

describe('health measurements', () => {
  it('after an SGD step: gradient norm, update/weight ratio (= lr·‖g‖/‖w‖ without momentum), mean and std of each layer\'s output', () => {
    const model = buildModel(SMALL, { seed: 2 });
    const lr = 0.05;
    let seen: { view: StepView; health: LayerHealth[]; grads: Float32Array; after: Float32Array; before: Float32Array } | null = null;
    const trainer = new Trainer(model, train, { epochs: 1, batchSize: 16, optimizer: { type: 'sgd', learningRate: lr, momentum: 0 }, seed: 2 }, undefined, {
      afterStep: (view) => {
        if (view.event.step === 3) seen = { view, health: measureHealth(model, view.x, view.n, view.before), grads: Float32Array.from(model.grads), after: Float32Array.from(model.values), before: Float32Array.from(view.before) };
      },
    });
    for (let i = 0; i < 3; i++) trainer.step();
    const { view, health, grads, after, before } = seen!;
    const layout = parameterLayout(SMALL).parameters;
    const slice = (a: Float32Array, layer: number) => layout.filter((p) => p.layerIndex === layer).flatMap((p) => Array.from(a.subarray(p.offset, p.offset + p.length)));
    for (const layer of [0, 4]) {
      const g = slice(grads, layer), w0 = slice(before, layer), w1 = slice(after, layer);
      expect(health[layer]!.gradientNorm).toBeCloseTo(norm(g), 6);
      expect(health[layer]!.updateRatio).toBeCloseTo(norm(w1.map((v, i) => v - w0[i]!)) / norm(w0), 7);
      expect(health[layer]!.updateRatio).toBeCloseTo((lr * norm(g)) / norm(w0), 5);
    }
    expect(health[1]!.gradientNorm).toBeNull();
    expect(health[1]!.deadFraction).toBeNull();
    // the conv's own output on this batch, in inference mode
    const out = Array.from(model.layers[0]!.forward(view.x, view.n, false));
    const mean = out.reduce((a, b) => a + b, 0) / out.length;
    expect(health[0]!.activationMean).toBeCloseTo(mean, 6);
    expect(health[0]!.activationStd).toBeCloseTo(Math.sqrt(out.reduce((a, b) => a + (b - mean) ** 2, 0) / out.length), 5);
    expect(health[0]!.nonFinite).toBe(0);
  });

  it('dead ReLUs: filters whose bias is −100 never fire; their units are the dead fraction (2 of 4 filters → 50%)', () => {
    const model = buildModel(SMALL, { seed: 2 });
    const bias = model.layers[0]!.params[1]!.value;
    bias.set([1, -100, 1, -100]);
    // filters 0 and 2 output their bias, 1, everywhere: alive at every position
    const weight = model.layers[0]!.params[0]!.value;
    for (let t = 0; t < 9; t++) weight[t * 4] = weight[t * 4 + 2] = 0;
    const x = Float32Array.from(train.images.subarray(0, 8 * 784), (v) => v / 255);
    const health = measureHealth(model, x, 8, Float32Array.from(model.values));
    expect(health[0]!.deadFraction).toBe(0.5);
    expect(health[0]!.updateRatio).toBe(0);
  });

  it('measuring every step changes no bit of training (dropout\'s stream included)', () => {
    const run = (measure: boolean) => {
      const model = buildModel(SMALL, { seed: 5 });
      const losses: number[] = [];
      const t = new Trainer(model, train, { epochs: 2, batchSize: 32, optimizer: { type: 'adam', learningRate: 0.01 }, seed: 5 }, undefined, {
        afterStep: measure ? (v) => void measureHealth(model, v.x, v.n, v.before) : undefined,
      });
      t.run({ onBatch: (e) => losses.push(e.loss) });
      return { weights: Array.from(model.values), losses };
    };
    expect(run(true)).toEqual(run(false));
  });
});

describe('a non-finite loss', () => {
  it('firstNonFinite names a layer whose weights are NaN, or the first whose output overflows; null when all is finite', () => {
    const model = buildModel(REFERENCE_SPEC, { seed: 1 });
    const x = Float32Array.from(train.images.subarray(0, 2 * 784), (v) => v / 255);
    expect(firstNonFinite(model, x, 2)).toBeNull();
    model.layers[2]!.params[0]!.value[7] = NaN;
    expect(firstNonFinite(model, x, 2)).toEqual({ index: 2, label: 'conv2d #3', what: 'weights', count: 1, of: 3 * 3 * 16 * 32 + 32 });
    model.layers[2]!.params[0]!.value[7] = 0;
    model.layers[0]!.params[0]!.value.fill(3e38);
    const r = firstNonFinite(model, x, 2)!;
    expect([r.label, r.what]).toEqual(['conv2d #1', 'output']);
    expect(r.count).toBeGreaterThan(0);
  });

  it('the trainer\'s NaN error names the first layer that went non-finite and carries it', () => {
    const linear: ModelSpec = { inputShape: [28, 28, 1], layers: [{ type: 'flatten' }, { type: 'dense', units: 32, activation: 'linear' }, { type: 'dense', units: 10 }] };
    const model = buildModel(linear, { seed: 1 });
    const t = new Trainer(model, train, { epochs: 5, batchSize: 32, optimizer: { type: 'sgd', learningRate: 1e30 }, seed: 1 });
    let error: TrainingError | null = null;
    try {
      t.run();
    } catch (e) {
      error = e as TrainingError;
    }
    expect(error).toBeInstanceOf(TrainingError);
    expect(error!.message).toMatch(/loss became (NaN|-?Infinity) at epoch 1, batch \d+ \(dense #\d's (weights|output) went non-finite first\)/);
    expect(error!.nonFinite).toMatchObject({ epoch: 1, layer: { label: expect.stringMatching(/^dense #\d$/) } });
    expect(error!.nonFinite!.batch).toBe(error!.nonFinite!.step);
  });
});

const layer = (index: number, label: string, over: Partial<LayerHealth> = {}): LayerHealth => ({
  index, label, gradientNorm: 0.5, updateRatio: 1e-3, deadFraction: null, activationMean: 0.2, activationStd: 0.3, nonFinite: 0, ...over,
});
const healthy = (step: number, epoch = 1): HealthRecord => ({
  step, epoch, batch: step, layers: [layer(0, 'conv2d #1', { deadFraction: 0.1 }), layer(1, 'maxpool2d #2', { gradientNorm: null, updateRatio: null }), layer(2, 'dense #3')],
});
const records = (n: number, change: (r: HealthRecord, i: number) => void = () => {}) => Array.from({ length: n }, (_, i) => {
  const r = healthy(i * 10 + 10, 1 + Math.floor(i / 4));
  change(r, i);
  return r;
});

describe('health findings', () => {
  it('healthy records: nothing to say', () => {
    expect(healthFindings(records(12), { learningRate: 0.01 })).toEqual([]);
    expect(healthFindings([])).toEqual([]);
  });

  it('update/weight ratio 3e-1: the learning rate is too high, at the worst layer, with the lower rate to try', () => {
    const f = healthFindings(records(8, (r) => { r.layers[2]!.updateRatio = 0.3; r.layers[0]!.updateRatio = 0.15; }), { learningRate: 0.5 });
    expect(f).toEqual([expect.objectContaining({
      rule: 'update-too-large', severity: 'error', layer: 'dense #3',
      message: 'dense #3: update/weight ratio 3e-1 per step (healthy is about 1e-3) — the learning rate is too high',
      fix: 'lower the learning rate about 10× (0.5 → 0.05), then look again',
    })]);
  });

  it('one noisy batch is not a finding: the rule reads the median of the latest five', () => {
    expect(healthFindings(records(8, (r, i) => { if (i === 7) r.layers[2]!.updateRatio = 0.5; }))).toEqual([]);
  });

  it('78% of a conv layer\'s ReLUs dead since epoch 2', () => {
    const f = healthFindings(records(12, (r, i) => { if (i >= 4) r.layers[0]!.deadFraction = 0.78; }));
    expect(f.map((x) => x.message)).toEqual(['conv2d #1: 78% of ReLUs dead since epoch 2 (0 for every image of the batch)']);
    expect(f[0]!.fix).toMatch(/^lower the learning rate or use He init/);
  });

  it('weights that barely move, exploding gradients, vanishing gradients', () => {
    expect(healthFindings(records(6, (r) => r.layers.forEach((l) => { if (l.updateRatio !== null) l.updateRatio = 1e-8; })), { learningRate: 1e-6 }).map((x) => x.rule)).toEqual(['update-too-small']);
    expect(healthFindings(records(8, (r, i) => { r.layers[0]!.gradientNorm = 0.5 * 10 ** i; })).map((x) => x.rule)).toEqual(['exploding-gradient']);
    expect(healthFindings(records(8, (r) => { r.layers[0]!.gradientNorm = 1e-6; })).map((x) => [x.rule, x.layer])).toEqual([['vanishing-gradient', 'conv2d #1']]);
  });

  it('a NaN loss: the finding names the layer and what went non-finite', () => {
    const f = healthFindings(records(3), {
      learningRate: 5, failure: { step: 31, epoch: 1, batch: 31, loss: NaN, layer: { index: 0, label: 'conv2d #1', what: 'output', count: 312, of: 10816 } },
    });
    expect(f[0]).toEqual(expect.objectContaining({
      rule: 'non-finite', layer: 'conv2d #1',
      message: "loss became NaN at epoch 1, batch 31: conv2d #1's output went non-finite first (312 of 10,816 values)",
      fix: 'lower the learning rate (5 → 0.5) and fork from an earlier snapshot',
    }));
  });
});
