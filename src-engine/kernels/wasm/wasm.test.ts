/**
 * The fast (WebAssembly SIMD) kernels against the reference loops, on random shapes chosen to hit
 * every edge of the implicit GEMM: odd sizes, stride > 1, 'same' padding, non-square kernels,
 * C = 1 and 3, OC not a multiple of 4 (channel padding) or of 8 (the 4-wide tail), P = N·OH·OW not
 * a multiple of 4 (dummy positions), batch 1, K not a multiple of 8 (dummy taps). Then whole
 * models (loss and every gradient, and the PyTorch golden fixtures), and the committed artifact.
 *
 * Error measure, per tensor: max|fast − reference| / max(max|reference|, 1e-6), as golden.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { buildModel } from '../../model.js';
import { Rng } from '../../rng.js';
import { gradientError, relativeError } from '../../test/compare.js';
import { referenceNet } from '../../reference-net.js';
import { convGeometry } from '../../layers/conv2d.js';
import { poolGeometry } from '../../layers/maxpool2d.js';
import { avgPoolGeometry } from '../../layers/avgpool2d.js';
import type { ModelSpec } from '../../spec.js';
import { reluBackward, reluForward, type ActivationKind } from '../activations.js';
import { Adam } from '../../optimizers/adam.js';
import { referenceKernels as ref } from '../reference.js';
import type { AvgPoolShape, ConvShape, PoolShape } from '../types.js';
import { buildArtifact } from './build.js';
import { createWasmKernels, fastKernels, wasmSimdSupported, wasmVariants, winogradFits, winogradFitsInputGrad, winogradFitsWeightGrad } from './index.js';

const TOLERANCE = 1e-4;

const rng = new Rng(1234);
function random(len: number, zeroFraction = 0, from = rng): Float32Array {
  const a = new Float32Array(len);
  for (let i = 0; i < len; i++) a[i] = from.next() < zeroFraction ? 0 : from.next() * 2 - 1;
  return a;
}

interface ConvCase { n: number; h: number; w: number; c: number; oc: number; k: number | [number, number]; s?: number | [number, number]; padding?: 'valid' | 'same' }

function convShape(t: ConvCase): ConvShape {
  const g = convGeometry('conv2d', { kernelSize: t.k, stride: t.s ?? 1, padding: t.padding ?? 'valid' }, [t.h, t.w, t.c]);
  return { n: t.n, h: t.h, w: t.w, c: t.c, oc: t.oc, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, padTop: g.padTop, padLeft: g.padLeft, oh: g.oh, ow: g.ow };
}

const winogradLabel = (s: ConvShape) =>
  [winogradFits(s) ? 'forward' : '', winogradFitsWeightGrad(s) ? 'dweight' : '', winogradFitsInputGrad(s) ? 'dx' : ''].filter(Boolean).join(', ').replace(/^(.+)$/, ' (Winograd $1)');

const pairText = (p: number | [number, number]) => (typeof p === 'number' ? `${p}` : `${p[0]}×${p[1]}`);

const convCases: ConvCase[] = [
  { n: 4, h: 28, w: 28, c: 1, oc: 16, k: 3 },                          // the reference net's first conv
  { n: 4, h: 13, w: 13, c: 16, oc: 32, k: 3 },                         // and its second
  { n: 1, h: 7, w: 5, c: 3, oc: 6, k: 3, s: 2, padding: 'same' },      // batch 1, OC 6, odd sizes
  { n: 3, h: 9, w: 6, c: 3, oc: 5, k: [2, 3], s: [2, 1] },             // non-square kernel and stride
  { n: 2, h: 8, w: 8, c: 2, oc: 4, k: 4, padding: 'same' },            // even kernel, odd pixel bottom/right
  { n: 2, h: 11, w: 10, c: 5, oc: 12, k: [3, 1], s: 3, padding: 'same' }, // OC 12: one 8-block + the 4-tail
  { n: 1, h: 5, w: 5, c: 1, oc: 1, k: 5 },                             // 1×1 output, OC 1
  { n: 2, h: 9, w: 9, c: 4, oc: 3, k: 3, s: 2 },                       // leftover row/column dropped
  { n: 5, h: 6, w: 7, c: 7, oc: 9, k: [1, 2], s: [1, 3] },
  // the Winograd F(2×2, 3×3) forward (3×3, stride 1, C a multiple of 4, ≥ 8):
  { n: 3, h: 7, w: 9, c: 8, oc: 6, k: 3, padding: 'same' },            // odd output (edge tiles), OC padded
  { n: 1, h: 3, w: 3, c: 12, oc: 8, k: 3 },                            // one output: 3 of the tile's 4 skipped
  { n: 2, h: 6, w: 5, c: 8, oc: 13, k: 3 },                            // even OH, odd OW, OC 13
  { n: 6, h: 28, w: 28, c: 32, oc: 32, k: 3, padding: 'same' },        // several chunks of images, each pass
  // its backward passes (≥ 32 channels in and out): odd output, OC not a multiple of 8; even × odd,
  // C 34 (input gradient only, C padded to 36; the weight gradient direct)
  { n: 2, h: 7, w: 5, c: 32, oc: 36, k: 3, padding: 'same' },
  { n: 3, h: 6, w: 9, c: 34, oc: 32, k: 3 },
];

it('WebAssembly SIMD is available here (Node 20); the fastest variant is the default', () => {
  expect(wasmSimdSupported()).toBe(true);
  expect(wasmVariants()).toContain('simd');
  expect(fastKernels().name).toBe(`wasm-${wasmVariants()[0]}`);
});

for (const variant of wasmVariants()) describe(`fast kernels (${variant}) = reference kernels`, () => {

  for (const t of convCases) {
    const s = convShape(t);
    const label = `conv2d ${t.n}×${t.h}×${t.w}×${t.c}, k${pairText(t.k)} s${pairText(t.s ?? 1)} ${t.padding ?? 'valid'} → ${s.oh}×${s.ow}×${t.oc}${winogradLabel(s)}`;
    it(`${label}: forward, dweight, dbias, dx`, () => {
      const fast = createWasmKernels(variant);
      const x = random(s.n * s.h * s.w * s.c, 0.3); // some exact zeros, as after a ReLU
      const weight = random(s.kh * s.kw * s.c * s.oc);
      const bias = random(s.oc);
      const outLen = s.n * s.oh * s.ow * s.oc;
      const outRef = new Float32Array(outLen);
      const outFast = new Float32Array(outLen).fill(NaN);
      ref.conv2dForward(s, x, weight, bias, outRef);
      fast.conv2dForward(s, x, weight, bias, outFast);
      expect(relativeError(outFast, outRef), 'out').toBeLessThan(TOLERANCE);

      const dout = random(outLen);
      // gradients accumulate: start from non-zero values
      const dwRef = random(weight.length);
      const dbRef = random(s.oc);
      const dwFast = dwRef.slice();
      const dbFast = dbRef.slice();
      const dxRef = new Float32Array(x.length);
      const dxFast = new Float32Array(x.length).fill(NaN);
      ref.conv2dBackward(s, x, weight, dout, dwRef, dbRef, dxRef);
      fast.conv2dBackward(s, x, weight, dout, dwFast, dbFast, dxFast);
      expect(relativeError(dwFast, dwRef), 'dweight').toBeLessThan(TOLERANCE);
      expect(relativeError(dbFast, dbRef), 'dbias').toBeLessThan(TOLERANCE);
      expect(relativeError(dxFast, dxRef), 'dx').toBeLessThan(TOLERANCE);

      // the fused ReLU: forward max(0, ·), backward masked by the ReLU output
      const act = new Float32Array(outLen);
      reluForward(outRef, act, outLen);
      const actFast = new Float32Array(outLen);
      fast.conv2dForward(s, x, weight, bias, actFast, true);
      expect(relativeError(actFast, act), 'fused relu out').toBeLessThan(TOLERANCE);
      expect(actFast.every((v, i) => (act[i] === 0) === (v === 0)), 'the same zeros').toBe(true);
      const dz = new Float32Array(outLen);
      reluBackward(act, dout, dz, outLen);
      const [dwA, dbA, dxA] = [dwRef.slice(), dbRef.slice(), new Float32Array(x.length)];
      const [dwB, dbB, dxB] = [dwRef.slice(), dbRef.slice(), new Float32Array(x.length)];
      ref.conv2dBackward(s, x, weight, dz, dwA, dbA, dxA);
      fast.conv2dBackward(s, x, weight, dout, dwB, dbB, dxB, act);
      expect(relativeError(dwB, dwA), 'fused dweight').toBeLessThan(TOLERANCE);
      expect(relativeError(dbB, dbA), 'fused dbias').toBeLessThan(TOLERANCE);
      expect(relativeError(dxB, dxA), 'fused dx').toBeLessThan(TOLERANCE);
      expect(relativeError(dxB, dxRef), 'the mask matters').toBeGreaterThan(1e-2);

      // dx null: only the parameter gradients, and they are the same
      const dw2 = dwRef.slice();
      const db2 = dbRef.slice();
      fast.conv2dBackward(s, x, weight, dout, dw2, db2, null);
      ref.conv2dBackward(s, x, weight, dout, dwRef, dbRef, null);
      expect(relativeError(dw2, dwRef), 'dweight, second accumulation').toBeLessThan(TOLERANCE);
      expect(relativeError(db2, dbRef), 'dbias, second accumulation').toBeLessThan(TOLERANCE);
    });
  }

  for (const [n, inDim, outDim] of [[32, 800, 10], [1, 7, 3], [5, 33, 17], [3, 1, 8], [6, 3136, 128]] as const) {
    it(`dense ${n}×${inDim} → ${outDim}: forward, dweight, dbias, da`, () => {
      const fast = createWasmKernels(variant);
      const a = random(n * inDim, 0.3);
      const weight = random(inDim * outDim);
      const bias = random(outDim);
      const zRef = new Float32Array(n * outDim);
      const zFast = new Float32Array(n * outDim);
      ref.denseForward(n, inDim, outDim, a, weight, bias, zRef);
      fast.denseForward(n, inDim, outDim, a, weight, bias, zFast);
      expect(relativeError(zFast, zRef), 'z').toBeLessThan(TOLERANCE);
      const dz = random(n * outDim);
      const dwRef = random(weight.length);
      const dbRef = random(outDim);
      const dwFast = dwRef.slice();
      const dbFast = dbRef.slice();
      const daRef = new Float32Array(a.length);
      const daFast = new Float32Array(a.length);
      ref.denseBackward(n, inDim, outDim, a, weight, dz, dwRef, dbRef, daRef);
      fast.denseBackward(n, inDim, outDim, a, weight, dz, dwFast, dbFast, daFast);
      expect(relativeError(dwFast, dwRef), 'dweight').toBeLessThan(TOLERANCE);
      expect(relativeError(dbFast, dbRef), 'dbias').toBeLessThan(TOLERANCE);
      expect(relativeError(daFast, daRef), 'da').toBeLessThan(TOLERANCE);

      const act = new Float32Array(n * outDim);
      reluForward(zRef, act, act.length);
      const actFast = new Float32Array(n * outDim);
      fast.denseForward(n, inDim, outDim, a, weight, bias, actFast, true);
      expect(relativeError(actFast, act), 'fused relu z').toBeLessThan(TOLERANCE);
      const masked = new Float32Array(n * outDim);
      reluBackward(act, dz, masked, masked.length);
      const [dwA, dbA, daA] = [new Float32Array(weight.length), new Float32Array(outDim), new Float32Array(a.length)];
      const [dwB, dbB, daB] = [new Float32Array(weight.length), new Float32Array(outDim), new Float32Array(a.length)];
      ref.denseBackward(n, inDim, outDim, a, weight, masked, dwA, dbA, daA);
      fast.denseBackward(n, inDim, outDim, a, weight, dz, dwB, dbB, daB, act);
      expect(relativeError(dwB, dwA), 'fused dweight').toBeLessThan(TOLERANCE);
      expect(relativeError(dbB, dbA), 'fused dbias').toBeLessThan(TOLERANCE);
      expect(relativeError(daB, daA), 'fused da').toBeLessThan(TOLERANCE);
    });
  }

  const poolCases: [number, number, number, number, number | [number, number], (number | [number, number])?][] = [
    [4, 26, 26, 16, 2], [2, 11, 11, 32, 2], [3, 7, 5, 3, 3, 2], [1, 6, 9, 6, [2, 3], [1, 2]], [2, 5, 5, 1, 2, 1],
  ];
  for (const [n, h, w, c, pool, stride] of poolCases) {
    const g = poolGeometry('maxpool2d', { poolSize: pool, stride }, [h, w, c]);
    const s: PoolShape = { n, h, w, c, ...g };
    it(`maxpool2d ${n}×${h}×${w}×${c}, pool ${pairText(pool)} s${pairText(stride ?? pool)}: same maxima and argmax, ties to the first`, () => {
      const fast = createWasmKernels(variant);
      // values on a coarse grid so that windows hold ties
      const x = new Float32Array(n * h * w * c);
      for (let i = 0; i < x.length; i++) x[i] = rng.int(5) - 2;
      const outLen = n * g.oh * g.ow * c;
      const outRef = new Float32Array(outLen);
      const outFast = new Float32Array(outLen);
      const amRef = new Int32Array(outLen);
      const amFast = new Int32Array(outLen);
      ref.maxpool2dForward(s, x, outRef, amRef);
      fast.maxpool2dForward(s, x, outFast, amFast);
      expect(Array.from(outFast)).toEqual(Array.from(outRef));
      expect(Array.from(amFast)).toEqual(Array.from(amRef));
      const dout = random(outLen);
      const dxRef = new Float32Array(x.length);
      const dxFast = new Float32Array(x.length);
      ref.maxpool2dBackward(s, dout, amRef, dxRef);
      fast.maxpool2dBackward(s, dout, amFast, dxFast);
      expect(Array.from(dxFast)).toEqual(Array.from(dxRef));
    });
  }

  // conv + fused ReLU → max pool in one call each way: the reference net's two pairs (the second
  // drops a leftover row; both over two chunks of images, the second through Winograd), OC 6 and 5
  // (channels padded to 8) under overlapping windows, 'same' padding
  const convPoolCases: [ConvCase, number | [number, number], (number | [number, number])?][] = [
    [{ n: 13, h: 28, w: 28, c: 1, oc: 16, k: 3 }, 2],
    [{ n: 20, h: 13, w: 13, c: 16, oc: 32, k: 3 }, 2],
    [{ n: 2, h: 9, w: 8, c: 3, oc: 6, k: 3, padding: 'same' }, 3, 2],
    [{ n: 3, h: 7, w: 9, c: 2, oc: 5, k: [2, 3] }, [2, 3], [1, 2]],
  ];
  for (const [t, pool, stride] of convPoolCases) {
    const cs = convShape(t);
    const g = poolGeometry('maxpool2d', { poolSize: pool, stride }, [cs.oh, cs.ow, cs.oc]);
    const ps: PoolShape = { n: cs.n, h: cs.oh, w: cs.ow, c: cs.oc, ...g };
    it(`conv2d ${t.n}×${t.h}×${t.w}×${t.c} → ${cs.oh}×${cs.ow}×${cs.oc} + ReLU → maxpool ${pairText(pool)} s${pairText(stride ?? pool)}: fused forward and backward = the two layers', bit for bit`, () => {
      const fast = createWasmKernels(variant);
      const x = random(cs.n * cs.h * cs.w * cs.c, 0.3);
      const weight = random(cs.kh * cs.kw * cs.c * cs.oc);
      // every other channel biased far down, so that whole windows are ReLU'd to 0 (masked)
      const bias = random(cs.oc).map((v, o) => (o % 2 === 0 ? v - 4 : v));
      const convLen = cs.n * cs.oh * cs.ow * cs.oc;
      const act = new Float32Array(convLen);
      fast.conv2dForward(cs, x, weight, bias, act, true);
      const poolLen = cs.n * g.oh * g.ow * cs.oc;
      const pooled = new Float32Array(poolLen);
      const argmax = new Int32Array(poolLen);
      fast.maxpool2dForward(ps, act, pooled, argmax);
      expect(pooled.some((v) => v === 0) && pooled.some((v) => v > 0), 'some windows masked, some not').toBe(true);
      for (const withConvOut of [true, false]) {
        const convOut = withConvOut ? new Float32Array(convLen).fill(NaN) : null;
        const pooledF = new Float32Array(poolLen).fill(NaN);
        const argmaxF = new Int32Array(poolLen).fill(-1);
        fast.conv2dReluMaxpoolForward(cs, ps, x, weight, bias, convOut, pooledF, argmaxF);
        if (convOut) expect(Array.from(convOut), 'conv output').toEqual(Array.from(act));
        expect(Array.from(pooledF), 'pooled').toEqual(Array.from(pooled));
        expect(Array.from(argmaxF), 'argmax').toEqual(Array.from(argmax));
      }
      const dout = random(poolLen);
      const dwStart = random(weight.length);
      const dbStart = random(cs.oc);
      for (const withDx of [true, false]) {
        // the two calls the model made before
        const dpool = new Float32Array(convLen);
        fast.maxpool2dBackward(ps, dout, argmax, dpool);
        const [dwA, dbA, dxA] = [dwStart.slice(), dbStart.slice(), withDx ? new Float32Array(x.length) : null];
        fast.conv2dBackward(cs, x, weight, dpool, dwA, dbA, dxA, act);
        const [dwB, dbB, dxB] = [dwStart.slice(), dbStart.slice(), withDx ? new Float32Array(x.length).fill(NaN) : null];
        fast.conv2dReluMaxpoolBackward(cs, ps, x, weight, dout, argmax, pooled, dwB, dbB, dxB);
        expect(Array.from(dwB), 'dweight').toEqual(Array.from(dwA));
        expect(Array.from(dbB), 'dbias').toEqual(Array.from(dbA));
        if (withDx) expect(Array.from(dxB!), 'dx').toEqual(Array.from(dxA!));
        // and the reference loops, with the ReLU's backward between
        const dpoolRef = new Float32Array(convLen);
        ref.maxpool2dBackward(ps, dout, argmax, dpoolRef);
        const dz = new Float32Array(convLen);
        reluBackward(act, dpoolRef, dz, convLen);
        const [dwR, dbR, dxR] = [dwStart.slice(), dbStart.slice(), withDx ? new Float32Array(x.length) : null];
        ref.conv2dBackward(cs, x, weight, dz, dwR, dbR, dxR);
        expect(relativeError(dwB, dwR), 'dweight vs reference').toBeLessThan(TOLERANCE);
        expect(relativeError(dbB, dbR), 'dbias vs reference').toBeLessThan(TOLERANCE);
        if (withDx) expect(relativeError(dxB!, dxR!), 'dx vs reference').toBeLessThan(TOLERANCE);
      }
    });
  }

  // batch norm → max pool in one call each way: fashion-strong's first pair over several chunks of
  // images, an odd one with overlapping windows, C not a multiple of 4
  const bnPoolCases: [number, number, number, number, number | [number, number], (number | [number, number])?][] = [
    [12, 28, 28, 32, 2], [3, 7, 9, 5, 3, 2], [2, 6, 5, 6, [2, 3], [1, 2]],
  ];
  for (const [n, h, w, c, pool, stride] of bnPoolCases) {
    const g = poolGeometry('maxpool2d', { poolSize: pool, stride }, [h, w, c]);
    const ps: PoolShape = { n, h, w, c, ...g };
    it(`batch norm ${n}×${h}×${w}×${c} → maxpool ${pairText(pool)} s${pairText(stride ?? pool)}: fused affine + pool, backward sums and dx = the separate calls, bit for bit`, () => {
      const fast = createWasmKernels(variant);
      const rows = n * h * w;
      const x = random(rows * c);
      const [scale, shift, mean, a, b] = [random(c), random(c), random(c), random(c), random(c)];
      const y = new Float32Array(rows * c);
      fast.batchnormAffine(rows, c, x, scale, shift, y);
      const poolLen = n * g.oh * g.ow * c;
      const pooled = new Float32Array(poolLen), argmax = new Int32Array(poolLen);
      fast.maxpool2dForward(ps, y, pooled, argmax);
      const pooledF = new Float32Array(poolLen).fill(NaN), argmaxF = new Int32Array(poolLen).fill(-1);
      fast.batchnormAffineMaxpool(ps, x, scale, shift, pooledF, argmaxF);
      expect(Array.from(pooledF), 'pooled').toEqual(Array.from(pooled));
      expect(Array.from(argmaxF), 'argmax').toEqual(Array.from(argmax));

      const dout = random(poolLen);
      const dy = new Float32Array(rows * c);
      fast.maxpool2dBackward(ps, dout, argmax, dy);
      const [s1, s2, f1, f2] = [new Float64Array(c), new Float64Array(c), new Float64Array(c).fill(NaN), new Float64Array(c).fill(NaN)];
      fast.batchnormBackwardSums(rows, c, x, dy, mean, s1, s2);
      fast.batchnormBackwardSumsPooled(ps, x, dout, argmax, mean, f1, f2);
      expect(Array.from(f1), 'Σdy').toEqual(Array.from(s1));
      expect(Array.from(f2), 'Σdy·(x − mean)').toEqual(Array.from(s2));
      const dx = new Float32Array(rows * c), dxF = new Float32Array(rows * c).fill(NaN);
      fast.batchnormBackward(rows, c, x, dy, mean, a, b, scale, dx);
      fast.batchnormBackwardPooled(ps, x, dout, argmax, mean, a, b, scale, dxF);
      expect(Array.from(dxF), 'dx').toEqual(Array.from(dx));
      // and the reference loops
      const dyRef = new Float32Array(rows * c);
      ref.maxpool2dBackward(ps, dout, argmax, dyRef);
      const dxRef = new Float32Array(rows * c);
      ref.batchnormBackward(rows, c, x, dyRef, mean, a, b, scale, dxRef);
      expect(relativeError(dxF, dxRef), 'dx vs reference').toBeLessThan(TOLERANCE);
    });
  }

  // [n, h, w, c, pool, stride, padding]; the last is global average pooling's window
  const avgCases: [number, number, number, number, number | [number, number], number | [number, number] | undefined, 'valid' | 'same'][] = [
    [4, 28, 28, 32, 2, undefined, 'valid'], [2, 7, 5, 3, 3, 2, 'same'], [3, 9, 8, 6, [2, 3], [2, 1], 'valid'],
    [1, 5, 6, 5, 4, 3, 'same'], [2, 6, 7, 9, [6, 7], 1, 'valid'],
  ];
  for (const [n, h, w, c, pool, stride, padding] of avgCases) {
    const g = avgPoolGeometry('avgpool2d', { poolSize: pool, stride, padding }, [h, w, c]);
    const s: AvgPoolShape = { n, h, w, c, ...g };
    it(`avgpool2d ${n}×${h}×${w}×${c}, pool ${pairText(pool)} s${pairText(stride ?? pool)} ${padding} → ${g.oh}×${g.ow}: forward, dx`, () => {
      const fast = createWasmKernels(variant);
      const x = random(n * h * w * c);
      const outLen = n * g.oh * g.ow * c;
      const [outRef, outFast] = [new Float32Array(outLen), new Float32Array(outLen).fill(NaN)];
      ref.avgpool2dForward(s, x, outRef);
      fast.avgpool2dForward(s, x, outFast);
      expect(relativeError(outFast, outRef), 'out').toBeLessThan(TOLERANCE);
      const dout = random(outLen);
      const [dxRef, dxFast] = [new Float32Array(x.length), new Float32Array(x.length).fill(NaN)];
      ref.avgpool2dBackward(s, dout, dxRef);
      fast.avgpool2dBackward(s, dout, dxFast);
      expect(relativeError(dxFast, dxRef), 'dx').toBeLessThan(TOLERANCE);
    });
  }

  for (const kind of ['relu', 'leakyRelu', 'tanh', 'sigmoid'] as ActivationKind[]) {
    it(`${kind} over 1, 7 and 1,029 values (SIMD body and scalar tail): forward, and backward from the output`, () => {
      const fast = createWasmKernels(variant);
      for (const len of [1, 7, 1029]) {
        const z = random(len, 0.1);
        for (let i = 0; i < len; i++) z[i] = z[i]! * 6;
        const [aRef, aFast] = [new Float32Array(len), z.slice()];
        ref.activationForward(kind, 0.2, z, aRef, len);
        fast.activationForward(kind, 0.2, aFast, aFast, len); // in place, as the layers call it
        expect(relativeError(aFast, aRef), `${kind} forward`).toBeLessThan(1e-6);
        const da = random(len);
        const [dzRef, dzFast] = [new Float32Array(len), new Float32Array(len).fill(NaN)];
        ref.activationBackward(kind, 0.2, aRef, da, dzRef, len);
        fast.activationBackward(kind, 0.2, aRef, da, dzFast, len);
        // measured against the incoming gradient's scale: near saturation 1 − a² is small and its
        // float32 rounding (~2⁻²⁴ of 1) is large relative to it, whichever kernel computes it
        let worst = 0;
        for (let i = 0; i < len; i++) worst = Math.max(worst, Math.abs(dzFast[i]! - dzRef[i]!));
        expect(worst / Math.max(...Array.from(da, Math.abs)), `${kind} backward`).toBeLessThan(1e-6);
      }
    });
  }

  for (const [m, c] of [[4 * 28 * 28, 32], [7, 5], [3, 1], [61, 12], [2, 130]] as const) {
    it(`batch norm over ${m} rows × ${c} channels: the float64 sums bit for bit, affine, backward sums, dx`, () => {
      const fast = createWasmKernels(variant);
      const x = random(m * c);
      for (let i = 0; i < x.length; i++) x[i] = x[i]! * 3 + 5; // a large mean, as after a ReLU
      const mean = Float32Array.from({ length: c }, () => 5 + rng.next() * 0.1);
      const sums = (f: typeof ref) => {
        const [s, q, g, gx] = [new Float64Array(c), new Float64Array(c), new Float64Array(c), new Float64Array(c)];
        f.batchnormSums(m, c, x, s);
        f.batchnormSquares(m, c, x, mean, q);
        f.batchnormBackwardSums(m, c, x, dout, mean, g, gx);
        return [s, q, g, gx].map((a) => Array.from(a));
      };
      const dout = random(m * c);
      expect(sums(fast)).toEqual(sums(ref));
      const [scale, shift, a, b, k] = [random(c), random(c), random(c), random(c), random(c)];
      const [yRef, yFast] = [new Float32Array(m * c), new Float32Array(m * c).fill(NaN)];
      ref.batchnormAffine(m, c, x, scale, shift, yRef);
      fast.batchnormAffine(m, c, x, scale, shift, yFast);
      expect(relativeError(yFast, yRef), 'affine').toBeLessThan(1e-6);
      const [dxRef, dxFast] = [new Float32Array(m * c), new Float32Array(m * c).fill(NaN)];
      ref.batchnormBackward(m, c, x, dout, mean, a, b, k, dxRef);
      fast.batchnormBackward(m, c, x, dout, mean, a, b, k, dxFast);
      expect(relativeError(dxFast, dxRef), 'dx').toBeLessThan(1e-6);
    });
  }

  // the optimizer cases draw from a stream of their own, so the cases after them see the inputs they always had
  const adamRng = new Rng(99);
  for (const size of [1, 3, 4, 7, 1029]) {
    it(`Adam and AdamW over ${size} parameters: 10 steps bit for bit, moments included (SIMD body and scalar tail)`, () => {
      for (const type of ['adam', 'adamw'] as const) {
        const config = { type, learningRate: 0.01, weightDecay: 0.05 };
        const w0 = random(size, 0, adamRng);
        const [wRef, wFast] = [w0.slice(), w0.slice()];
        const optRef = new Adam(config, size, ref);
        const optFast = new Adam(config, size, createWasmKernels(variant));
        for (let step = 0; step < 10; step++) {
          const g = random(size, 0.1, adamRng); // exact zeros too, as a dead unit's gradient
          optRef.step(wRef, g, 0.01 * (1 - step / 20));
          optFast.step(wFast, g, 0.01 * (1 - step / 20));
        }
        expect(Array.from(wFast), `${type} weights`).toEqual(Array.from(wRef));
        expect(Array.from(optFast.buffers().m!), `${type} m`).toEqual(Array.from(optRef.buffers().m!));
        expect(Array.from(optFast.buffers().v!), `${type} v`).toEqual(Array.from(optRef.buffers().v!));
        expect(wRef).not.toEqual(w0);
      }
    });
  }

  it('Adam keeps its moments in place across steps: restored moments are the ones the next step reads', () => {
    const config = { type: 'adam' as const, learningRate: 0.01 };
    const [a, b] = [new Adam(config, 9, createWasmKernels(variant)), new Adam(config, 9, ref)];
    const [wa, wb] = [random(9, 0, adamRng), random(9, 0, adamRng)];
    wb.set(wa);
    for (const name of ['m', 'v'] as const) {
      const saved = random(9, 0, adamRng).map(Math.abs);
      a.buffers()[name]!.set(saved);
      b.buffers()[name]!.set(saved);
    }
    a.stepCount = b.stepCount = 5;
    const g = random(9, 0, adamRng);
    a.step(wa, g, 0.01);
    b.step(wb, g, 0.01);
    expect(Array.from(wa)).toEqual(Array.from(wb));
  });

  it('memory grows for a large call, the next small call reads fresh views; large forwards run in chunks of images', () => {
    const fast = createWasmKernels(variant);
    const small = convShape({ n: 1, h: 5, w: 5, c: 2, oc: 4, k: 3 });
    // 64 images of 28×28×3 → 28×28×6 'same': chunks of 11 images, the last one 9, with input and channel padding
    const large = convShape({ n: 64, h: 28, w: 28, c: 3, oc: 6, k: 3, padding: 'same' });
    for (const s of [small, large, small]) {
      const x = random(s.n * s.h * s.w * s.c);
      const weight = random(s.kh * s.kw * s.c * s.oc);
      const bias = random(s.oc);
      const a = new Float32Array(s.n * s.oh * s.ow * s.oc);
      const b = new Float32Array(a.length);
      ref.conv2dForward(s, x, weight, bias, a);
      fast.conv2dForward(s, x, weight, bias, b);
      expect(relativeError(b, a), 'forward').toBeLessThan(TOLERANCE);
      const [dw1, db1, dx1, dw2, db2, dx2] = [weight.length, s.oc, x.length, weight.length, s.oc, x.length].map((len) => new Float32Array(len));
      ref.conv2dBackward(s, x, weight, b, dw1, db1, dx1);
      fast.conv2dBackward(s, x, weight, b, dw2, db2, dx2);
      expect(relativeError(dw2, dw1), 'dweight').toBeLessThan(TOLERANCE);
      expect(relativeError(dx2, dx1), 'dx').toBeLessThan(TOLERANCE);
    }
    expect(fast.memoryBytes).toBeGreaterThan(64 * 28 * 28 * 3 * 4);

    // 40 images of 26×26×16 pooled: chunks of 8 images; argmax indexes the whole batch
    const g = poolGeometry('maxpool2d', { poolSize: 2 }, [26, 26, 16]);
    const s: PoolShape = { n: 40, h: 26, w: 26, c: 16, ...g };
    const x = random(40 * 26 * 26 * 16);
    const [o1, o2] = [new Float32Array(40 * g.oh * g.ow * 16), new Float32Array(40 * g.oh * g.ow * 16)];
    const [a1, a2] = [new Int32Array(o1.length), new Int32Array(o1.length)];
    ref.maxpool2dForward(s, x, o1, a1);
    fast.maxpool2dForward(s, x, o2, a2);
    expect(Array.from(o2)).toEqual(Array.from(o1));
    expect(Array.from(a2)).toEqual(Array.from(a1));
  });
});

// Node 20 runs relaxed SIMD only behind a V8 flag (Electron's Chromium and Node 22 by default), so
// there that variant is checked in a child process started with the flag; where it runs in-process,
// the variant loop above already covers it.
const relaxedInProcess = wasmVariants().includes('relaxed-simd');
if (relaxedInProcess) console.log('relaxed SIMD runs in this process: the child-process check is not needed');
it.runIf(!relaxedInProcess)('the relaxed-SIMD (FMA) variant = reference, in a child Node with --experimental-wasm-relaxed-simd', () => {
  const script = `
    const { createWasmKernels } = await import(${JSON.stringify(new URL('./index.ts', import.meta.url).href)});
    const { referenceKernels: ref } = await import(${JSON.stringify(new URL('../reference.ts', import.meta.url).href)});
    const { buildModel } = await import(${JSON.stringify(new URL('../../model.ts', import.meta.url).href)});
    const fast = createWasmKernels('relaxed-simd');
    let seed = 7;
    const rand = (n) => Float32Array.from({ length: n }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1);
    const err = (a, b) => { let d = 0, m = 0; for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); } return d / m; };
    let worst = 0;
    for (const s of [
      { n: 2, h: 13, w: 13, c: 16, oc: 32, kh: 3, kw: 3, sh: 1, sw: 1, padTop: 0, padLeft: 0, oh: 11, ow: 11 },
      { n: 1, h: 7, w: 5, c: 3, oc: 6, kh: 3, kw: 3, sh: 2, sw: 2, padTop: 1, padLeft: 1, oh: 4, ow: 3 },
    ]) {
      const x = rand(s.n * s.h * s.w * s.c), w = rand(s.kh * s.kw * s.c * s.oc), b = rand(s.oc), len = s.n * s.oh * s.ow * s.oc;
      const o1 = new Float32Array(len), o2 = new Float32Array(len), g = rand(len);
      ref.conv2dForward(s, x, w, b, o1); fast.conv2dForward(s, x, w, b, o2);
      const [dw1, db1, dx1, dw2, db2, dx2] = [w.length, s.oc, x.length, w.length, s.oc, x.length].map((n) => new Float32Array(n));
      ref.conv2dBackward(s, x, w, g, dw1, db1, dx1); fast.conv2dBackward(s, x, w, g, dw2, db2, dx2);
      worst = Math.max(worst, err(o2, o1), err(dw2, dw1), err(db2, db1), err(dx2, dx1));
    }
    const spec = { inputShape: [28, 28, 1], layers: [{ type: 'conv2d', filters: 16, kernelSize: 3 }, { type: 'maxpool2d', poolSize: 2 },
      { type: 'conv2d', filters: 32, kernelSize: 3 }, { type: 'maxpool2d', poolSize: 2 }, { type: 'flatten' }, { type: 'dense', units: 10 }] };
    // and every newer layer: batch norm (affine by fused multiply-add here), leaky ReLU, tanh, sigmoid, average pooling
    const grown = { inputShape: [28, 28, 1], layers: [{ type: 'conv2d', filters: 8, kernelSize: 3, activation: 'leakyRelu' }, { type: 'batchnorm' },
      { type: 'avgpool2d', poolSize: 2, padding: 'same' }, { type: 'conv2d', filters: 12, kernelSize: 3, activation: 'tanh' }, { type: 'globalavgpool2d' },
      { type: 'dense', units: 16, activation: 'sigmoid' }, { type: 'batchnorm' }, { type: 'dense', units: 10 }] };
    for (const s of [spec, grown]) {
      const a = buildModel(s, { seed: 1 }), m = buildModel(s, { seed: 1, kernels: fast });
      const x = rand(8 * 784).map(Math.abs), y = [0, 1, 2, 3, 4, 5, 6, 7];
      const la = a.lossAndGradients(x, y, 8).loss, lm = m.lossAndGradients(x, y, 8).loss;
      worst = Math.max(worst, Math.abs(la - lm) / la, err(m.grads.subarray(a.grads.length - 170), a.grads.subarray(a.grads.length - 170)), err(m.predict(x, 8), a.predict(x, 8)));
    }
    console.log(JSON.stringify({ name: fast.name, worst }));
  `;
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { name: string; worst: number };
  expect(out.name).toBe('wasm-relaxed-simd');
  expect(out.worst).toBeLessThan(TOLERANCE);
  expect(out.worst).toBeGreaterThan(0);
});

const REFERENCE_NET: ModelSpec = referenceNet();

const ODD_NET: ModelSpec = {
  inputShape: [11, 9, 3],
  layers: [
    { type: 'conv2d', filters: 6, kernelSize: [3, 2], stride: [2, 1], padding: 'same' },
    { type: 'conv2d', filters: 5, kernelSize: 3, activation: 'linear' },
    { type: 'maxpool2d', poolSize: 2, stride: 1 },
    { type: 'flatten' }, { type: 'dense', units: 7, activation: 'relu' }, { type: 'dense', units: 3 },
  ],
};

/** Every new layer and activation in one model. */
const GROWN_NET: ModelSpec = {
  inputShape: [13, 11, 1],
  layers: [
    { type: 'conv2d', filters: 6, kernelSize: 3, padding: 'same', activation: 'linear' },
    { type: 'batchnorm' },
    { type: 'conv2d', filters: 5, kernelSize: 3, activation: 'leakyRelu', alpha: 0.1 },
    { type: 'avgpool2d', poolSize: 3, stride: 2, padding: 'same' },
    { type: 'conv2d', filters: 7, kernelSize: 2, activation: 'tanh' },
    { type: 'batchnorm', momentum: 0.3 },
    { type: 'globalavgpool2d' },
    { type: 'dense', units: 9, activation: 'sigmoid' },
    { type: 'batchnorm' },
    { type: 'dense', units: 4 },
  ],
};

/** conv + ReLU → max pool and batch norm → max pool (fashion-strong's pattern), the pairs the fast set fuses. */
const POOLED_NET: ModelSpec = {
  inputShape: [20, 18, 1],
  layers: [
    { type: 'conv2d', filters: 6, kernelSize: 3, padding: 'same' },
    { type: 'batchnorm' },
    { type: 'maxpool2d', poolSize: 2 },
    { type: 'conv2d', filters: 8, kernelSize: 3 },
    { type: 'maxpool2d', poolSize: 2, stride: 1 },
    { type: 'conv2d', filters: 5, kernelSize: 2, activation: 'linear' },
    { type: 'batchnorm' },
    { type: 'maxpool2d', poolSize: 3, stride: 2 },
    { type: 'flatten' }, { type: 'dense', units: 4 },
  ],
};

describe('a model on the fast kernels = the same model on the reference kernels', () => {
  for (const [name, spec, n] of [['reference net 28×28×1, batch 32', REFERENCE_NET, 32], ['11×9×3 same/stride/linear/hidden dense, batch 3', ODD_NET, 3],
    ['13×11×1 batch norm / leakyRelu / tanh / sigmoid / avgpool same / global avgpool, batch 5', GROWN_NET, 5],
    ['20×18×1 conv → max pool and batch norm → max pool (fused pairs), batch 6', POOLED_NET, 6]] as const) {
    it(`${name}: loss, every gradient, the input gradient and predict`, () => {
      const slow = buildModel(spec, { seed: 7 });
      const fast = buildModel(spec, { seed: 7, kernels: fastKernels() });
      expect(Array.from(fast.values)).toEqual(Array.from(slow.values));
      // inputs of its own, whatever the cases above drew from the shared stream
      const x = random(n * slow.inputSize, 0, new Rng(2024));
      for (let i = 0; i < x.length; i++) x[i] = Math.abs(x[i]!);
      const labels = Array.from({ length: n }, (_, i) => i % slow.classes);
      const a = slow.lossAndGradients(x, labels, n, { inputGradient: true });
      const b = fast.lossAndGradients(x, labels, n, { inputGradient: true });
      expect(Math.abs(b.loss - a.loss) / a.loss).toBeLessThan(TOLERANCE);
      expect(b.correct).toBe(a.correct);
      for (const [i, p] of slow.parameters().entries()) {
        expect(gradientError(p.name, fast.parameters()[i]!.grad, p.grad, slow.parameters()[i - 1]?.grad, spec.layers), p.name).toBeLessThan(TOLERANCE);
      }
      expect(relativeError(b.inputGradient!, a.inputGradient!), 'input gradient').toBeLessThan(TOLERANCE);
      // the running statistics the training pass moved, then inference with them
      expect(relativeError(fast.values, slow.values), 'running statistics').toBeLessThan(TOLERANCE);
      expect(relativeError(fast.predict(x, n), slow.predict(x, n)), 'predict').toBeLessThan(TOLERANCE);
    });
  }

  it('conv + ReLU → max pool goes through the fused kernels both ways, with the unfused path\'s bits', () => {
    const counting = createWasmKernels();
    const fusedForward = vi.spyOn(counting, 'conv2dReluMaxpoolForward');
    const fused = vi.spyOn(counting, 'conv2dReluMaxpoolBackward');
    // a set without them: the model then runs the conv and the pool one by one
    const unfused = createWasmKernels();
    Object.defineProperty(unfused, 'conv2dReluMaxpoolForward', { value: undefined });
    Object.defineProperty(unfused, 'conv2dReluMaxpoolBackward', { value: undefined });
    const n = 8;
    const a = buildModel(REFERENCE_NET, { seed: 3, kernels: counting });
    const b = buildModel(REFERENCE_NET, { seed: 3, kernels: unfused });
    const x = random(n * a.inputSize, 0, new Rng(99));
    const labels = Array.from({ length: n }, (_, i) => i % a.classes);
    const ra = a.lossAndGradients(x, labels, n, { inputGradient: true });
    const rb = b.lossAndGradients(x, labels, n, { inputGradient: true });
    expect(fusedForward, 'both conv → pool pairs').toHaveBeenCalledTimes(2);
    expect(fused, 'both conv → pool pairs').toHaveBeenCalledTimes(2);
    expect(ra.loss).toBe(rb.loss);
    expect(Array.from(a.grads)).toEqual(Array.from(b.grads));
    expect(Array.from(ra.inputGradient!)).toEqual(Array.from(rb.inputGradient!));
    // inference too (predict's chunks), and the pool's output is its own buffer either way
    expect(Array.from(a.predict(x, n))).toEqual(Array.from(b.predict(x, n)));
    expect(fusedForward).toHaveBeenCalledTimes(4);
  });

  it('batch norm → max pool goes through the fused kernels both ways, with the unfused path\'s bits, running statistics too', () => {
    const counting = createWasmKernels();
    const calls = (['batchnormAffineMaxpool', 'batchnormBackwardSumsPooled', 'batchnormBackwardPooled', 'conv2dReluMaxpoolForward'] as const).map((m) => vi.spyOn(counting, m));
    const unfused = createWasmKernels();
    for (const m of ['conv2dReluMaxpoolForward', 'conv2dReluMaxpoolBackward', 'batchnormAffineMaxpool', 'batchnormBackwardSumsPooled', 'batchnormBackwardPooled']) {
      Object.defineProperty(unfused, m, { value: undefined });
    }
    const n = 6;
    const a = buildModel(POOLED_NET, { seed: 5, kernels: counting });
    const b = buildModel(POOLED_NET, { seed: 5, kernels: unfused });
    const x = random(n * a.inputSize, 0, new Rng(31));
    const labels = Array.from({ length: n }, (_, i) => i % a.classes);
    for (let step = 0; step < 2; step++) {
      const ra = a.lossAndGradients(x, labels, n, { inputGradient: true });
      const rb = b.lossAndGradients(x, labels, n, { inputGradient: true });
      expect(ra.loss).toBe(rb.loss);
      expect(Array.from(a.grads)).toEqual(Array.from(b.grads));
      expect(Array.from(ra.inputGradient!)).toEqual(Array.from(rb.inputGradient!));
      expect(Array.from(a.values), 'running statistics').toEqual(Array.from(b.values));
    }
    // both batch-norm pairs, forward and both backward calls, each step; the conv pair once a step
    expect(calls.map((c) => c.mock.calls.length)).toEqual([4, 4, 4, 2]);
    expect(Array.from(a.predict(x, n))).toEqual(Array.from(b.predict(x, n)));
    expect(calls[0]!.mock.calls.length, 'inference too').toBe(6);
  });

  it('the PyTorch golden fixtures hold on the fast kernels too (1e-4)', () => {
    const dir = new URL('../../test/fixtures/golden/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const file of files) {
      type Results = { probs: number[]; loss: number; grads: { name: string; value: number[] }[]; inputGradient: number[] };
      const f = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Results & {
        spec: ModelSpec; n: number; x: number[]; labels: number[]; params: { value: number[] }[]; statistics?: { value: number[] }[]; eval?: Results;
      };
      const x = Float32Array.from(f.x);
      // training mode always; evaluation mode (running statistics) where batch norm makes it differ
      const modes: ['train' | 'eval', Results][] = [['train', f], ...(f.eval ? [['eval', f.eval] as ['eval', Results]] : [])];
      for (const [mode, golden] of modes) {
        const model = buildModel(f.spec, { kernels: fastKernels() });
        model.parameters().forEach((p, i) => p.value.set(f.params[i]!.value));
        model.statistics().forEach((st, i) => st.value.set(f.statistics![i]!.value));
        const at = `${file} (${mode})`;
        if (mode === 'eval' || !model.hasBatchSums) expect(relativeError(model.predict(x, f.n), golden.probs), `${at} probs`).toBeLessThan(TOLERANCE);
        const r = model.lossAndGradients(x, f.labels, f.n, { inputGradient: true, training: mode === 'train' });
        expect(Math.abs(r.loss - golden.loss) / golden.loss, `${at} loss`).toBeLessThan(TOLERANCE);
        const params = model.parameters();
        params.forEach((p, i) => expect(gradientError(p.name, p.grad, golden.grads[i]!.value, params[i - 1]?.grad, f.spec.layers), `${at} ${p.name}`).toBeLessThan(TOLERANCE));
        expect(relativeError(r.inputGradient!, golden.inputGradient), `${at} input gradient`).toBeLessThan(TOLERANCE);
      }
    }
  });
});

describe('the committed artifact', () => {
  it('kernels.wasm.ts is what `npm run build:wasm` builds from assembly/kernels.ts', async () => {
    const committed = readFileSync(new URL('./kernels.wasm.ts', import.meta.url), 'utf8');
    const fresh = await buildArtifact();
    expect(fresh === committed, 'the artifact is stale: run `npm run build:wasm` and commit kernels.wasm.ts').toBe(true);
  });
});
