/**
 * The gradient check on demand: a model's weights (a snapshot's) copied into a float64 build of
 * the same spec, its backward pass compared with central differences of its loss on a few real
 * samples, layer by layer, in inference mode (dropout off). Per parameter a seeded pick of entries
 * is checked, and the input gradient too.
 *
 *   numeric = (L(w + h) − L(w − h)) / 2h,   relative error = |analytic − numeric| / max(|analytic| + |numeric|, 1e-7)
 *
 * h = 1e-5 keeps float64 round-off near 1e-9; a ReLU kink or a max switch inside ±h shows up as a
 * large error on that entry alone, so each parameter reports its median as well as its maximum.
 */
import type { Kernels } from '../kernels/types.js';
import { Model } from '../model.js';
import { Rng } from '../rng.js';
import type { ModelSpec } from '../spec.js';

export interface ParameterCheck {
  name: string;
  /** Entries checked (all of them when there are few). */
  checked: number;
  total: number;
  maxRelError: number;
  medianRelError: number;
}

export interface LayerCheck {
  index: number;
  label: string;
  parameters: ParameterCheck[];
  /** The layer's largest error over its parameters; null for a layer without parameters. */
  maxRelError: number | null;
}

export interface GradientCheckReport {
  samples: number;
  h: number;
  loss: number;
  layers: LayerCheck[];
  input: ParameterCheck;
  /** Loss evaluations made (two per entry). */
  evaluations: number;
}

export interface GradientCheckOptions {
  /** Entries per parameter (and of the input). Default 16. */
  entriesPerParameter?: number;
  h?: number;
  seed?: number;
  /** Default the reference loops (the oracle). */
  kernels?: Kernels;
  /** Called after each parameter; a thrown error stops the check (cancellation). */
  onProgress?: (done: number, total: number) => void;
}

export const relativeError = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(a) + Math.abs(b), 1e-7);

/**
 * Checks the gradient of `spec` with these values (the model's buffer: parameters, then any
 * statistics) on n labelled samples x (n × H·W·C, pixel values as the model sees them).
 */
export function gradientCheck(spec: ModelSpec, values: ArrayLike<number>, x: ArrayLike<number>, labels: ArrayLike<number>, n: number,
  options: GradientCheckOptions = {}): GradientCheckReport {
  const model = new Model<Float64Array>(spec, { dtype: 'float64', kernels: options.kernels });
  if (values.length !== model.values.length) throw new RangeError(`the model needs ${model.values.length} values, got ${values.length}`);
  for (let i = 0; i < values.length; i++) model.values[i] = values[i]!;
  const input = Float64Array.from({ length: n * model.inputSize }, (_, i) => x[i]!);
  const y = Array.from({ length: n }, (_, i) => labels[i]!);
  const h = options.h ?? 1e-5;
  const per = options.entriesPerParameter ?? 16;
  const rng = new Rng(options.seed ?? 7);
  const lossAt = () => model.lossAndGradients(input, y, n, { training: false, inputGradient: false }).loss;
  const base = model.lossAndGradients(input, y, n, { training: false });
  const grads = Float64Array.from(model.grads);
  const inputGrad = Float64Array.from(base.inputGradient!);
  let evaluations = 0;

  const check = (name: string, target: Float64Array, analytic: (i: number) => number): ParameterCheck => {
    const total = target.length;
    const picks = total > per ? Array.from({ length: per }, () => rng.int(total)) : Array.from({ length: total }, (_, i) => i);
    const errors = picks.map((i) => {
      const v = target[i]!;
      target[i] = v + h;
      const plus = lossAt();
      target[i] = v - h;
      const minus = lossAt();
      target[i] = v;
      evaluations += 2;
      return relativeError(analytic(i), (plus - minus) / (2 * h));
    });
    const sorted = [...errors].sort((a, b) => a - b);
    return { name, checked: picks.length, total, maxRelError: sorted[sorted.length - 1] ?? 0, medianRelError: sorted[Math.floor(sorted.length / 2)] ?? 0 };
  };

  // a parameter's place in the gradient buffer: params are views in buffer order
  const offsets = new Map<Float64Array, number>();
  let offset = 0;
  for (const p of model.parameters()) {
    offsets.set(p.value, offset);
    offset += p.value.length;
  }
  const totalParams = model.parameters().length;
  let done = 0;
  const layers: LayerCheck[] = model.layers.map((layer, index) => {
    const parameters = layer.params.map((p) => {
      const start = offsets.get(p.value as Float64Array)!;
      const result = check(p.name, p.value as Float64Array, (i) => grads[start + i]!);
      options.onProgress?.(++done, totalParams + 1);
      return result;
    });
    return {
      index, label: model.shapes.layers[index]!.label, parameters,
      maxRelError: parameters.length ? Math.max(...parameters.map((p) => p.maxRelError)) : null,
    };
  });
  const inputCheck = check('input', input, (i) => inputGrad[i]!);
  options.onProgress?.(totalParams + 1, totalParams + 1);
  return { samples: n, h, loss: base.loss, layers, input: inputCheck, evaluations };
}
