/**
 * The nets `npm run bench` races, each with the optimizer it trains with: one place, read by the
 * engine's contender (as a ModelSpec) and by PyTorch's (torch_bench.py builds the same layers from
 * the same spec JSON, in PyTorch's own NCHW layout, so it runs at its native speed).
 */
import type { OptimizerConfig } from '../../src-engine/optimizers/optimizer.js';
import { referenceNet } from '../../src-engine/reference-net.js';
import type { ModelSpec } from '../../src-engine/spec.js';
import { findTemplate } from '../../src-main/service/templates.js';

export interface BenchNet {
  name: string;
  label: string;
  spec: ModelSpec;
  optimizer: OptimizerConfig;
}

const SHAPE: [number, number, number] = [28, 28, 1];
const STRONG = findTemplate('fashion-strong')!;

export const BENCH_NETS: readonly BenchNet[] = [
  {
    name: 'reference',
    label: 'reference (conv16 → pool → conv32 → pool → dense10), SGD',
    spec: referenceNet(SHAPE, 10),
    optimizer: { type: 'sgd', learningRate: 0.01, momentum: 0.9 },
  },
  {
    name: 'bigger',
    label: "conv32 'same' → pool → conv64 'same' → pool → dropout → dense128 → dropout → dense10, Adam",
    spec: {
      inputShape: SHAPE,
      layers: [
        { type: 'conv2d', filters: 32, kernelSize: 3, padding: 'same' },
        { type: 'maxpool2d', poolSize: 2 },
        { type: 'conv2d', filters: 64, kernelSize: 3, padding: 'same' },
        { type: 'maxpool2d', poolSize: 2 },
        { type: 'dropout', rate: 0.25 },
        { type: 'flatten' },
        { type: 'dense', units: 128, activation: 'relu' },
        { type: 'dropout', rate: 0.5 },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
    },
    optimizer: { type: 'adam', learningRate: 0.001 },
  },
  {
    name: 'fashion-strong',
    label: 'the fashion-strong template (batch norm, dropout), AdamW',
    spec: STRONG.build(SHAPE, 10),
    // the template's own optimizer; its schedule, warm-up and augmentation cost nothing per step
    optimizer: STRONG.hyperparameters!.optimizer as OptimizerConfig,
  },
];

export function benchNet(name: string): BenchNet {
  const net = BENCH_NETS.find((n) => n.name === name);
  if (!net) throw new Error(`no bench net ${JSON.stringify(name)}; nets: ${BENCH_NETS.map((n) => n.name).join(', ')}`);
  return net;
}
