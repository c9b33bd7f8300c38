/**
 * The step-through's numbers are the engine's own: on a real Fashion-MNIST image through a trained
 * reference net, its loss, probabilities, every parameter gradient and the input gradient equal
 * model.lossAndGradients on that sample bit for bit, and each step's unit-level numbers — the dot
 * product and bias, the ReLU, the pool's maximum, the logits, p − onehot, the masked gradient and its
 * share of dL/dK summed over the positions — add up to what the layers computed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { stepThrough, type StepThrough } from '../inspect/step-through.js';
import type { BackwardDetail, ForwardDetail } from '../inspect/types.js';
import { fastKernels } from '../kernels/wasm/index.js';
import { buildModel, Model } from '../model.js';
import { Trainer } from '../train.js';
import type { ModelSpec } from '../spec.js';
import { loadSample, REFERENCE_SPEC } from './sample.js';

const train = loadSample('train', 400);
const test = loadSample('t10k', 4);
const image = (i: number) => Float32Array.from(test.images.subarray(i * 784, (i + 1) * 784), (v) => v / 255);

/** A reference net after 25 SGD steps on 400 images: realistic weights, biases that are not zero. */
function trained(spec: ModelSpec = REFERENCE_SPEC): Float32Array {
  const model = buildModel(spec, { seed: 3 });
  const trainer = new Trainer(model, train, { epochs: 1, batchSize: 16, optimizer: { type: 'sgd', learningRate: 0.05, momentum: 0.9 }, seed: 3 });
  for (let i = 0; i < 25; i++) trainer.step();
  return Float32Array.from(model.values);
}

const forwardOf = <K extends ForwardDetail['kind']>(s: StepThrough, i: number, kind: K) => {
  const d = s.layers[i]!.forward!;
  expect(d.kind).toBe(kind);
  return d as Extract<ForwardDetail, { kind: K }>;
};
const backwardOf = <K extends BackwardDetail['kind']>(s: StepThrough, i: number, kind: K) => {
  const d = s.layers[i]!.backward!;
  expect(d.kind).toBe(kind);
  return d as Extract<BackwardDetail, { kind: K }>;
};

describe('step-through of one image (reference net 28×28×1, trained 25 steps)', () => {
  let weights: Float32Array;
  beforeAll(() => {
    weights = trained();
  });

  it('loss, probabilities, every parameter gradient and the input gradient equal lossAndGradients on that sample, bit for bit', () => {
    const inspected = buildModel(REFERENCE_SPEC);
    inspected.values.set(weights);
    const s = stepThrough(inspected, image(0), test.labels[0]!);

    const engine = buildModel(REFERENCE_SPEC);
    engine.values.set(weights);
    const r = engine.lossAndGradients(image(0), [test.labels[0]!], 1, { training: false });
    expect(s.loss).toBe(r.loss);
    expect(s.inputGradient).toEqual(Array.from(r.inputGradient!));
    expect(Array.from(inspected.grads)).toEqual(Array.from(engine.grads));
    expect(Array.from(Float32Array.from(s.probabilities))).toEqual(Array.from(engine.predict(image(0), 1)));
    // dL/dlogits = p − onehot
    s.dlogits.forEach((d, j) => expect(d).toBeCloseTo(s.probabilities[j]! - (j === s.label ? 1 : 0), 6));
    expect(s.predicted).toBe(s.logits.indexOf(Math.max(...s.logits)));
    // the layers were only watched: the model is the one it was
    expect(Object.hasOwn(inspected.layers[0]!, 'forward')).toBe(false);
  });

  it('on the fast kernels too: every layer\'s backward is seen (the fused conv → pool is off while watched), with the fused pass\'s bits', () => {
    const inspected = buildModel(REFERENCE_SPEC, { kernels: fastKernels() });
    inspected.values.set(weights);
    const s = stepThrough(inspected, image(0), test.labels[0]!);
    expect(s.layers.map((l) => l.backward?.kind ?? null)).toEqual(s.layers.map((l) => (l.forward ? expect.any(String) : null)));
    const engine = buildModel(REFERENCE_SPEC, { kernels: fastKernels() });
    engine.values.set(weights);
    const r = engine.lossAndGradients(image(0), [test.labels[0]!], 1, { training: false, inputGradient: true });
    expect(s.loss).toBe(r.loss);
    expect(Array.from(inspected.grads)).toEqual(Array.from(engine.grads));
    expect(s.inputGradient).toEqual(Array.from(r.inputGradient!));
  });

  it('conv forward: dot + bias (the engine\'s order) is the pre-activation, the ReLU of it the output; the kernel is the filter', () => {
    const model = buildModel(REFERENCE_SPEC);
    model.values.set(weights);
    const s = stepThrough(model, image(1), test.labels[1]!);
    for (const i of [0, 2]) {
      const conv = forwardOf(s, i, 'conv');
      expect(conv.a).toBe(Math.max(0, conv.z));
      expect(conv.z).toBeCloseTo(conv.dot + conv.bias, 5);
      expect(conv.channelSums.reduce((a, b) => a + b, 0)).toBeCloseTo(conv.dot, 5);
      const w = model.layers[i]!.params[0]!.value;
      const cout = (REFERENCE_SPEC.layers[i] as { filters: number }).filters;
      expect(conv.kernel).toEqual(conv.kernel.map((_, t) => w[t * cout + conv.unit[2]]));
      expect(conv.patch).toHaveLength(conv.kh * conv.kw * conv.cin);
    }
    // the first conv's unit is live (the chain picks what moves the loss), so its ReLU passed z
    expect(forwardOf(s, 0, 'conv').a).toBeGreaterThan(0);
  });

  it('the chain: each pool unit\'s maximum is the conv unit shown below it; the pool output is that maximum', () => {
    const model = buildModel(REFERENCE_SPEC);
    model.values.set(weights);
    const s = stepThrough(model, image(2), test.labels[2]!);
    for (const [pool, conv] of [[1, 0], [3, 2]] as const) {
      const p = forwardOf(s, pool, 'maxpool');
      expect(p.output).toBe(p.max);
      expect(p.window[p.argmax[0] * p.pw + p.argmax[1]]).toBe(p.max);
      expect(Math.max(...p.window)).toBe(p.max);
      expect(s.layers[conv]!.unit).toEqual([p.origin[0] + p.argmax[0], p.origin[1] + p.argmax[1], p.unit[2]]);
      expect(forwardOf(s, conv, 'conv').a).toBe(p.max);
    }
  });

  it('the head: z = a·W + b is the logit of the true class; dz = p − onehot', () => {
    const model = buildModel(REFERENCE_SPEC);
    model.values.set(weights);
    const label = test.labels[3]!;
    const s = stepThrough(model, image(3), label);
    const head = forwardOf(s, 5, 'dense');
    expect(head.unit).toEqual([0, 0, label]);
    expect(head.z).toBe(s.logits[label]);
    expect(head.a).toBe(s.logits[label]);
    expect(head.inputs).toBe(800);
    const back = backwardOf(s, 5, 'dense');
    expect(back.dz).toBe(s.dlogits[label]);
    expect(back.db).toBe(s.dlogits[label]);
    for (const t of back.terms) expect(t.dW).toBeCloseTo(t.a * back.dz, 6);
    expect(s.layers[4]!.forward).toEqual({ kind: 'reshape', from: [5, 5, 32], to: [1, 1, 800] });
  });

  it('conv backward: dZ = dA · ReLU′; summed over every position (the engine\'s order), patch · dZ is dL/dK and dZ is dL/db', () => {
    const model = buildModel(REFERENCE_SPEC);
    model.values.set(weights);
    const s = stepThrough(model, image(0), test.labels[0]!);
    const k = s.layers[2]!.unit![2];
    const first = backwardOf(s, 2, 'conv');
    expect(first.dZ).toBe(first.dA * first.slope);
    expect(first.db).toBeCloseTo(first.dZSum, 6);
    // every unit of filter k, in (row, column) order, accumulated as the reference kernel does
    const [oh, ow] = s.layers[2]!.outShape;
    const dK = new Array<number>(first.dK.length).fill(0);
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const u = stepThrough(model, image(0), test.labels[0]!, { units: { 2: [y, x, k] } });
        backwardOf(u, 2, 'conv').patchTimesDZ.forEach((v, t) => (dK[t] = Math.fround(dK[t]! + v)));
      }
    }
    expect(dK).toEqual(first.dK);
  });

  it('maxpool backward: the gradient goes to the maximum of the window only (pool 2, stride 2: no overlap)', () => {
    const model = buildModel(REFERENCE_SPEC);
    model.values.set(weights);
    const s = stepThrough(model, image(1), test.labels[1]!);
    const b = backwardOf(s, 3, 'maxpool');
    const at = b.argmax[0] * 2 + b.argmax[1];
    b.routed.forEach((v, t) => expect(v).toBe(t === at ? b.dY : 0));
    // and the conv below got exactly that as its dA
    expect(backwardOf(s, 2, 'conv').dA).toBe(b.dY);
  });

  it('conv 2×7×5×3, k3 s2 same: the patch of a corner unit is padded; the engine order still gives the output; float64 too', () => {
    const spec: ModelSpec = { inputShape: [7, 5, 3], layers: [{ type: 'conv2d', filters: 4, kernelSize: 3, stride: 2, padding: 'same', activation: 'linear' }, { type: 'flatten' }, { type: 'dense', units: 3 }] };
    for (const dtype of ['float32', 'float64'] as const) {
      const model = new Model(spec, { seed: 5, dtype });
      const x = model.values.constructor === Float64Array ? new Float64Array(105) : new Float32Array(105);
      for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 1.7);
      const s = stepThrough(model, x, 2, { units: { 0: [0, 0, 1] } });
      const conv = forwardOf(s, 0, 'conv');
      expect(conv.origin).toEqual([-1, -1]);
      expect(conv.padded.filter(Boolean)).toHaveLength(5 * 3);
      expect(conv.a).toBe(conv.z);
      expect(backwardOf(s, 0, 'conv').dXPatch.filter((_, t) => conv.padded[t])).toEqual(new Array(15).fill(0));
      expect(s.layers[0]!.region).toEqual({ rows: [0, 1], cols: [0, 1] });
    }
  });
});
