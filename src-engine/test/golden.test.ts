/**
 * Golden values from PyTorch: every fixture in fixtures/golden/ (written by tools/make-golden.py,
 * PyTorch float64) is rebuilt with the engine, given the same weights and batch, and its
 * probabilities, loss, every parameter gradient and the input gradient are compared.
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
import { relativeError } from './compare.js';

interface GoldenFixture {
  name: string;
  description: string;
  spec: ModelSpec;
  n: number;
  x: number[];
  labels: number[];
  params: { name: string; shape: number[]; value: number[] }[];
  probs: number[];
  loss: number;
  grads: { name: string; value: number[] }[];
  inputGradient: number[];
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
        return `conv${l.filters} k${pairText(l.kernelSize)} s${pairText(l.stride ?? 1)} ${l.padding ?? 'valid'}${l.activation === 'linear' ? ' linear' : ''}`;
      case 'maxpool2d':
        return `pool${pairText(l.poolSize)} s${pairText(l.stride ?? l.poolSize)}`;
      case 'dense':
        return `dense${l.units}${l.activation && l.activation !== 'softmax' ? ' ' + l.activation : ''}`;
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

/** Builds the engine model, loads the fixture's weights, runs it, and measures every error. */
function compare<T extends FloatArray>(model: Model<T>, f: GoldenFixture): Errors {
  const params = model.parameters();
  expect(params.map((p) => p.name)).toEqual(f.params.map((p) => p.name));
  params.forEach((p, i) => {
    const golden = f.params[i]!;
    expect(p.shape, p.name).toEqual(golden.shape);
    expect(p.value.length, p.name).toBe(golden.value.length);
    p.value.set(golden.value);
  });
  const x = model.dtype === 'float64' ? Float64Array.from(f.x) : Float32Array.from(f.x);
  // predict always hands back float32; the float64 twin's probabilities come from its logits
  const predicted = model.predict(x, f.n);
  let probs: FloatArray = predicted;
  if (model.dtype === 'float64') {
    probs = new Float64Array(f.n * model.classes);
    softmax(f.n, model.classes, model.forward(x, f.n, false), probs);
    expect(relativeError(predicted, f.probs), 'predict (float32 output)').toBeLessThanOrEqual(FLOAT32_TOLERANCE);
  }
  const result = model.lossAndGradients(x, f.labels, f.n, { inputGradient: true });
  expect(result.inputGradient, 'input gradient').not.toBeNull();
  const grads: Record<string, number> = {};
  f.grads.forEach((g, i) => {
    const p = params[i]!;
    expect(p.name).toBe(g.name);
    grads[g.name] = relativeError(p.grad, g.value);
  });
  return {
    probs: relativeError(probs, f.probs),
    loss: Math.abs(result.loss - f.loss) / Math.max(Math.abs(f.loss), 1e-6),
    grads,
    inputGradient: relativeError(result.inputGradient!, f.inputGradient),
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
  it('has the fixtures (run /usr/bin/python3 tools/make-golden.py to regenerate)', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(8);
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
