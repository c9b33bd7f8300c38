/**
 * Where on the input image an output unit looks: each layer's axis windows (its inspector's
 * receptiveField) composed from the unit's layer down to the image. Separable, so a unit's region is
 * its row range × its column range.
 */
import { layerDefinition } from '../layers/registry.js';
import { inferShapesOrThrow, layerSite } from '../shapes.js';
import type { ModelSpec } from '../spec.js';
import type { AxisWindow } from './types.js';

export type Range = [lo: number, hi: number];

/** Inclusive image rows and columns that unit range (rows, cols) of layer `index`'s output reads;
 *  'whole' when a layer on the way reads everything; null when a layer on the way has no inspector. */
export function imageRegion(spec: ModelSpec, index: number, rows: Range, cols: Range): { rows: Range; cols: Range } | 'whole' | null {
  const shapes = inferShapesOrThrow(spec);
  let y = rows, x = cols;
  for (let i = index; i >= 0; i--) {
    const layer = spec.layers[i]!;
    const inspect = layerDefinition(layer).inspect;
    if (!inspect) return null;
    const site = layerSite(shapes, i);
    const field = inspect.receptiveField(layer as never, site);
    if (field === 'whole') return 'whole';
    const [h, w] = site.inputShape;
    y = through(field.y, y, h);
    x = through(field.x, x, w);
  }
  return { rows: y, cols: x };
}

function through(a: AxisWindow, [lo, hi]: Range, size: number): Range {
  return [Math.max(0, lo * a.stride + a.offset), Math.min(size - 1, hi * a.stride + a.offset + a.size - 1)];
}

/** For each output row and each output column of layer `index`, the image range it reads. */
export function receptiveFieldTable(spec: ModelSpec, index: number): { rows: Range[]; cols: Range[] } | 'whole' | null {
  const [oh, ow] = inferShapesOrThrow(spec).layers[index]!.outputShape;
  const rows: Range[] = [];
  const cols: Range[] = [];
  for (let oy = 0; oy < oh; oy++) {
    const r = imageRegion(spec, index, [oy, oy], [0, 0]);
    if (r === null || r === 'whole') return r;
    rows.push(r.rows);
  }
  for (let ox = 0; ox < ow; ox++) {
    const r = imageRegion(spec, index, [0, 0], [ox, ox]);
    if (r === null || r === 'whole') return r;
    cols.push(r.cols);
  }
  return { rows, cols };
}
