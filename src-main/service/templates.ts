/** Ready-made ModelSpecs for a dataset's shape and class count (the CLI's --model reference|mlp|…). */
import type { ModelSpec } from '../contract/index.js';
import { referenceNet } from '../../src-engine/reference-net.js';

export interface Template {
  name: string;
  description: string;
  build(shape: [number, number, number], classes: number): ModelSpec;
}

export const TEMPLATES: readonly Template[] = [
  {
    name: 'reference',
    description: 'conv 16 3×3 → maxpool 2 → conv 32 3×3 → maxpool 2 → flatten → dense (classes): the reference net',
    build: (shape, classes) => referenceNet(shape, classes),
  },
  {
    name: 'mlp',
    description: 'flatten → dense 32 relu → dense (classes): tiny and quick',
    build: (shape, classes) => ({
      inputShape: shape,
      layers: [
        { type: 'flatten' },
        { type: 'dense', units: 32, activation: 'relu' },
        { type: 'dense', units: classes, activation: 'softmax' },
      ],
    }),
  },
  {
    name: 'tiny-cnn',
    description: 'conv 4 3×3 stride 2 → flatten → dense (classes): a conv net small enough for quick tests',
    build: (shape, classes) => ({
      inputShape: shape,
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: 3, stride: 2, activation: 'relu' },
        { type: 'flatten' },
        { type: 'dense', units: classes, activation: 'softmax' },
      ],
    }),
  },
];

export function findTemplate(name: string): Template | undefined {
  return TEMPLATES.find((t) => t.name === name);
}
