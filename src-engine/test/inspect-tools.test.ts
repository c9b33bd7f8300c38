/**
 * The inspection tools against independent computations: receptive fields by hand, feature maps
 * equal to the layers' outputs, filter tiles normalised per filter from the right weights, the
 * saliency map equal to central differences of the class score, the on-demand gradient check
 * small on a correct model and large on a wrong kernel, and a layer type without an inspector
 * named rather than breaking the tools.
 */
import { describe, expect, it } from 'vitest';
import { featureMaps } from '../inspect/feature-maps.js';
import { filterTiles } from '../inspect/filters.js';
import { gradientCheck } from '../inspect/gradient-check.js';
import { imageRegion, receptiveFieldTable } from '../inspect/receptive-field.js';
import { saliency } from '../inspect/saliency.js';
import { stepThrough } from '../inspect/step-through.js';
import { referenceKernels } from '../kernels/reference.js';
import type { Kernels } from '../kernels/types.js';
import { maxpool2dLayer } from '../layers/maxpool2d.js';
import { buildModel, Model } from '../model.js';
import type { ModelSpec } from '../spec.js';
import { loadSample, REFERENCE_SPEC } from './sample.js';

const test = loadSample('t10k', 8);
const image = (i: number) => Float32Array.from(test.images.subarray(i * 784, (i + 1) * 784), (v) => v / 255);

describe('receptive fields', () => {
  it('reference net: conv 3 → pool 2 → conv 3 → pool 2, unit (0, 0) of each reads rows 0–2, 0–3, 0–7, 0–9', () => {
    expect([0, 1, 2, 3].map((i) => imageRegion(REFERENCE_SPEC, i, [0, 0], [0, 0]))).toEqual([
      { rows: [0, 2], cols: [0, 2] }, { rows: [0, 3], cols: [0, 3] }, { rows: [0, 7], cols: [0, 7] }, { rows: [0, 9], cols: [0, 9] },
    ]);
    // the last pool's unit (4, 4): rows 16..25 (its window starts at conv2 row 8 → pool1 row 8 → conv1 row 16)
    expect(imageRegion(REFERENCE_SPEC, 3, [4, 4], [2, 2])).toEqual({ rows: [16, 25], cols: [8, 17] });
    expect(imageRegion(REFERENCE_SPEC, 5, [0, 0], [0, 0])).toBe('whole');
  });

  it('conv 7×5, k3 s2 same: the padding is clamped away at the edges; the table has a row per output row', () => {
    const spec: ModelSpec = { inputShape: [7, 5, 1], layers: [{ type: 'conv2d', filters: 2, kernelSize: 3, stride: 2, padding: 'same' }, { type: 'flatten' }, { type: 'dense', units: 2 }] };
    expect(receptiveFieldTable(spec, 0)).toEqual({ rows: [[0, 1], [1, 3], [3, 5], [5, 6]], cols: [[0, 1], [1, 3], [3, 4]] });
  });
});

describe('feature maps', () => {
  it('every conv and pool layer of the reference net, equal to the layers\' own outputs; probabilities = predict', () => {
    const model = buildModel(REFERENCE_SPEC, { seed: 2 });
    const maps = featureMaps(model, image(0));
    expect(maps.maps.map((m) => [m.label, m.shape])).toEqual([
      ['conv2d #1', [26, 26, 16]], ['maxpool2d #2', [13, 13, 16]], ['conv2d #3', [11, 11, 32]], ['maxpool2d #4', [5, 5, 32]],
    ]);
    let a: Float32Array = image(0);
    model.layers.slice(0, 4).forEach((layer, i) => {
      a = layer.forward(a, 1, false).slice() as Float32Array;
      expect(Array.from(maps.maps[i]!.values)).toEqual(Array.from(a));
      expect(maps.maps[i]!.max).toBe(Math.max(...a));
      expect(maps.maps[i]!.min).toBe(Math.min(...a));
    });
    expect(Array.from(maps.probabilities)).toEqual(Array.from(model.predict(image(0), 1)));
    expect(maps.maps[3]!.receptiveField!.rows[4]).toEqual([16, 25]);
    expect(maps.unsupported).toEqual([]);
  });

  it('a layer type without an inspector is named as not supported; the others are still shown, the step-through goes on', () => {
    const spec: ModelSpec = { inputShape: [8, 8, 1], layers: [{ type: 'conv2d', filters: 2, kernelSize: 3 }, { type: 'maxpool2d', poolSize: 2 }, { type: 'conv2d', filters: 2, kernelSize: 2 }, { type: 'flatten' }, { type: 'dense', units: 3 }] };
    const model = buildModel(spec, { seed: 1 });
    const x = Float32Array.from({ length: 64 }, (_, i) => (i % 7) / 7);
    // stands in for a new layer type whose module has no inspector yet
    const saved = maxpool2dLayer.inspect;
    delete (maxpool2dLayer as { inspect?: unknown }).inspect;
    try {
      const maps = featureMaps(model, x);
      expect(maps.maps.map((m) => m.label)).toEqual(['conv2d #1', 'conv2d #3']);
      expect(maps.unsupported).toEqual([{ index: 1, label: 'maxpool2d #2', reason: expect.stringContaining('maxpool2d #2: maxpool2d layers have no inspection support yet') }]);
      // the conv above it cannot say where on the image it looks
      expect(maps.maps[1]!.receptiveField).toBeNull();
      const s = stepThrough(model, x, 1);
      expect(s.layers[1]!.unit).toBeNull();
      expect(s.layers[1]!.note).toContain('no inspection support yet');
      expect(s.layers[2]!.forward!.kind).toBe('conv');
      expect(s.layers[2]!.region).toBeNull();
    } finally {
      (maxpool2dLayer as { inspect?: unknown }).inspect = saved;
    }
  });
});

describe('filters', () => {
  it('reference net: 16 + 32 filters, (Cout, Cin, KH, KW) from (KH, KW, Cin, Cout), each normalised by its own min and max', () => {
    const model = buildModel(REFERENCE_SPEC, { seed: 4 });
    const { layers } = filterTiles(model);
    expect(layers.map((l) => [l.label, l.mode, l.cout, l.cin, l.kh, l.kw])).toEqual([['conv2d #1', 'channels', 16, 1, 3, 3], ['conv2d #3', 'channels', 32, 16, 3, 3]]);
    const l = layers[1]!;
    const w = model.layers[2]!.params[0]!.value;
    // filter 5, input channel 7, tap (2, 1)
    expect(l.weights[((5 * 16 + 7) * 3 + 2) * 3 + 1]).toBe(w[((2 * 3 + 1) * 16 + 7) * 32 + 5]);
    for (let k = 0; k < l.cout; k++) {
      const tile = Array.from(l.tiles.subarray(k * 144, (k + 1) * 144));
      expect(Math.min(...tile)).toBe(0);
      expect(Math.max(...tile)).toBe(255);
      const filter = Array.from(l.weights.subarray(k * 144, (k + 1) * 144));
      expect(l.min[k]).toBe(Math.min(...filter));
      expect(l.max[k]).toBe(Math.max(...filter));
    }
  });

  it('a first conv layer over RGB is drawn as colour tiles', () => {
    const spec: ModelSpec = { inputShape: [8, 8, 3], layers: [{ type: 'conv2d', filters: 4, kernelSize: 3 }, { type: 'conv2d', filters: 2, kernelSize: 3 }, { type: 'flatten' }, { type: 'dense', units: 2 }] };
    expect(filterTiles(buildModel(spec)).layers.map((l) => l.mode)).toEqual(['rgb', 'channels']);
  });
});

describe('saliency', () => {
  it('|∂z_class/∂x| per pixel equals central differences of the class logit (float64 reference net)', () => {
    const model = new Model<Float64Array>(REFERENCE_SPEC, { seed: 6, dtype: 'float64' });
    for (const p of model.parameters()) if (p.name.endsWith('bias')) p.value.fill(0.01);
    const x = Float64Array.from(image(1));
    const s = saliency(model, x);
    const logit = (xs: Float64Array) => model.forward(xs, 1, false)[s.classIndex]!;
    expect(s.predicted).toBe(Array.from(model.forward(x, 1, false)).indexOf(Math.max(...model.forward(x, 1, false))));
    const h = 1e-5;
    // the brightest pixel of the map and a few others
    const brightest = Array.from(s.map).reduce((best, v, i, a) => (v > a[best]! ? i : best), 0);
    const picks = [brightest, 300, 406, 512];
    for (const p of picks) {
      const v = x[p]!;
      x[p] = v + h;
      const plus = logit(x);
      x[p] = v - h;
      const minus = logit(x);
      x[p] = v;
      expect(s.map[p]).toBeCloseTo(Math.abs((plus - minus) / (2 * h)), 5);
    }
    expect(s.max).toBeGreaterThan(0);
  });

  it('of another class than the predicted one, when asked', () => {
    const model = buildModel(REFERENCE_SPEC, { seed: 6 });
    const a = saliency(model, image(2));
    const other = (a.predicted + 1) % 10;
    const b = saliency(model, image(2), other);
    expect(b.classIndex).toBe(other);
    expect(Array.from(b.map)).not.toEqual(Array.from(a.map));
    expect(() => saliency(model, image(2), 10)).toThrow(/class 10 is not one of the model's 10 classes/);
  });
});

describe('gradient check on demand', () => {
  it('a trained-like reference net on 3 real images: every layer\'s error is small; the report names each parameter', () => {
    const model = buildModel(REFERENCE_SPEC, { seed: 8 });
    for (const p of model.parameters()) if (p.name.endsWith('bias')) for (let i = 0; i < p.value.length; i++) p.value[i] = 0.02 * Math.sin(i + 1);
    const x = Float32Array.from(test.images.subarray(0, 3 * 784), (v) => v / 255);
    const r = gradientCheck(REFERENCE_SPEC, model.values, x, test.labels.subarray(0, 3), 3, { entriesPerParameter: 12 });
    expect(r.layers.map((l) => [l.label, l.parameters.map((p) => p.name)])).toEqual([
      ['conv2d #1', ['conv2d1.weight', 'conv2d1.bias']], ['maxpool2d #2', []], ['conv2d #3', ['conv2d3.weight', 'conv2d3.bias']],
      ['maxpool2d #4', []], ['flatten #5', []], ['dense #6', ['dense6.weight', 'dense6.bias']],
    ]);
    for (const l of r.layers) if (l.maxRelError !== null) expect(l.maxRelError, l.label).toBeLessThan(1e-5);
    // an input pixel can sit where two equal conv outputs tie for a pool's maximum (the images'
    // black background): one entry may show that kink, the typical entry may not
    expect(r.input.medianRelError).toBeLessThan(1e-7);
    expect(r.layers[0]!.parameters[0]!.checked).toBe(12);
    expect(r.layers[0]!.parameters[1]!.checked).toBe(12);
    expect(r.layers[5]!.parameters[0]!.total).toBe(8000);
    // 12 entries of each parameter but dense6.bias (all 10 of it), and 12 of the input
    expect(r.evaluations).toBe(2 * (12 * 5 + 10 + 12));
    expect(r.loss).toBeCloseTo(model.evaluate(x, test.labels.subarray(0, 3), 3).loss, 5);
  });

  it('a wrong kernel is caught: conv dW off by 1% → the conv layers\' errors ≫ 1e-5, the dense layer\'s stay small', () => {
    const wrong: Kernels = {
      ...referenceKernels,
      conv2dBackward(s, x, w, dout, dw, db, dx) {
        const before = Float64Array.from(dw);
        referenceKernels.conv2dBackward(s, x, w, dout, dw, db, dx);
        for (let i = 0; i < dw.length; i++) dw[i] = before[i]! + (dw[i]! - before[i]!) * 1.01;
      },
    };
    const model = buildModel(REFERENCE_SPEC, { seed: 8 });
    const x = Float32Array.from(test.images.subarray(0, 2 * 784), (v) => v / 255);
    const r = gradientCheck(REFERENCE_SPEC, model.values, x, test.labels.subarray(0, 2), 2, { entriesPerParameter: 8, kernels: wrong });
    expect(r.layers[0]!.parameters[0]!.maxRelError).toBeGreaterThan(1e-3);
    expect(r.layers[2]!.parameters[0]!.maxRelError).toBeGreaterThan(1e-3);
    expect(r.layers[5]!.maxRelError).toBeLessThan(1e-5);
  });
});

describe('the step-through on a whole model with dropout', () => {
  it('dropout is the identity in inference mode and says so', () => {
    const spec: ModelSpec = { inputShape: [28, 28, 1], layers: [...REFERENCE_SPEC.layers.slice(0, 5), { type: 'dropout', rate: 0.5 }, { type: 'dense', units: 10 }] };
    const model = buildModel(spec, { seed: 1 });
    const s = stepThrough(model, image(0), test.labels[0]!);
    expect(s.layers[5]!.forward).toEqual({ kind: 'identity', note: expect.stringContaining('dropout is off outside training') });
    const engine = buildModel(spec, { seed: 1 });
    expect(s.loss).toBe(engine.lossAndGradients(image(0), [test.labels[0]!], 1, { training: false }).loss);
  });
});
