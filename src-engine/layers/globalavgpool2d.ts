/** globalavgpool2d: each channel's mean over the image, (H, W, C) → (1, 1, C) — flat, so a dense
 *  layer may follow directly. The arithmetic is average pooling with the window (H, W). */
import type { GlobalAvgPool2dSpec } from '../spec.js';
import { AvgPool2d } from './avgpool2d.js';
import type { LayerDefinition } from './layer.js';

const wholeImage = ([h, w]: readonly [number, number, number]) =>
  ({ ph: h, pw: w, sh: 1, sw: 1, padTop: 0, padBottom: 0, padLeft: 0, padRight: 0, oh: 1, ow: 1 });

export const globalavgpool2dLayer: LayerDefinition<GlobalAvgPool2dSpec> = {
  type: 'globalavgpool2d',
  infer: (_spec, { inputShape }) => ({ outputShape: [1, 1, inputShape[2]], params: 0, macs: 0 }),
  build: (_spec, { label, inputShape }, _params, ctx) => new AvgPool2d(label, wholeImage(inputShape), inputShape, ctx),
  describe: () => 'global avgpool',
  inSummary: true,
  onnxInput: 'image',
  onnx(_spec, _site, { input, name }) {
    const output = name('globalaveragepool');
    return { nodes: [{ opType: 'GlobalAveragePool', inputs: [input], outputs: [output], attributes: {} }], initializers: [], output };
  },
};
