/**
 * Every conv layer's filters as image tiles. Each filter is normalised on its own (its smallest
 * weight black, its largest white) and its scale — that minimum and maximum — goes with it. A first
 * layer on an RGB image is drawn as one colour tile per filter; every other layer (and a first
 * layer on a gray image) as one gray tile per input channel.
 */
import type { Model } from '../model.js';
import type { FloatArray } from '../tensor.js';
import { inspectedLayers, siteOf, unsupported } from './probe.js';

export interface FilterTiles {
  index: number;
  label: string;
  kh: number;
  kw: number;
  cin: number;
  cout: number;
  /** 'rgb': the first layer over 3 channels, one colour tile per filter; 'channels': a tile per input channel. */
  mode: 'rgb' | 'channels';
  /** Per filter (Cout): its weights' minimum and maximum, the scale of its tiles. */
  min: number[];
  max: number[];
  /** (Cout, Cin, KH, KW) in 0..255, each filter normalised by its own min and max. */
  tiles: Uint8Array;
  /** The weights themselves, (Cout, Cin, KH, KW), for showing a tap's value. */
  weights: Float32Array;
  bias: Float32Array;
}

export function filterTiles(model: Model<FloatArray>): { layers: FilterTiles[]; unsupported: { index: number; label: string; reason: string }[] } {
  const layers: FilterTiles[] = [];
  const skipped: { index: number; label: string; reason: string }[] = [];
  let first = true;
  for (const l of inspectedLayers(model)) {
    if (!l.inspector) {
      if (model.layers[l.index]!.params.length > 0) skipped.push({ index: l.index, label: l.label, reason: unsupported(l.label, l.type) });
      first = false;
      continue;
    }
    const bank = l.inspector.filters?.(model.spec.layers[l.index]! as never, siteOf(model, l.index), model.layers[l.index]!.params);
    if (!bank) {
      if (model.layers[l.index]!.params.length > 0) first = false;
      continue;
    }
    const { kh, kw, cin, cout, weight } = bank;
    const weights = new Float32Array(cout * cin * kh * kw);
    const tiles = new Uint8Array(weights.length);
    const min = new Array<number>(cout).fill(Infinity);
    const max = new Array<number>(cout).fill(-Infinity);
    // (KH, KW, Cin, Cout) → (Cout, Cin, KH, KW)
    for (let u = 0; u < kh; u++) for (let v = 0; v < kw; v++) for (let c = 0; c < cin; c++) for (let k = 0; k < cout; k++) {
      const value = weight[((u * kw + v) * cin + c) * cout + k]!;
      weights[((k * cin + c) * kh + u) * kw + v] = value;
      if (value < min[k]!) min[k] = value;
      if (value > max[k]!) max[k] = value;
    }
    const per = cin * kh * kw;
    for (let k = 0; k < cout; k++) {
      const span = max[k]! - min[k]!;
      for (let i = k * per; i < (k + 1) * per; i++) tiles[i] = span > 0 ? Math.round(((weights[i]! - min[k]!) / span) * 255) : 128;
    }
    layers.push({
      index: l.index, label: l.label, kh, kw, cin, cout, mode: first && cin === 3 ? 'rgb' : 'channels', min, max, tiles, weights,
      bias: Float32Array.from(bank.bias),
    });
    first = false;
  }
  return { layers, unsupported: skipped };
}
