import { afterAll, describe, expect, it } from 'vitest';
import { maxpool2dBackward, maxpool2dForward } from '../kernels/maxpool2d.js';
import { referenceKernels } from '../kernels/reference.js';
import type { Kernels } from '../kernels/types.js';
import type { LayerSpec, ModelSpec } from '../spec.js';
import { gradCheck, type GradCheckOptions } from './gradcheck.js';

const head = (units = 3): LayerSpec[] => [{ type: 'flatten' }, { type: 'dense', units, activation: 'softmax' }];
const net = (inputShape: [number, number, number], layers: LayerSpec[]): ModelSpec => ({ inputShape, layers: [...layers, ...head()] });

// Central differences in float64 with h = 1e-5 give ~1e-8 agreement on smooth paths; a ReLU kink or
// a max switch inside ±h would show up as a large error, so the bound is 1e-6.
const BOUND = 1e-6;

const cases: Array<[string, ModelSpec, number, GradCheckOptions?]> = [
  ['conv2d 2×6×6×1, k3 s1 valid relu', net([6, 6, 1], [{ type: 'conv2d', filters: 2, kernelSize: 3 }]), 2],
  ['conv2d 2×7×5×3, k3 s2 same relu (multi-channel, non-square input)', net([7, 5, 3], [{ type: 'conv2d', filters: 4, kernelSize: 3, stride: 2, padding: 'same' }]), 2],
  ['conv2d 3×8×6×2, k[3,2] s[2,1] valid linear (non-square kernel and stride)', net([8, 6, 2], [{ type: 'conv2d', filters: 3, kernelSize: [3, 2], stride: [2, 1], activation: 'linear' }]), 3],
  ['conv2d 2×5×5×2, k4 s1 same (even kernel: odd padding at bottom/right)', net([5, 5, 2], [{ type: 'conv2d', filters: 2, kernelSize: 4, padding: 'same' }]), 2],
  ['conv2d 2×9×9×1, k3 s3 same', net([9, 9, 1], [{ type: 'conv2d', filters: 2, kernelSize: 3, stride: 3, padding: 'same' }]), 2],
  ['maxpool2d 2×7×7×2 after linear conv, pool 3 s2 (overlapping windows)', net([7, 7, 2], [{ type: 'conv2d', filters: 2, kernelSize: 1, activation: 'linear' }, { type: 'maxpool2d', poolSize: 3, stride: 2 }]), 2],
  ['maxpool2d 2×7×6×1, pool [2,3] (leftover row dropped)', net([7, 6, 1], [{ type: 'conv2d', filters: 2, kernelSize: 1, activation: 'linear' }, { type: 'maxpool2d', poolSize: [2, 3] }]), 2],
  ['dense 3×1×1×12 → relu 8 → linear 5 → softmax 3', { inputShape: [1, 1, 12], layers: [{ type: 'dense', units: 8, activation: 'relu' }, { type: 'dense', units: 5, activation: 'linear' }, { type: 'dense', units: 3 }] }, 3],
  ['reference-like 2×12×12×1: conv4 k3 → pool2 → conv8 k3 → pool2 → dense', net([12, 12, 1], [
    { type: 'conv2d', filters: 4, kernelSize: 3 }, { type: 'maxpool2d', poolSize: 2 },
    { type: 'conv2d', filters: 8, kernelSize: 3 }, { type: 'maxpool2d', poolSize: 2 }]), 2],
  ['whole model 2×10×8×3: same s2 conv → overlapping pool → valid conv → dense relu → softmax', {
    inputShape: [10, 8, 3], layers: [
      { type: 'conv2d', filters: 4, kernelSize: [3, 2], stride: 2, padding: 'same' },
      { type: 'maxpool2d', poolSize: 2, stride: 1 },
      { type: 'conv2d', filters: 5, kernelSize: 2, stride: [1, 2] },
      { type: 'flatten' }, { type: 'dense', units: 6, activation: 'relu' }, { type: 'dense', units: 4 }] }, 2],
  // activations
  ['conv2d 2×6×5×2, k3 leakyRelu α 0.2', net([6, 5, 2], [{ type: 'conv2d', filters: 3, kernelSize: 3, activation: 'leakyRelu', alpha: 0.2 }]), 2],
  ['conv2d 2×6×5×2, k3 s2 same tanh', net([6, 5, 2], [{ type: 'conv2d', filters: 3, kernelSize: 3, stride: 2, padding: 'same', activation: 'tanh' }]), 2],
  ['conv2d 2×5×5×1, k2 sigmoid', net([5, 5, 1], [{ type: 'conv2d', filters: 3, kernelSize: 2, activation: 'sigmoid' }]), 2],
  ['dense 3×1×1×7 → leakyRelu 6 (α 0.01) → tanh 5 → sigmoid 4 → softmax 3', { inputShape: [1, 1, 7], layers: [
    { type: 'dense', units: 6, activation: 'leakyRelu' }, { type: 'dense', units: 5, activation: 'tanh' },
    { type: 'dense', units: 4, activation: 'sigmoid' }, { type: 'dense', units: 3 }] }, 3],
  // pooling
  ['avgpool2d 2×7×6×2, pool 2 valid (leftover row dropped)', net([7, 6, 2], [{ type: 'avgpool2d', poolSize: 2 }]), 2],
  ['avgpool2d 2×7×7×2, pool 3 s2 valid (overlapping windows)', net([7, 7, 2], [{ type: 'avgpool2d', poolSize: 3, stride: 2 }]), 2],
  ['avgpool2d 2×7×5×3, pool [3,2] s2 same (odd padding bottom/right, partial windows)', net([7, 5, 3], [{ type: 'avgpool2d', poolSize: [3, 2], stride: 2, padding: 'same' }]), 2],
  ['globalavgpool2d 2×5×4×3 after a linear conv, straight into dense', { inputShape: [5, 4, 3], layers: [
    { type: 'conv2d', filters: 4, kernelSize: 2, activation: 'linear' }, { type: 'globalavgpool2d' }, { type: 'dense', units: 3 }] }, 2],
  // batch norm, training mode (batch statistics) and inference mode (running statistics)
  ['batchnorm after conv 4×5×5×2, training: batch statistics over N·H·W', net([5, 5, 2], [
    { type: 'conv2d', filters: 3, kernelSize: 2, activation: 'linear' }, { type: 'batchnorm' }]), 4, { training: true }],
  ['batchnorm after conv 3×5×5×2, inference: running statistics', net([5, 5, 2], [
    { type: 'conv2d', filters: 3, kernelSize: 2, activation: 'linear' }, { type: 'batchnorm', epsilon: 1e-3 }]), 3],
  ['batchnorm after dense 5×1×1×6 → bn → tanh dense, training', { inputShape: [1, 1, 6], layers: [
    { type: 'dense', units: 5, activation: 'linear' }, { type: 'batchnorm' }, { type: 'dense', units: 4, activation: 'tanh' }, { type: 'dense', units: 3 }] }, 5, { training: true }],
  ['whole model 3×8×7×2, training: conv relu → bn → avgpool same → conv leakyRelu → bn → global avgpool → dense sigmoid → bn → softmax, label smoothing 0.1', {
    inputShape: [8, 7, 2], layers: [
      { type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same' }, { type: 'batchnorm' },
      { type: 'avgpool2d', poolSize: 2, padding: 'same' },
      { type: 'conv2d', filters: 5, kernelSize: 2, activation: 'leakyRelu', alpha: 0.1 }, { type: 'batchnorm', momentum: 0.3 },
      { type: 'globalavgpool2d' },
      { type: 'dense', units: 6, activation: 'sigmoid' }, { type: 'batchnorm' },
      { type: 'dense', units: 4 }] }, 3, { training: true, labelSmoothing: 0.1 }],
  ['whole model 2×9×8×1, inference: conv tanh → maxpool → bn → conv relu s2 same → avgpool 2 → dense leakyRelu → softmax', {
    inputShape: [9, 8, 1], layers: [
      { type: 'conv2d', filters: 3, kernelSize: 2, activation: 'tanh' }, { type: 'maxpool2d', poolSize: 2 }, { type: 'batchnorm' },
      { type: 'conv2d', filters: 4, kernelSize: 3, stride: 2, padding: 'same' }, { type: 'avgpool2d', poolSize: 2 },
      { type: 'flatten' }, { type: 'dense', units: 5, activation: 'leakyRelu' }, { type: 'dense', units: 3 }] }, 2],
];

const measured: Array<Record<string, string | number>> = [];
afterAll(() => {
  if (measured.length) console.table(measured); // the README's gradient-check table comes from here
});

describe('numerical gradient checks (float64, central differences)', () => {
  for (const [name, spec, n, options] of cases) {
    it(`${name} → parameter and input grads match`, () => {
      const r = gradCheck(spec, n, { maxPerParam: 60, ...options });
      measured.push({ case: name, params: r.maxRelParams.toExponential(1), input: r.maxRelInput.toExponential(1), checked: r.checked });
      expect(r.checked).toBeGreaterThan(20);
      expect(r.maxRelParams).toBeLessThan(BOUND);
      expect(r.maxRelInput).toBeLessThan(BOUND);
    });
  }

  it('a wrong gradient is caught (the check can fail): conv dW off by 1% → error ≫ bound', () => {
    const spec = cases[1]![1];
    const wrong: Kernels = {
      ...referenceKernels,
      conv2dBackward(s, x, w, dout, dw, db, dx) {
        const before = Float64Array.from(dw);
        referenceKernels.conv2dBackward(s, x, w, dout, dw, db, dx);
        for (let i = 0; i < dw.length; i++) dw[i] = before[i]! + (dw[i]! - before[i]!) * 1.01;
      },
    };
    expect(gradCheck(spec, 2).maxRelParams).toBeLessThan(BOUND);
    expect(gradCheck(spec, 2, { kernels: wrong }).maxRelParams).toBeGreaterThan(1e-3);
  });
});

describe('maxpool2d ties', () => {
  it('1×2×2×1 window of equal values → the gradient goes to the first maximum (row-major)', () => {
    const s = { n: 1, h: 2, w: 2, c: 1, ph: 2, pw: 2, sh: 2, sw: 2, oh: 1, ow: 1 };
    const x = new Float32Array([5, 5, 5, 5]);
    const out = new Float32Array(1);
    const arg = new Int32Array(1);
    maxpool2dForward(s, x, out, arg);
    expect(out[0]).toBe(5);
    const dx = new Float32Array(4);
    maxpool2dBackward(s, new Float32Array([2.5]), arg, dx);
    expect(Array.from(dx)).toEqual([2.5, 0, 0, 0]);
  });

  it('1×3×3×2, pool 2 stride 1, ties across overlapping windows → each window picks its first max; shared cells accumulate', () => {
    // channel 0: all 1 (every window ties); channel 1: center is the unique max of all four windows
    const x = new Float32Array(18);
    for (let i = 0; i < 9; i++) { x[i * 2] = 1; x[i * 2 + 1] = i === 4 ? 9 : 0; }
    const s = { n: 1, h: 3, w: 3, c: 2, ph: 2, pw: 2, sh: 1, sw: 1, oh: 2, ow: 2 };
    const out = new Float32Array(8);
    const arg = new Int32Array(8);
    maxpool2dForward(s, x, out, arg);
    const dx = new Float32Array(18);
    maxpool2dBackward(s, new Float32Array([1, 10, 2, 20, 3, 30, 4, 40]), arg, dx);
    const ch0 = Array.from({ length: 9 }, (_, i) => dx[i * 2]);
    const ch1 = Array.from({ length: 9 }, (_, i) => dx[i * 2 + 1]);
    // windows start at (0,0),(0,1),(1,0),(1,1): their first cells are pixels 0,1,3,4
    expect(ch0).toEqual([1, 2, 0, 3, 4, 0, 0, 0, 0]);
    expect(ch1).toEqual([0, 0, 0, 0, 100, 0, 0, 0, 0]);
  });
});
