import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src-engine/model.js';
import { Rng } from '../../src-engine/rng.js';
import type { ModelSpec } from '../../src-engine/spec.js';
import { referenceNet } from '../../src-engine/reference-net.js';
import { LAYER_TYPES } from '../../src-engine/layers/registry.js';
import { exportOnnx, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from './onnx.js';
import { ExportError, parameterLayout } from './layout.js';

/** Specs that exercise every branch of the exporter. */
const SPECS: Record<string, ModelSpec> = {
  'reference net 28×28×1, conv16 k3 → pool2 → conv32 k3 → pool2 → flatten → dense10': referenceNet(),
  '8×10×2, conv k3 s2 same (asymmetric pads) → conv k3×2 s1×2 same (pads H 1+1, W 0+1) → flatten → dense5': {
    inputShape: [8, 10, 2],
    layers: [
      { type: 'conv2d', filters: 4, kernelSize: 3, stride: 2, padding: 'same' },
      { type: 'conv2d', filters: 6, kernelSize: [3, 2], stride: [1, 2], padding: 'same' },
      { type: 'flatten' },
      { type: 'dense', units: 5 },
    ],
  },
  '12×7×3 non-square RGB, conv k3×2 → pool 2×1 → flatten → dense4': {
    inputShape: [12, 7, 3],
    layers: [
      { type: 'conv2d', filters: 5, kernelSize: [3, 2] },
      { type: 'maxpool2d', poolSize: [2, 1] },
      { type: 'flatten' },
      { type: 'dense', units: 4 },
    ],
  },
  '11×11×2, linear conv → overlapping pool 3 s2 → flatten → dropout → dense8 relu → dropout → dense3': {
    inputShape: [11, 11, 2],
    layers: [
      { type: 'conv2d', filters: 4, kernelSize: 3, activation: 'linear' },
      { type: 'maxpool2d', poolSize: 3, stride: 2 },
      { type: 'flatten' },
      { type: 'dropout', rate: 0.3 },
      { type: 'dense', units: 8, activation: 'relu' },
      { type: 'dropout', rate: 0.5 },
      { type: 'dense', units: 3 },
    ],
  },
  '6×6×2, conv k6 → 1×1 image → flatten → conv k1 → dense (no flatten) linear → dense3': {
    inputShape: [6, 6, 2],
    layers: [
      { type: 'conv2d', filters: 3, kernelSize: 6 },
      { type: 'flatten' },
      { type: 'conv2d', filters: 4, kernelSize: 1, activation: 'linear' },
      { type: 'dense', units: 7, activation: 'linear' },
      { type: 'dense', units: 3 },
    ],
  },
  "9×8×2, conv leakyRelu α 0.2 → batch norm (NCHW) → avg pool 3 s2 'same' (partial windows) → conv tanh → avg pool 2 valid → flatten → dense sigmoid → batch norm (rows) → dense4": {
    inputShape: [9, 8, 2],
    layers: [
      { type: 'conv2d', filters: 5, kernelSize: 3, padding: 'same', activation: 'leakyRelu', alpha: 0.2 },
      { type: 'batchnorm', epsilon: 1e-3 },
      { type: 'avgpool2d', poolSize: 3, stride: 2, padding: 'same' },
      { type: 'conv2d', filters: 6, kernelSize: 2, activation: 'tanh' },
      { type: 'avgpool2d', poolSize: 2 },
      { type: 'flatten' },
      { type: 'dense', units: 8, activation: 'sigmoid' },
      { type: 'batchnorm' },
      { type: 'dense', units: 4 },
    ],
  },
  '10×7×3, conv sigmoid → global avg pool → batch norm on the 1×1 image → dense leakyRelu → dense tanh → dense5': {
    inputShape: [10, 7, 3],
    layers: [
      { type: 'conv2d', filters: 6, kernelSize: 3, activation: 'sigmoid' },
      { type: 'globalavgpool2d' },
      { type: 'batchnorm' },
      { type: 'dense', units: 7, activation: 'leakyRelu' },
      { type: 'dense', units: 6, activation: 'tanh' },
      { type: 'dense', units: 5 },
    ],
  },
};

/** A model with seeded weights and non-zero biases (the engine initialises biases to zero, which
 *  would hide a misplaced bias); batch norm's scale and running statistics away from 1, 0, 1, so a
 *  mixed-up scale/shift or mean/variance shows. */
function seededModel(spec: ModelSpec, seed: number) {
  const model = buildModel(spec, { seed });
  const rng = new Rng(seed + 1000);
  for (const p of model.parameters()) {
    if (p.name.endsWith('.bias')) for (let i = 0; i < p.value.length; i++) p.value[i] = (rng.next() - 0.5) * 0.4;
    if (p.name.startsWith('batchnorm') && p.name.endsWith('.weight')) for (let i = 0; i < p.value.length; i++) p.value[i] = 0.5 + rng.next();
  }
  for (const st of model.statistics()) {
    const mean = st.name.endsWith('.runningMean');
    for (let i = 0; i < st.value.length; i++) st.value[i] = mean ? (rng.next() - 0.5) * 0.6 : 0.3 + rng.next();
  }
  return model;
}

function randomImages(n: number, size: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(n * size);
  for (let i = 0; i < x.length; i++) x[i] = rng.next();
  return x;
}

async function runOnnx(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(bytes);
  expect(session.inputNames).toEqual([ONNX_INPUT_NAME]);
  expect(session.outputNames).toEqual([ONNX_OUTPUT_NAME]);
  const result = await session.run({ [ONNX_INPUT_NAME]: new ort.Tensor('float32', x, dims) });
  await session.release();
  return result[ONNX_OUTPUT_NAME]!;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('exportOnnx → onnxruntime-node matches model.predict', () => {
  Object.entries(SPECS).forEach(([name, spec], k) => {
    it(`${name}: batch 3, max |Δp| ≤ 1e-4`, async () => {
      const model = seededModel(spec, 11 + k);
      const [h, w, c] = spec.inputShape;
      const n = 3;
      const x = randomImages(n, h * w * c, 99 + k);
      const expected = model.predict(x, n);
      const bytes = exportOnnx(spec, model.values, { name: `test-${k}`, producerVersion: '0.1.0' });
      const out = await runOnnx(bytes, x, [n, h, w, c]);
      expect(out.dims).toEqual([n, model.classes]);
      const diff = maxAbsDiff(out.data as Float32Array, expected);
      expect(diff).toBeLessThanOrEqual(1e-4);
      // The comparison means something only if the predictions are not saturated one-hot rows.
      let minTop = 1;
      for (let i = 0; i < n; i++) minTop = Math.min(minTop, Math.max(...expected.subarray(i * model.classes, (i + 1) * model.classes)));
      expect(minTop).toBeLessThan(0.999);
    });
  });

  it('the specs above use every registered layer type, so a new type is run through onnxruntime too', () => {
    const used = new Set(Object.values(SPECS).flatMap((spec) => spec.layers.map((l) => l.type)));
    expect([...LAYER_TYPES].filter((t) => !used.has(t))).toEqual([]);
  });

  it('the batch dimension is dynamic: batch 1 and batch 5 through the same file', async () => {
    const spec = Object.values(SPECS)[2]!;
    const model = seededModel(spec, 5);
    const [h, w, c] = spec.inputShape;
    const bytes = exportOnnx(spec, model.values);
    const session = await ort.InferenceSession.create(bytes);
    for (const n of [1, 5]) {
      const x = randomImages(n, h * w * c, n);
      const out = (await session.run({ input: new ort.Tensor('float32', x, [n, h, w, c]) })).probabilities!;
      expect(out.dims).toEqual([n, 4]);
      expect(maxAbsDiff(out.data as Float32Array, model.predict(x, n))).toBeLessThanOrEqual(1e-4);
    }
    await session.release();
  });

  it('refuses weights of the wrong length and class names of the wrong count, naming the numbers', () => {
    const spec = Object.values(SPECS)[0]!;
    const total = parameterLayout(spec).totalParams;
    expect(total).toBe(16 * 9 + 16 + 32 * 16 * 9 + 32 + 800 * 10 + 10);
    expect(() => exportOnnx(spec, new Float32Array(total - 1))).toThrow(new ExportError(`weights have ${total - 1} values but the spec has ${total} parameters`));
    expect(() => exportOnnx(spec, new Float32Array(total), { classNames: ['a', 'b'] })).toThrow('got 2 class names for a model with 10 classes');
    const bad = new Float32Array(total);
    bad[total - 3] = NaN;
    expect(() => exportOnnx(spec, bad)).toThrow('weight dense6.bias[7] is NaN');
  });
});

describe('parameterLayout', () => {
  it('names, shapes and offsets equal Model.parameters() then Model.statistics() for every test spec', () => {
    for (const spec of Object.values(SPECS)) {
      const model = buildModel(spec);
      const fromModel = [...model.parameters(), ...model.statistics()].map((p) => ({ name: p.name, shape: p.shape, offset: p.value.byteOffset / 4, length: p.value.length }));
      const fromSpec = parameterLayout(spec).parameters.map(({ name, shape, offset, length }) => ({ name, shape, offset, length }));
      expect(fromSpec).toEqual(fromModel);
      expect(parameterLayout(spec).totalValues).toBe(model.values.length);
      expect(parameterLayout(spec).totalParams).toBe(model.grads.length);
    }
  });

  it('a spec with batch norm: the statistics after every parameter; weights of the wrong length name both counts', () => {
    const spec = SPECS['10×7×3, conv sigmoid → global avg pool → batch norm on the 1×1 image → dense leakyRelu → dense tanh → dense5']!;
    const layout = parameterLayout(spec);
    expect(layout.parameters.filter((p) => !p.trainable).map((p) => [p.name, p.offset])).toEqual([
      ['batchnorm3.runningMean', layout.totalParams], ['batchnorm3.runningVar', layout.totalParams + 6],
    ]);
    expect(() => exportOnnx(spec, new Float32Array(layout.totalParams)))
      .toThrow(`weights have ${layout.totalParams} values but the spec has ${layout.totalValues} (${layout.totalParams} parameters and 12 statistics)`);
  });
});
