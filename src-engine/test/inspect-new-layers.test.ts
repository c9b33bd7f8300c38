/**
 * Every layer type the registry knows has an inspector (a new type fails here by name until its
 * module brings one, or this list says why not), and batch norm, average pooling and global average
 * pooling are inspected with the engine's own numbers: feature maps equal to the layers' outputs,
 * receptive fields through the padding, the step-through's notes quoting the engine's values.
 */
import { describe, expect, it } from 'vitest';
import { featureMaps } from '../inspect/feature-maps.js';
import { filterTiles } from '../inspect/filters.js';
import { stepThrough } from '../inspect/step-through.js';
import { LAYER_TYPES, findLayerDefinition } from '../layers/registry.js';
import { buildModel } from '../model.js';
import type { ModelSpec } from '../spec.js';

const SPEC: ModelSpec = {
  inputShape: [9, 9, 1],
  layers: [
    { type: 'conv2d', filters: 3, kernelSize: 3 },
    { type: 'batchnorm' },
    { type: 'avgpool2d', poolSize: 2, padding: 'same' },
    { type: 'conv2d', filters: 2, kernelSize: 2 },
    { type: 'globalavgpool2d' },
    { type: 'dense', units: 4 },
  ],
};
const x = Float32Array.from({ length: 81 }, (_, i) => ((i * 37) % 23) / 23);

describe('inspection of every layer type', () => {
  it('the registry\'s types all have an inspector', () => {
    expect(LAYER_TYPES.filter((t) => !findLayerDefinition(t)!.inspect)).toEqual([]);
  });

  it('conv → batchnorm → avgpool same → conv → globalavgpool → dense: maps equal the layers\' outputs, none unsupported', () => {
    const model = buildModel(SPEC, { seed: 4 });
    const maps = featureMaps(model, x);
    expect(maps.unsupported).toEqual([]);
    expect(maps.maps.map((m) => [m.label, m.shape])).toEqual([['conv2d #1', [7, 7, 3]], ['avgpool2d #3', [4, 4, 3]], ['conv2d #4', [3, 3, 2]]]);
    let a: Float32Array = x;
    const outputs = model.layers.map((layer) => (a = layer.forward(a, 1, false).slice() as Float32Array));
    expect(Array.from(maps.maps[1]!.values)).toEqual(Array.from(outputs[2]!));
    // avgpool 2 s2 'same' on 7 rows pads 1 at the bottom: unit row 3 reads conv rows 6–7 → clamped to 6, image rows 6–8
    expect(maps.maps[1]!.receptiveField!.rows[3]).toEqual([6, 8]);
    expect(maps.maps[2]!.receptiveField!.rows[0]).toEqual([0, 5]);
    expect(filterTiles(model).unsupported).toEqual([]);
  });

  it('the step-through explains each new layer with the engine\'s values', () => {
    const model = buildModel(SPEC, { seed: 4 });
    const s = stepThrough(model, x, 2);
    expect(s.layers.every((l) => l.unit !== null && l.note === undefined)).toBe(true);
    const note = (i: number, which: 'forward' | 'backward') => {
      const d = s.layers[i]![which]!;
      expect(d.kind).toBe('identity');
      return (d as { note: string }).note;
    };
    const out = (i: number) => {
      const l = s.layers[i]!;
      let a: Float32Array = x;
      for (let k = 0; k <= i; k++) a = model.layers[k]!.forward(a, 1, false).slice() as Float32Array;
      return a[(l.unit![0] * l.outShape[1] + l.unit![1]) * l.outShape[2] + l.unit![2]]!;
    };
    expect(note(1, 'forward')).toContain(`y = γ·x̂ + β = ${out(1).toPrecision(6)}`);
    expect(note(2, 'forward')).toMatch(new RegExp(`cells inside the image\\): Σ = .*; the engine's output ${out(2).toPrecision(6).replace('.', '\\.')}$`));
    expect(note(4, 'forward')).toContain(`mean of channel ${s.layers[4]!.unit![2]} over all 3×3 positions`);
    expect(note(4, 'forward')).toContain(`the engine's output ${out(4).toPrecision(6)}`);
    // a 'same' window at the bottom edge counts only its cells inside: Σ / count is the engine's mean
    const m = /Σ = (\S+), Σ \/ (\d+) = (\S+); the engine's output (\S+)$/.exec(note(2, 'forward'))!;
    expect(Number(m[3])).toBeCloseTo(Number(m[4]), 5);
    expect(note(2, 'backward')).toMatch(/is shared equally: each of the \d cells gets/);
    expect(s.layers[4]!.region).toBe('whole');
  });
});
