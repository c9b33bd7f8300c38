/**
 * Watching a model work: every layer's input and output on the way forward, and what it was sent
 * and sent back on the way backward — copied as the model's own layers compute them, so whatever an
 * inspection shows is the engine's arithmetic, not a re-implementation of it.
 */
import type { Layer } from '../layers/layer.js';
import { layerDefinition } from '../layers/registry.js';
import type { Model } from '../model.js';
import { layerSite } from '../shapes.js';
import type { FloatArray, Shape3 } from '../tensor.js';
import type { LayerInspector } from './types.js';

/** What one layer saw during a recorded pass; copies, so later passes do not change them. */
export interface LayerRecord {
  input: FloatArray | null;
  output: FloatArray | null;
  /** dL/d(output), as backward was given it. */
  dout: FloatArray | null;
  /** dL/d(input), as backward returned it (null when it was not asked for). */
  dx: FloatArray | null;
}

const copy = (a: FloatArray): FloatArray => a.slice();

/**
 * Runs `pass` with every layer of the model recorded, then puts the layers back as they were. The
 * pass calls the model as usual (model.forward, model.lossAndGradients): the layers are the model's
 * own, only watched, each on its own (model.unfused).
 */
export function recorded<R>(model: Model<FloatArray>, pass: () => R): { result: R; records: LayerRecord[] } {
  const records: LayerRecord[] = model.layers.map(() => ({ input: null, output: null, dout: null, dx: null }));
  const watched = model.layers as (Layer & { forward: Layer['forward']; backward: Layer['backward'] })[];
  watched.forEach((layer, i) => {
    const { forward, backward } = Object.getPrototypeOf(layer) as Layer;
    layer.forward = (x, n, training) => {
      const out = forward.call(layer, x, n, training);
      records[i]!.input = copy(x);
      records[i]!.output = copy(out);
      return out;
    };
    layer.backward = (dout, n, needInputGrad) => {
      const dx = backward.call(layer, dout, n, needInputGrad);
      records[i]!.dout = copy(dout);
      records[i]!.dx = dx ? copy(dx) : null;
      return dx;
    };
  });
  try {
    return { result: model.unfused(pass), records };
  } finally {
    for (const layer of watched) {
      delete (layer as Partial<Layer>).forward;
      delete (layer as Partial<Layer>).backward;
    }
  }
}

/** A layer of a built model as the inspection tools see it: where it is, its shapes and its inspector (if its type has one). */
export interface InspectedLayer {
  index: number;
  label: string;
  type: string;
  inShape: Shape3;
  outShape: Shape3;
  inspector: LayerInspector | null;
}

export function inspectedLayers(model: Model<FloatArray>): InspectedLayer[] {
  return model.spec.layers.map((spec, index) => {
    const shape = model.shapes.layers[index]!;
    return {
      index, label: shape.label, type: spec.type, inShape: shape.inputShape, outShape: shape.outputShape,
      inspector: layerDefinition(spec).inspect ?? null,
    };
  });
}

/** The site the layer definition hooks are told about, for layer `index` of the model. */
export const siteOf = (model: Model<FloatArray>, index: number) => layerSite(model.shapes, index);

/** The words the tools use for a layer type without an inspector. */
export const unsupported = (label: string, type: string) => `${label}: ${type} layers have no inspection support yet, so their filters, feature maps, receptive field and step details are not shown`;
