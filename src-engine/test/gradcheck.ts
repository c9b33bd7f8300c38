/** Central-difference gradient checks in float64, shared by the gradient-check tests. */
import { Model } from '../model.js';
import type { ModelSpec } from '../spec.js';
import { Rng } from '../rng.js';
import type { Kernels } from '../kernels/types.js';

export interface GradCheckResult {
  /** max over entries of |analytic − numeric| / max(|analytic| + |numeric|, FLOOR) */
  maxRelParams: number;
  maxRelInput: number;
  checked: number;
}

/** Central differences carry an absolute error near ε·|loss|/h ≈ 1e-11 here, so a gradient that is
 *  exactly zero (a bias before batch norm) or tiny (behind a leaky ReLU's slope) cannot be matched
 *  relatively: entries whose two values are both below FLOOR are measured against FLOOR, i.e. to
 *  1e-10 absolute under the 1e-6 bound. */
const FLOOR = 1e-4;
const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a) + Math.abs(b), FLOOR);

export interface GradCheckOptions {
  seed?: number;
  h?: number;
  maxPerParam?: number;
  x?: Float64Array;
  kernels?: Kernels;
  /** Training mode: batch norm over the batch (no dropout in such specs: it would draw). Default false. */
  training?: boolean;
  labelSmoothing?: number;
}

/** Checks every parameter (or up to `maxPerParam` entries of each, chosen by a seeded RNG) and the
 *  input gradient of the whole model, in float64. */
export function gradCheck(spec: ModelSpec, n: number, options: GradCheckOptions = {}): GradCheckResult {
  const rng = new Rng(options.seed ?? 7);
  const model = new Model<Float64Array>(spec, { seed: options.seed ?? 7, dtype: 'float64', kernels: options.kernels });
  // small random biases too, so ReLUs are not all at a kink; batch norm's scale away from 1 and its
  // running statistics away from (0, 1), so that a mixed-up scale/shift or mean/variance shows
  for (const p of model.parameters()) {
    if (p.name.endsWith('.bias')) for (let i = 0; i < p.value.length; i++) p.value[i] = (rng.next() - 0.5) * 0.2;
    if (p.name.startsWith('batchnorm') && p.name.endsWith('.weight')) for (let i = 0; i < p.value.length; i++) p.value[i] = 0.5 + rng.next();
  }
  for (const st of model.statistics()) {
    const mean = st.name.endsWith('.runningMean');
    for (let i = 0; i < st.value.length; i++) st.value[i] = mean ? rng.next() - 0.5 : 0.5 + rng.next();
  }
  const x = options.x ?? Float64Array.from({ length: n * model.inputSize }, () => rng.next() * 2 - 1);
  const labels = Array.from({ length: n }, () => rng.int(model.classes));
  // h = 1e-5: small enough to stay off ReLU kinks and max switches, large enough that float64
  // round-off stays near 1e-9 (at 1e-7 it reaches 1e-5 on input grads)
  const h = options.h ?? 1e-5;
  const training = options.training ?? false;
  const labelSmoothing = options.labelSmoothing;
  const loss = () => model.lossAndGradients(x, labels, n, { training, inputGradient: false, labelSmoothing }).loss;
  const base = model.lossAndGradients(x, labels, n, { training, labelSmoothing });
  const grads = Float64Array.from(model.grads);
  const inputGrad = Float64Array.from(base.inputGradient!);
  let maxRelParams = 0;
  let checked = 0;
  let offset = 0;
  for (const p of model.parameters()) {
    const count = p.value.length;
    const picks = options.maxPerParam && count > options.maxPerParam
      ? Array.from({ length: options.maxPerParam }, () => rng.int(count))
      : Array.from({ length: count }, (_, i) => i);
    for (const i of picks) {
      const v = p.value[i]!;
      p.value[i] = v + h;
      const lp = loss();
      p.value[i] = v - h;
      const lm = loss();
      p.value[i] = v;
      maxRelParams = Math.max(maxRelParams, relErr((lp - lm) / (2 * h), grads[offset + i]!));
      checked++;
    }
    offset += count;
  }
  let maxRelInput = 0;
  const inputPicks = options.maxPerParam && x.length > options.maxPerParam
    ? Array.from({ length: options.maxPerParam }, () => rng.int(x.length))
    : Array.from({ length: x.length }, (_, i) => i);
  for (const i of inputPicks) {
    const v = x[i]!;
    x[i] = v + h;
    const lp = loss();
    x[i] = v - h;
    const lm = loss();
    x[i] = v;
    maxRelInput = Math.max(maxRelInput, relErr((lp - lm) / (2 * h), inputGrad[i]!));
    checked++;
  }
  return { maxRelParams, maxRelInput, checked };
}
