/** flatten: (N, H, W, C) → (N, H·W·C). NHWC is already channel-fastest, so both directions are free. */
import type { FlattenSpec } from '../spec.js';
import type { FloatArray, Shape3 } from '../tensor.js';
import type { Layer, LayerDefinition, Param } from './layer.js';

export class Flatten implements Layer {
  readonly outShape: Shape3;
  readonly params: Param[] = [];
  constructor(readonly label: string, readonly inShape: Shape3) {
    this.outShape = [1, 1, inShape[0] * inShape[1] * inShape[2]];
  }
  forward(x: FloatArray): FloatArray {
    return x;
  }
  backward(dout: FloatArray, _n: number, needInputGrad: boolean): FloatArray | null {
    return needInputGrad ? dout : null;
  }
}

export const flattenLayer: LayerDefinition<FlattenSpec> = {
  type: 'flatten',
  infer(_spec, { inputShape: [h, w, c] }) {
    return { outputShape: [1, 1, h * w * c], params: 0, macs: 0 };
  },
  build(_spec, { label, inputShape }) {
    return new Flatten(label, inputShape);
  },
  describe: () => 'flatten',
  inSummary: false,
  // asking for flat input is all it takes: the graph goes back to NHWC before its Flatten node, so
  // the order is the engine's H, W, C and the dense weights after it need no permutation
  onnxInput: 'flat',
  onnx: (_spec, _site, { input }) => ({ nodes: [], initializers: [], output: input }),
};
