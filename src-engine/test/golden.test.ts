/**
 * Golden values from PyTorch: every fixture in fixtures/golden/ (written by tools/make-golden.py,
 * PyTorch float64) is rebuilt with the engine, given the same weights and batch, and its
 * probabilities, loss, every parameter gradient and the input gradient are compared — in training
 * mode, and for a network with batch norm also in evaluation mode, after the fixture's SGD steps
 * have moved the running statistics (which are compared too, step by step's end).
 *
 * Error measure, per tensor: max|ours − torch| / max(max|torch|, 1e-6). A tensor-wide scale keeps
 * near-zero elements from blowing the ratio up, and a wrong transpose or flatten order still moves
 * the largest elements by O(1), so it fails by orders of magnitude (see the last test).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { softmax } from '../kernels/activations.js';
import { buildModel, Model } from '../model.js';
import { inferShapesOrThrow } from '../shapes.js';
import type { ModelSpec } from '../spec.js';
import type { FloatArray } from '../tensor.js';
import { gradientError, relativeError } from './compare.js';
import { LAYER_TYPES } from '../layers/registry.js';

interface Tensor { name: string; shape: number[]; value: number[] }
interface Results {
  probs: number[];
  loss: number;
  grads: { name: string; value: number[] }[];
  inputGradient: number[];
}
interface GoldenFixture extends Results {
  name: string;
  description: string;
  spec: ModelSpec;
  n: number;
  x: number[];
  labels: number[];
  params: Tensor[];
  /** Batch norm's running statistics of the state the results are computed in. */
  statistics?: Tensor[];
  /** Batch-norm fixtures: the weights before `steps` SGD steps that led to `params`/`statistics`. */
  initial?: { params: Tensor[]; statistics: Tensor[] };
  steps?: { learningRate: number; batches: { x: number[]; labels: number[] }[] };
  /** The same batch in evaluation mode (running statistics). */
  eval?: Results;
}

/** Float32 engine vs float64 PyTorch: inputs are float32 numbers, so only the arithmetic differs. */
const FLOAT32_TOLERANCE = 1e-4;
/** The float64 twin differs from PyTorch only in summation order. */
const FLOAT64_TOLERANCE = 1e-9;

const fixtureDir = new URL('./fixtures/golden/', import.meta.url);
const fixtures: GoldenFixture[] = readdirSync(fixtureDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(new URL(f, fixtureDir), 'utf8')) as GoldenFixture);

/** "conv2d 2×7×5×3, k3 s2 same → conv2d k3 s2 same → dense 3": the batch, input and each layer. */
function describeShapes(f: GoldenFixture): string {
  const [h, w, c] = f.spec.inputShape;
  const pairText = (p: number | [number, number]) => (typeof p === 'number' ? `${p}` : `${p[0]}×${p[1]}`);
  const layers = f.spec.layers.map((l) => {
    switch (l.type) {
      case 'conv2d':
        return `conv${l.filters} k${pairText(l.kernelSize)} s${pairText(l.stride ?? 1)} ${l.padding ?? 'valid'}${l.activation && l.activation !== 'relu' ? ' ' + l.activation : ''}`;
      case 'maxpool2d':
        return `pool${pairText(l.poolSize)} s${pairText(l.stride ?? l.poolSize)}`;
      case 'dense':
        return `dense${l.units}${l.activation && l.activation !== 'softmax' ? ' ' + l.activation : ''}`;
      case 'avgpool2d':
        return `avgpool${pairText(l.poolSize)} s${pairText(l.stride ?? l.poolSize)} ${l.padding ?? 'valid'}`;
      case 'globalavgpool2d':
        return 'global avgpool';
      default:
        return l.type;
    }
  });
  return `${f.n}×${h}×${w}×${c}, ${layers.filter((l) => l !== 'flatten').join(' → ')}`;
}

interface Errors {
  probs: number;
  loss: number;
  /** Per parameter name. */
  grads: Record<string, number>;
  inputGradient: number;
}

/** Sets the model's parameters (and statistics) to a fixture's, checking names and shapes. */
function load<T extends FloatArray>(model: Model<T>, params: Tensor[], statistics: Tensor[] = []): void {
  for (const [ours, golden] of [[model.parameters(), params], [model.statistics(), statistics]] as const) {
    expect(ours.map((p) => p.name)).toEqual(golden.map((p) => p.name));
    ours.forEach((p, i) => {
      expect(p.shape, p.name).toEqual(golden[i]!.shape);
      p.value.set(golden[i]!.value);
    });
  }
}

/** Builds the engine model, loads the fixture's weights, runs it in the given mode, and measures every error. */
function compare<T extends FloatArray>(model: Model<T>, f: GoldenFixture, mode: 'train' | 'eval' = 'train'): Errors {
  load(model, f.params, f.statistics);
  const params = model.parameters();
  const golden: Results = mode === 'eval' ? f.eval! : f;
  const x = model.dtype === 'float64' ? Float64Array.from(f.x) : Float32Array.from(f.x);
  // predict (inference mode) always hands back float32; the float64 twin's probabilities, and
  // training mode's, come from the logits
  const training = mode === 'train';
  let probs: FloatArray = model.predict(x, f.n);
  if (model.dtype === 'float64' || training) {
    const predicted = probs;
    probs = model.dtype === 'float64' ? new Float64Array(f.n * model.classes) : new Float32Array(f.n * model.classes);
    softmax(f.n, model.classes, model.forward(x, f.n, training), probs);
    if (model.dtype === 'float64' && (!training || !model.hasBatchSums)) expect(relativeError(predicted, golden.probs), 'predict (float32 output)').toBeLessThanOrEqual(FLOAT32_TOLERANCE);
  }
  const result = model.lossAndGradients(x, f.labels, f.n, { inputGradient: true, training });
  expect(result.inputGradient, 'input gradient').not.toBeNull();
  const grads: Record<string, number> = {};
  golden.grads.forEach((g, i) => {
    const p = params[i]!;
    expect(p.name).toBe(g.name);
    grads[g.name] = gradientError(p.name, p.grad, g.value, params[i - 1]?.grad, f.spec.layers);
  });
  return {
    probs: relativeError(probs, golden.probs),
    loss: Math.abs(result.loss - golden.loss) / Math.max(Math.abs(golden.loss), 1e-6),
    grads,
    inputGradient: relativeError(result.inputGradient!, golden.inputGradient),
  };
}


function maxError(e: Errors): number {
  return Math.max(e.probs, e.loss, e.inputGradient, ...Object.values(e.grads));
}

function expectWithin(e: Errors, tolerance: number): void {
  expect(e.probs, 'probs').toBeLessThanOrEqual(tolerance);
  expect(e.loss, 'loss').toBeLessThanOrEqual(tolerance);
  for (const [name, err] of Object.entries(e.grads)) expect(err, `grad ${name}`).toBeLessThanOrEqual(tolerance);
  expect(e.inputGradient, 'input gradient').toBeLessThanOrEqual(tolerance);
}

const table: { name: string; shapes: string; f32: Errors; f64: Errors }[] = [];

describe('golden values from PyTorch', () => {
  it('has the fixtures (run /usr/bin/python3 tools/make-golden.py to regenerate), every layer type among them, batch norm in both modes', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(14);
    const types = new Set(fixtures.flatMap((f) => f.spec.layers.map((l) => l.type)));
    for (const type of LAYER_TYPES) if (type !== 'dropout') expect(types.has(type), type).toBe(true);
    const activations = new Set<string>(fixtures.flatMap((f) => f.spec.layers.map((l) => ('activation' in l ? l.activation : undefined) ?? 'default')));
    for (const a of ['relu', 'leakyRelu', 'tanh', 'sigmoid', 'linear']) expect(activations.has(a), a).toBe(true);
    expect(fixtures.filter((f) => f.eval && f.steps).length).toBeGreaterThanOrEqual(3);
    for (const f of fixtures) expect(inferShapesOrThrow(f.spec).classes, f.name).toBe(f.probs.length / f.n);
  });

  for (const f of fixtures) {
    const shapes = describeShapes(f);
    it(`${shapes} → probs, loss and grads match torch (${f.name})`, () => {
      const f32 = compare(buildModel(f.spec), f);
      expectWithin(f32, FLOAT32_TOLERANCE);
      const f64 = compare(new Model<Float64Array>(f.spec, { dtype: 'float64' }), f);
      table.push({ name: f.name, shapes, f32, f64 });
      expectWithin(f64, FLOAT64_TOLERANCE);
      // the float64 twin is not just within its bound but far closer than float32
      expect(maxError(f64)).toBeLessThan(maxError(f32));
    });

    if (f.eval) {
      it(`${shapes} → evaluation mode (running statistics) matches torch (${f.name})`, () => {
        const f32 = compare(buildModel(f.spec), f, 'eval');
        expectWithin(f32, FLOAT32_TOLERANCE);
        const f64 = compare(new Model<Float64Array>(f.spec, { dtype: 'float64' }), f, 'eval');
        table.push({ name: `${f.name} (eval)`, shapes, f32, f64 });
        expectWithin(f64, FLOAT64_TOLERANCE);
        // the two modes really differ here: batch statistics are not the running ones
        expect(relativeError(f.eval!.probs, f.probs)).toBeGreaterThan(1e-3);
      });
    }

    if (f.steps) {
      it(`${shapes} → ${f.steps.batches.length} SGD steps in training mode: the running statistics and weights match torch (${f.name})`, () => {
        for (const dtype of ['float32', 'float64'] as const) {
          const model = new Model(f.spec, { dtype });
          load(model, f.initial!.params, f.initial!.statistics);
          for (const b of f.steps!.batches) {
            model.lossAndGradients(b.x, b.labels, f.n, { inputGradient: false });
            for (let i = 0; i < model.grads.length; i++) model.trainable[i] -= f.steps!.learningRate * model.grads[i]!;
          }
          const tolerance = dtype === 'float32' ? FLOAT32_TOLERANCE : FLOAT64_TOLERANCE;
          model.statistics().forEach((st, i) => expect(relativeError(st.value, f.statistics![i]!.value), `${dtype} ${st.name}`).toBeLessThanOrEqual(tolerance));
          model.parameters().forEach((p, i) => expect(relativeError(p.value, f.params[i]!.value), `${dtype} ${p.name}`).toBeLessThanOrEqual(tolerance));
          // and they moved: the mean away from 0, the variance away from 1
          expect(relativeError(model.statistics()[0]!.value, f.initial!.statistics[0]!.value.map(() => 1))).toBeGreaterThan(1e-2);
        }
      });
    }
  }

  it('a conv weight loaded in torch order (Cout,Cin,KH,KW) or a C,H,W flatten order fails by far', () => {
    const f = fixtures.find((g) => g.name === 'reference-14x14x1')!;
    expect(f, 'reference-14x14x1 fixture').toBeDefined();

    // conv2d3.weight in our (KH,KW,Cin,Cout) order, rewritten as torch's (Cout,Cin,KH,KW) bytes
    const conv = structuredClone(f);
    const cw = conv.params.find((p) => p.name === 'conv2d3.weight')!;
    const [kh, kw, cin, cout] = cw.shape as [number, number, number, number];
    const torchOrder = new Array<number>(cw.value.length);
    for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) for (let ci = 0; ci < cin; ci++) for (let co = 0; co < cout; co++) {
      torchOrder[((co * cin + ci) * kh + ky) * kw + kx] = cw.value[((ky * kw + kx) * cin + ci) * cout + co]!;
    }
    cw.value = torchOrder;
    expect(maxError(compare(buildModel(conv.spec), conv))).toBeGreaterThan(1e-2);

    // dense weight rows in torch's C,H,W flatten order instead of our H,W,C
    const dense = structuredClone(f);
    const dw = dense.params.find((p) => p.name === 'dense6.weight')!;
    const [inDim, units] = dw.shape as [number, number];
    const flattenIndex = dense.spec.layers.findIndex((l) => l.type === 'flatten');
    const [h, w, c] = inferShapesOrThrow(dense.spec).layers[flattenIndex]!.inputShape;
    expect(h * w * c).toBe(inDim);
    expect(h).toBeGreaterThan(1);
    const chwRows = new Array<number>(dw.value.length);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) for (let o = 0; o < units; o++) {
      chwRows[((ch * h + y) * w + x) * units + o] = dw.value[((y * w + x) * c + ch) * units + o]!;
    }
    dw.value = chwRows;
    expect(maxError(compare(buildModel(dense.spec), dense))).toBeGreaterThan(1e-2);
  });
});

afterAll(() => {
  if (table.length === 0) return;
  const fmt = (v: number) => v.toExponential(1);
  const lines = ['| configuration | shapes | f32 probs | f32 loss | f32 max grad | f32 input grad | f64 max (any) |', '|---|---|---|---|---|---|---|'];
  for (const r of table) {
    const maxGrad = Math.max(...Object.values(r.f32.grads));
    lines.push(`| ${r.name} | ${r.shapes} | ${fmt(r.f32.probs)} | ${fmt(r.f32.loss)} | ${fmt(maxGrad)} | ${fmt(r.f32.inputGradient)} | ${fmt(maxError(r.f64))} |`);
  }
  console.log(`golden errors (max|ours − torch| / max|torch| per tensor):\n${lines.join('\n')}`);
});
