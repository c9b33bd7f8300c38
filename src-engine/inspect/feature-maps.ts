/**
 * Feature maps of one image: the output of every layer whose inspector draws maps (conv, pooling),
 * with the range of its values and, per output row and column, the image rows and columns it reads
 * (so a click on a unit can light up its receptive field). Layers whose type has no inspector and
 * whose output is spatial are listed as not supported.
 */
import { softmax } from '../kernels/activations.js';
import type { Model } from '../model.js';
import { allocFloat, type FloatArray, type Shape3 } from '../tensor.js';
import { inspectedLayers, recorded, unsupported } from './probe.js';
import { receptiveFieldTable, type Range } from './receptive-field.js';

export interface FeatureMap {
  index: number;
  label: string;
  type: string;
  shape: Shape3;
  /** (H, W, C) of one image, in the model's dtype. */
  values: FloatArray;
  min: number;
  max: number;
  /** Per output row / column: the image rows / columns it reads; null when a layer below has no inspector. */
  receptiveField: { rows: Range[]; cols: Range[] } | null;
}

export interface FeatureMaps {
  maps: FeatureMap[];
  /** The model's class probabilities for the image. */
  probabilities: FloatArray;
  /** Layers with a spatial output that cannot be shown, and why. */
  unsupported: { index: number; label: string; reason: string }[];
}

/** x: one (H, W, C) image in the model's dtype; inference mode (dropout off). */
export function featureMaps(model: Model<FloatArray>, x: FloatArray): FeatureMaps {
  const { result: logits, records } = recorded(model, () => model.forward(x, 1, false).slice());
  const probabilities = allocFloat(model.dtype, model.classes);
  softmax(1, model.classes, logits, probabilities);
  const maps: FeatureMap[] = [];
  const skipped: FeatureMaps['unsupported'] = [];
  for (const l of inspectedLayers(model)) {
    const spatial = l.outShape[0] > 1 || l.outShape[1] > 1;
    if (!l.inspector) {
      if (spatial) skipped.push({ index: l.index, label: l.label, reason: unsupported(l.label, l.type) });
      continue;
    }
    if (!l.inspector.featureMaps) continue;
    const values = records[l.index]!.output!;
    let min = Infinity, max = -Infinity;
    for (let i = 0; i < values.length; i++) {
      if (values[i]! < min) min = values[i]!;
      if (values[i]! > max) max = values[i]!;
    }
    const table = receptiveFieldTable(model.spec, l.index);
    maps.push({ index: l.index, label: l.label, type: l.type, shape: l.outShape, values, min, max, receptiveField: table === 'whole' ? null : table });
  }
  return { maps, probabilities, unsupported: skipped };
}
