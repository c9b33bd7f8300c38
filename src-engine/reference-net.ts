import type { ModelSpec } from './spec.js';

/** The reference network of the engine issue and of the benchmarks:
 *  H×W×C → conv 16 3×3 → maxpool 2 → conv 32 3×3 → maxpool 2 → flatten → dense (classes) softmax. */
export function referenceNet(inputShape: [number, number, number] = [28, 28, 1], classes = 10): ModelSpec {
  return {
    inputShape,
    layers: [
      { type: 'conv2d', filters: 16, kernelSize: 3 },
      { type: 'maxpool2d', poolSize: 2 },
      { type: 'conv2d', filters: 32, kernelSize: 3 },
      { type: 'maxpool2d', poolSize: 2 },
      { type: 'flatten' },
      { type: 'dense', units: classes, activation: 'softmax' },
    ],
  };
}
