/**
 * The gradient check on demand, as the inspection worker runs it: the snapshot's weights in a
 * float64 build of its spec (src-engine/inspect/gradient-check.ts), on the first images of the
 * run's dataset (its test split, else its training split), with the pass/fail the studio states.
 */
import { readTrainerState } from '../../src-engine/index.js';
import { gradientCheck, type ParameterCheck } from '../../src-engine/inspect/index.js';
import type { ParameterCheckRow } from '../contract/index.js';
import { readCache } from '../datasets/cache.js';
import type { InspectionJob, InspectionResults } from './protocol.js';

/**
 * In float64 a correct gradient's median entry agrees to about 1e-9; a wrong one is off by 1e-1 or
 * more. The largest may be off more than the median where an entry sits on a ReLU kink or a max
 * switch within ±h (or its gradient is below 1e-7, where the error's denominator is floored).
 */
export const GRADIENT_CHECK_TOLERANCE = { median: 1e-6, max: 1e-2 } as const;

const row = (p: ParameterCheck): ParameterCheckRow => ({
  ...p, passed: p.medianRelError <= GRADIENT_CHECK_TOLERANCE.median && p.maxRelError <= GRADIENT_CHECK_TOLERANCE.max,
});

export function gradientCheckResult(job: Extract<InspectionJob, { kind: 'gradientCheck' }>, onProgress: (done: number, total: number) => void): InspectionResults['gradientCheck'] {
  const started = performance.now();
  const { spec, weights } = readTrainerState(job.state);
  const cache = readCache(job.cacheFile);
  const split = cache.test && cache.test.n > 0 ? 'test' : 'train';
  const set = split === 'test' ? cache.test! : cache.train;
  const n = Math.min(job.samples, set.n);
  const size = job.shape[0] * job.shape[1] * job.shape[2];
  const x = Float64Array.from(set.images.subarray(0, n * size), (v) => v / 255);
  const labels = Array.from(set.labels.subarray(0, n));
  const r = gradientCheck(spec, weights, x, labels, n, { entriesPerParameter: job.entriesPerParameter, onProgress });
  const layers = r.layers.map((l) => {
    const parameters = l.parameters.map(row);
    return { index: l.index, label: l.label, parameters, maxRelError: l.maxRelError, passed: parameters.length ? parameters.every((p) => p.passed) : null };
  });
  return {
    tolerance: { ...GRADIENT_CHECK_TOLERANCE }, h: r.h, split, indices: Array.from({ length: n }, (_, i) => i), loss: r.loss, layers, input: r.input,
    passed: layers.every((l) => l.passed !== false), evaluations: r.evaluations, seconds: (performance.now() - started) / 1000,
  };
}
