import { describe, expect, it } from 'vitest';
import { inferShapes } from '../shapes.js';
import { samePadding, specHash, type ModelSpec } from '../spec.js';
import { buildModel } from '../model.js';
import { REFERENCE_SPEC } from './sample.js';

describe('inferShapes', () => {
  it('reference net 28×28×1 → per-layer shapes, parameters and multiply-adds', () => {
    const r = inferShapes(REFERENCE_SPEC);
    expect(r.ok).toBe(true);
    expect(r.layers.map((l) => l.outputShape)).toEqual([[26, 26, 16], [13, 13, 16], [11, 11, 32], [5, 5, 32], [1, 1, 800], [1, 1, 10]]);
    expect(r.layers.map((l) => l.params)).toEqual([160, 0, 4640, 0, 0, 8010]);
    expect(r.totalParams).toBe(12810);
    expect(r.layers[2]!.macs).toBe(11 * 11 * 32 * 3 * 3 * 16);
    expect(r.classes).toBe(10);
    expect(buildModel(REFERENCE_SPEC).values.length).toBe(12810);
  });

  it("'same' padding follows TensorFlow: total = max((ceil(H/s)−1)·s + k − H, 0), odd pixel at the end", () => {
    expect(samePadding(7, 3, 2)).toEqual([1, 1]);
    expect(samePadding(6, 3, 2)).toEqual([0, 1]);
    expect(samePadding(5, 4, 1)).toEqual([1, 2]);
    expect(samePadding(9, 3, 3)).toEqual([0, 0]);
    const r = inferShapes({ inputShape: [7, 6, 3], layers: [{ type: 'conv2d', filters: 2, kernelSize: 3, stride: 2, padding: 'same' }, { type: 'flatten' }, { type: 'dense', units: 2 }] });
    expect(r.layers[0]!.outputShape).toEqual([4, 3, 2]);
  });

  const bad: Array<[string, ModelSpec, RegExp, number | null]> = [
    ['kernel larger than its input', { inputShape: [8, 8, 1], layers: [{ type: 'conv2d', filters: 16, kernelSize: 3, stride: 2 }, { type: 'conv2d', filters: 16, kernelSize: 5 }, { type: 'flatten' }, { type: 'dense', units: 3 }] }, /^conv2d #2: kernel 5×5 does not fit input 3×3×16$/, 1],
    ['pool larger than its input', { inputShape: [3, 3, 2], layers: [{ type: 'maxpool2d', poolSize: 4 }, { type: 'flatten' }, { type: 'dense', units: 3 }] }, /^maxpool2d #1: pool 4×4 does not fit input 3×3×2$/, 0],
    ['dense on an image', { inputShape: [4, 4, 1], layers: [{ type: 'dense', units: 3 }] }, /dense #1: input 4×4×1 is not flat; add a flatten layer before it/, 0],
    ['softmax in the middle', { inputShape: [1, 1, 4], layers: [{ type: 'dense', units: 3, activation: 'softmax' }, { type: 'dense', units: 3 }] }, /dense #1: softmax is only allowed on the last layer/, 0],
    ['no classifier head', { inputShape: [4, 4, 1], layers: [{ type: 'conv2d', filters: 2, kernelSize: 3 }] }, /the last layer must be a dense layer with softmax activation/, 0],
    ['zero filters', { inputShape: [4, 4, 1], layers: [{ type: 'conv2d', filters: 0, kernelSize: 3 }, { type: 'flatten' }, { type: 'dense', units: 3 }] }, /conv2d #1: filters must be a positive integer, got 0/, 0],
    ['dropout rate 1', { inputShape: [1, 1, 4], layers: [{ type: 'dropout', rate: 1 }, { type: 'dense', units: 3 }] }, /dropout #1: rate must be in \[0, 1\), got 1/, 0],
    ['unknown layer type', { inputShape: [1, 1, 4], layers: [{ type: 'lstm' } as never, { type: 'dense', units: 3 }] }, /layer #1: unknown type "lstm"/, 0],
    ['bad input shape', { inputShape: [28, 28] as never, layers: [{ type: 'dense', units: 3 }] }, /inputShape must be \[height, width, channels\]/, null],
    ['no layers', { inputShape: [2, 2, 1], layers: [] }, /the model has no layers/, null],
  ];
  for (const [name, spec, message, layerIndex] of bad) {
    it(`${name} → error names the layer and the numbers`, () => {
      const r = inferShapes(spec);
      expect(r.ok).toBe(false);
      expect(r.error!.message).toMatch(message);
      expect(r.error!.layerIndex).toBe(layerIndex);
      if (layerIndex !== null) expect(r.layers.length).toBeGreaterThanOrEqual(layerIndex); // the layers before the error keep their shapes
      expect(() => buildModel(spec)).toThrow(message);
    });
  }

  it('a spec with an error still reports the shapes of the layers before it', () => {
    const r = inferShapes(bad[0]![1]);
    expect(r.layers.map((l) => l.outputShape)).toEqual([[3, 3, 16]]);
  });

  it('specHash is stable across key order and changes with the spec', () => {
    const a = specHash({ inputShape: [2, 2, 1], layers: [{ type: 'dense', units: 3, activation: 'softmax' }] });
    const b = specHash({ layers: [{ activation: 'softmax', units: 3, type: 'dense' }], inputShape: [2, 2, 1] } as ModelSpec);
    expect(a).toBe(b);
    expect(specHash(REFERENCE_SPEC)).not.toBe(a);
  });
});
