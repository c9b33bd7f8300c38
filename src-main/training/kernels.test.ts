/**
 * The fast-kernel fallback, for real: a child Node started without WebAssembly at all
 * (--no-expose-wasm: Node 20 has no flag that turns off only SIMD, and no WebAssembly is a
 * superset of "no SIMD") trains a 'fast' run through the job, data-parallel on 2 threads, and
 * evaluates it. It must complete on the reference loops, say so, and give the same weights and
 * evaluation, bit for bit, as the same run asked for with 'reference' in this process.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { referenceKernels } from '../../src-engine/kernels/reference.js';
import { resolveKernels } from '../../src-engine/kernels/resolve.js';
import { wasmSimdSupported } from '../../src-engine/kernels/wasm/index.js';
import { ReplicaModels } from '../../src-engine/parallel/replica.js';
import { parameterLayout } from '../../src-engine/parameters.js';
import { tempDir } from '../service/testing.js';
import { writeSampleCache } from './test/sample-cache.js';
import { SMALL_CONV, trainAndEvaluate, type JobsSummary } from './test/train-and-evaluate.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./test/train-and-evaluate.ts', import.meta.url));
const dir = tempDir();
afterAll(() => dir.remove());

it("resolveKernels: 'reference' is the readable loops; 'fast' is WebAssembly SIMD where this engine runs it", () => {
  expect(resolveKernels('reference')).toBe(referenceKernels);
  expect(wasmSimdSupported()).toBe(true); // this Node 20 has SIMD; the child below has none
  expect(resolveKernels('fast').name).toMatch(/^wasm-(relaxed-)?simd$/);
  expect(() => resolveKernels('turbo' as never)).toThrow(`kernels must be 'fast' or 'reference', got "turbo"`);
});

it('a replica told another kernel set than its own refuses, naming both', () => {
  const { totalParams, totalValues } = parameterLayout(SMALL_CONV);
  const layout = { threads: 2, params: totalParams, values: totalValues, sumLength: 0, maxBatch: 8, inputSize: 784, shardSize: 4 };
  expect(new ReplicaModels({ spec: SMALL_CONV, kernels: 'reference', layout }).model(0).kernels).toBe(referenceKernels);
  expect(() => new ReplicaModels({ spec: SMALL_CONV, kernels: 'wasm-other', layout }))
    .toThrow(`this thread's kernels are ${resolveKernels('fast').name}, the lead's wasm-other`);
});

it("without WebAssembly, a 'fast' run on 2 threads trains and evaluates on the reference kernels, the same bits as 'reference'", async () => {
  const cacheFile = writeSampleCache(dir.path, 200, 60);
  const child = spawnSync(process.execPath, ['--no-expose-wasm', '--import', 'tsx', SCRIPT, cacheFile, 'fast', '2'], { cwd: ROOT, encoding: 'utf8' });
  expect(child.status, child.stderr).toBe(0);
  const withoutWasm = JSON.parse(child.stdout) as JobsSummary;
  expect(withoutWasm).toMatchObject({ webAssembly: 'undefined', startedKernels: 'reference', ended: 'completed', failed: null, epochs: 2 });

  const reference = await trainAndEvaluate(cacheFile, 'reference', 2);
  expect(reference).toMatchObject({ webAssembly: 'object', startedKernels: 'reference', ended: 'completed', failed: null, epochs: 2 });
  expect(withoutWasm.weights).toBe(reference.weights);
  expect(withoutWasm.evaluated).toEqual(reference.evaluated);
  expect(reference.evaluated!.count).toBe(60);
});
