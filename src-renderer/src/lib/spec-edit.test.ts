import { describe, expect, it } from 'vitest';
import { LAYER_TYPES } from '../../../src-engine/layers/registry.js';
import type { ModelSpec } from '../../../src-engine/spec.js';
import { defaultLayer, describeLayer, inferForBuilder, LAYER_CHOICES, LAYER_TITLES } from './spec-edit.js';

describe('the builder palette', () => {
  it('offers every layer type the engine registers, each with a title', () => {
    expect(LAYER_CHOICES.map((c) => c.type).sort()).toEqual([...LAYER_TYPES].sort());
    for (const type of LAYER_TYPES) expect(LAYER_TITLES[type]).toBeTruthy();
  });

  it("inserts each type with defaults the engine accepts, described in the engine's words", () => {
    for (const type of LAYER_TYPES) {
      const layer = defaultLayer(type);
      expect(layer.type).toBe(type);
      // conv → the new layer → flatten → dense (a dense layer after the flatten)
      const layers = type === 'dense' ? [defaultLayer('conv2d'), { type: 'flatten' as const }, layer] : [defaultLayer('conv2d'), layer, { type: 'flatten' as const }];
      const spec: ModelSpec = { inputShape: [28, 28, 1], layers: [...layers, { type: 'dense', units: 10 }] };
      const built = inferForBuilder(spec, 10);
      expect(built.error, type).toBeNull();
      expect(describeLayer(layer)).not.toBe('');
    }
  });
});
