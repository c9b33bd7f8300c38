/**
 * The PyTorch hand-off: a run's snapshot as a small, self-contained PyTorch project for machines
 * bigger than a desktop — model.py (the ModelSpec as an nn.Module with the studio's layout and init
 * semantics), train.py (the run's hyperparameters; DistributedDataParallel under torchrun), data.py
 * (the dataset's own files), the snapshot's weights, and verify.py, which checks PyTorch's loss and
 * gradients of a batch against the engine's. Training writes its weights back in the studio's model
 * format, which `cnn-studio import-model` turns into a run.
 */
import { encodeContainer, MODEL_MAGIC } from '../../../src-engine/serialize.js';
import { specHash, type ModelSpec } from '../../../src-engine/spec.js';
import type { Hyperparameters } from '../../contract/index.js';
import { checkedLayout } from '../layout.js';
import { DATA_PY } from './data-py.js';
import { modelPy } from './model-py.js';
import { STUDIO_PY } from './studio-py.js';
import { TORCHRUN_PY } from './torchrun-py.js';
import { TRAIN_PY } from './train-py.js';
import { VERIFY_PY } from './verify-py.js';

/** Where the dataset's own files are, resolved by the service when it exports. */
export type DatasetFiles =
  | { format: 'idx'; train: [images: string, labels: string][]; test: [images: string, labels: string][] }
  | { format: 'csv'; train: string[]; test: string[] }
  | { format: 'folder'; root: string };

export interface PytorchExportInput {
  spec: ModelSpec;
  /** The snapshot's values: parameters, then statistics. */
  weights: Float32Array;
  hyperparameters: Hyperparameters;
  dataset: { name: string; shape: [number, number, number]; classNames: string[]; trainCount: number; testCount: number; files: DatasetFiles };
  /** The run's validation images: indices into the training images, ascending. */
  validation: ArrayLike<number>;
  /** The engine's loss and every parameter gradient on training images `indices` (training mode,
   *  dropout off, the run's label smoothing), for verify.py. */
  verify: { indices: number[]; loss: number; gradients: Float32Array };
  provenance: Record<string, unknown>;
}

export interface ExportFile {
  name: string;
  bytes: Uint8Array;
}

const text = (s: string) => new TextEncoder().encode(s);
const json = (v: unknown) => text(JSON.stringify(v, null, 2) + '\n');

function readme(input: PytorchExportInput): string {
  const { hyperparameters: h, dataset: d, provenance } = input;
  return `# ${String(provenance.runName ?? 'CNN Studio run')} — PyTorch project

Exported by CNN Studio from run ${String(provenance.runId)} (snapshot ${String(provenance.snapshotId)}, epoch ${String(provenance.epoch)}), dataset "${d.name}" (${d.files.format}: ${d.shape.join('×')}, ${d.classNames.length} classes, ${d.trainCount} training + ${d.testCount} test images).

    python3 verify.py                                # PyTorch computes the studio's loss and gradients (≤ 1e-4)
    python3 train.py                                 # train on one machine
    torchrun --nproc_per_node 4 train.py             # 4 processes (DistributedDataParallel: gloo on CPU, nccl on GPUs)
    torchrun --nnodes 2 --nproc_per_node 8 --rdzv-endpoint HOST:29500 train.py   # a cluster
    python3 torchrun.py --nproc_per_node 4 train.py  # the same where torchrun is PyTorch 1.13 on Python 3.11 (Debian 12)
    cnn-studio import-model trained.cnnm --dataset "${d.name}"                   # back in the studio, as a run

- \`model.py\` — the network (\`Net\`), one module per layer named as the studio names it; \`LAYOUT\`
  maps each studio weight to its PyTorch tensor (conv weights (KH,KW,Cin,Cout) ↔ (Cout,Cin,KH,KW),
  dense (in,out) ↔ (out,in)); \`init_weights\` has the studio's init semantics.
- \`studio.py\` — the layers (TensorFlow 'same' padding, average pooling over the cells inside the
  image, H,W,C flatten order, batch norm over the whole global batch under DDP) and the model format.
- \`train.py\` — the run's hyperparameters (\`hyperparameters.json\`: ${h.optimizer.type}, lr ${h.optimizer.learningRate}, ${h.epochs} epochs, batch ${h.batchSize}, schedule ${h.schedule.type}${h.warmupEpochs ? ` after ${h.warmupEpochs} warm-up epochs` : ''}${h.labelSmoothing ? `, label smoothing ${h.labelSmoothing}` : ''}); starts from
  \`weights.cnnm\` (the snapshot; \`--from-scratch\` for the init), writes \`trained.cnnm\`. The batch size
  is global: N processes take batchSize/N images each. One JSON line per epoch; \`--help\` for options.
- \`data.py\` — reads the dataset's own files listed in \`dataset.json\` (\`--data-root DIR\` if they
  moved) and the run's validation split (\`split.json\`).

Needs Python 3 with PyTorch (1.13 or later) and NumPy; a folder dataset also needs Pillow.
The random streams (shuffling, dropout, augmentation) are PyTorch's, not the studio's: a run here
is the same recipe, not the same bits.
`;
}

/** The project's files, each at the top of the chosen folder. */
export function exportPytorchProject(input: PytorchExportInput): ExportFile[] {
  const layout = checkedLayout(input.spec, input.weights);
  if (input.verify.gradients.length !== layout.totalParams) {
    throw new Error(`verify gradients have ${input.verify.gradients.length} values, the spec ${layout.totalParams} parameters`);
  }
  const d = input.dataset;
  const weights = encodeContainer(MODEL_MAGIC, { spec: input.spec, specHash: specHash(input.spec), provenance: input.provenance }, { weights: input.weights });
  const gradients = input.verify.gradients;
  return [
    { name: 'README.md', bytes: text(readme(input)) },
    { name: 'model.py', bytes: text(modelPy(input.spec)) },
    { name: 'studio.py', bytes: text(STUDIO_PY) },
    { name: 'data.py', bytes: text(DATA_PY) },
    { name: 'train.py', bytes: text(TRAIN_PY) },
    { name: 'verify.py', bytes: text(VERIFY_PY) },
    { name: 'torchrun.py', bytes: text(TORCHRUN_PY) },
    { name: 'hyperparameters.json', bytes: json(input.hyperparameters) },
    { name: 'dataset.json', bytes: json({ name: d.name, format: d.files.format, files: d.files, shape: d.shape, classNames: d.classNames, trainCount: d.trainCount, testCount: d.testCount }) },
    { name: 'split.json', bytes: text(JSON.stringify({ validation: Array.from(input.validation) }) + '\n') },
    { name: 'weights.cnnm', bytes: weights },
    { name: 'verify.json', bytes: json({ indices: input.verify.indices, loss: input.verify.loss, labelSmoothing: input.hyperparameters.labelSmoothing }) },
    { name: 'verify.bin', bytes: new Uint8Array(gradients.buffer, gradients.byteOffset, gradients.byteLength).slice() },
  ];
}
