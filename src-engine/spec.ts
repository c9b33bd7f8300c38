/**
 * The ModelSpec: the one description of a network that the builder edits, SQLite stores, IPC
 * carries, the CLI reads and the engine builds from. Plain JSON, no functions. Each layer type's
 * behaviour lives in its module under layers/ (see layers/registry.ts).
 */
export type Pair = number | [number, number];

/** What follows a conv or dense layer's affine map. `leakyRelu` takes the layer's `alpha`. */
export type Activation = 'relu' | 'leakyRelu' | 'tanh' | 'sigmoid' | 'linear';

export interface Conv2dSpec {
  type: 'conv2d';
  filters: number;
  kernelSize: Pair;
  /** Default 1. */
  stride?: Pair;
  /** 'valid' (default, as the seed) or 'same' (TensorFlow rule, odd pixel at bottom/right). */
  padding?: 'valid' | 'same';
  /** Default 'relu', as the seed. */
  activation?: Activation;
  /** leakyRelu's slope for negative inputs; default 0.01 (PyTorch's and Keras's). */
  alpha?: number;
}

export interface MaxPool2dSpec {
  type: 'maxpool2d';
  poolSize: Pair;
  /** Default = poolSize. */
  stride?: Pair;
}

export interface FlattenSpec {
  type: 'flatten';
}

export interface DenseSpec {
  type: 'dense';
  units: number;
  /** Default: 'softmax' for the last layer, 'relu' elsewhere. Softmax only as the last layer. */
  activation?: Activation | 'softmax';
  /** leakyRelu's slope for negative inputs; default 0.01. */
  alpha?: number;
}

export interface DropoutSpec {
  type: 'dropout';
  /** Fraction dropped in training, in [0, 1). Inverted dropout: nothing changes in predict. */
  rate: number;
}

/** Batch normalization over the channels (after a conv) or the features (after a dense layer),
 *  PyTorch's conventions: batch statistics with the biased variance in training, the running ones
 *  in predict/evaluation, running = (1 − momentum)·running + momentum·batch (unbiased variance). */
export interface BatchNormSpec {
  type: 'batchnorm';
  /** Default 0.1. */
  momentum?: number;
  /** Default 1e-5. */
  epsilon?: number;
}

export interface AvgPool2dSpec {
  type: 'avgpool2d';
  poolSize: Pair;
  /** Default = poolSize. */
  stride?: Pair;
  /** 'valid' (default: leftover rows/columns dropped) or 'same' (TensorFlow rule; the mean is over
   *  the window's cells inside the input, padding not counted). */
  padding?: 'valid' | 'same';
}

/** The mean of each channel over the whole image: (H, W, C) → (1, 1, C), flat, so a dense layer
 *  may follow without a flatten. */
export interface GlobalAvgPool2dSpec {
  type: 'globalavgpool2d';
}

export type LayerSpec = Conv2dSpec | MaxPool2dSpec | AvgPool2dSpec | GlobalAvgPool2dSpec | BatchNormSpec | FlattenSpec | DenseSpec | DropoutSpec;
export type LayerType = LayerSpec['type'];

export interface ModelSpec {
  /** Per-image [H, W, C]. */
  inputShape: [number, number, number];
  layers: LayerSpec[];
}

export function pair(p: Pair): [number, number] {
  return typeof p === 'number' ? [p, p] : [p[0], p[1]];
}

/** TensorFlow/Keras 'same' padding: total = max((ceil(H/s) − 1)·s + k − H, 0), odd pixel at the end. */
export function samePadding(size: number, k: number, s: number): [before: number, after: number] {
  const total = Math.max((Math.ceil(size / s) - 1) * s + k - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Canonical JSON (sorted keys) so equal specs hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
  if (value && typeof value === 'object') {
    const keys = Object.keys(value as object).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson((value as Record<string, unknown>)[k])).join(',') + '}';
  }
  return JSON.stringify(value);
}

/** 64-bit FNV-1a of the canonical JSON, as 16 hex digits. */
export function specHash(spec: ModelSpec): string {
  const text = canonicalJson(spec);
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * prime) & mask;
  }
  return h.toString(16).padStart(16, '0');
}
