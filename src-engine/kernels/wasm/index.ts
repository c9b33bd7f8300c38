/**
 * The fast kernel set: WebAssembly with 128-bit SIMD, built from assembly/kernels.ts. It implements
 * the same `Kernels` interface as the reference loops and is checked against them (wasm.test.ts).
 *
 * The callers' arrays live in JavaScript memory, so each call copies its inputs into the module's
 * linear memory, runs, and copies the results out; for the reference net that is a few percent of
 * a step (tools/bench measures it). The module's memory grows to the largest call seen and is then
 * reused, so a training loop allocates nothing here after its first batch.
 *
 * No node:* import: the bytes are embedded (kernels.wasm.ts) and compiled synchronously, so this
 * loads in Node, in worker threads and in the renderer.
 */
import type { FloatArray } from '../../tensor.js';
import type { ActivationKind } from '../activations.js';
import { adamStep } from '../adam.js';
import type { AdamCoefficients, AdamUpdate, AvgPoolShape, ConvShape, Kernels, PoolShape } from '../types.js';
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from './kernels.wasm.js';

type Ptr = number;

interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): Ptr;
  padChannels(src: Ptr, dst: Ptr, rows: number, c: number, cp: number): void;
  unpadChannels(src: Ptr, dst: Ptr, rows: number, c: number, cp: number): void;
  padInput(x: Ptr, n: number, h: number, w: number, c: number, hs: number, ws: number, padTop: number, padLeft: number, dst: Ptr): void;
  cropInput(src: Ptr, n: number, h: number, w: number, c: number, hs: number, ws: number, padTop: number, padLeft: number, dx: Ptr): void;
  positions(table: Ptr, n: number, oh: number, ow: number, sh: number, sw: number, hs: number, ws: number, c: number, pp: number): void;
  tapOffsets(taps: Ptr, kh: number, kw: number, c: number, ws: number, kp: number): void;
  transposeWeights(wgt: Ptr, k: number, oc: number, ocp: number, kp: number, wt: Ptr): void;
  convForward(xs: Ptr, table: Ptr, pp: number, wgt: Ptr, bias: Ptr, out: Ptr, kh: number, kwc: number, rowBytes: number, ocp: number, relu: boolean): void;
  reluMask(g: Ptr, activated: Ptr, count: number): void;
  convWeightGrad(xs: Ptr, table: Ptr, pp: number, dout: Ptr, taps: Ptr, k: number, dw: Ptr, ocp: number): void;
  convBiasGrad(dout: Ptr, pp: number, ocp: number, db: Ptr): void;
  convInputGrad(dout: Ptr, table: Ptr, pp: number, wt: Ptr, taps: Ptr, kp: number, oc: number, ocp: number, dxs: Ptr, dxsBytes: number): void;
  denseInputGrad(dz: Ptr, n: number, w: Ptr, k: number, ocp: number, da: Ptr): void;
  maxpoolForward(x: Ptr, n: number, h: number, w: number, c: number, ph: number, pw: number, sh: number, sw: number,
    oh: number, ow: number, out: Ptr, argmax: Ptr, indexBase: number): void;
  maxpoolBackward(dout: Ptr, argmax: Ptr, m: number, dx: Ptr, dxLen: number): void;
  maxpoolReluScatter(dout: Ptr, argmax: Ptr, pooled: Ptr, m: number, oc: number, ocp: number, g: Ptr, gBytes: number): void;
  avgpoolForward(x: Ptr, n: number, h: number, w: number, c: number, ph: number, pw: number, sh: number, sw: number,
    padTop: number, padLeft: number, oh: number, ow: number, out: Ptr): void;
  avgpoolBackward(dout: Ptr, n: number, h: number, w: number, c: number, ph: number, pw: number, sh: number, sw: number,
    padTop: number, padLeft: number, oh: number, ow: number, dx: Ptr): void;
  activationForward(kind: number, alpha: number, z: Ptr, a: Ptr, count: number): void;
  activationBackward(kind: number, alpha: number, a: Ptr, da: Ptr, dz: Ptr, count: number): void;
  bnSums(x: Ptr, m: number, c: number, sum: Ptr): void;
  bnSquares(x: Ptr, mean: Ptr, m: number, c: number, sumSq: Ptr): void;
  bnAffine(x: Ptr, scale: Ptr, shift: Ptr, m: number, c: number, out: Ptr): void;
  bnBackwardSums(x: Ptr, dout: Ptr, mean: Ptr, m: number, c: number, sumDout: Ptr, sumDoutXc: Ptr): void;
  bnBackward(x: Ptr, dout: Ptr, mean: Ptr, a: Ptr, b: Ptr, k: Ptr, m: number, c: number, dx: Ptr): void;
  winogradWeights(wgt: Ptr, c: number, ocp: number, u: Ptr): void;
  winogradInput(xs: Ptr, n: number, hs: number, ws: number, c: number, th: number, tw: number, tp: number, v: Ptr): void;
  winogradOutput(m: Ptr, n: number, oh: number, ow: number, th: number, tw: number, tp: number, ocp: number,
    bias: Ptr, out: Ptr, relu: boolean): void;
  winogradGradTiles(dout: Ptr, n: number, oh: number, ow: number, th: number, tw: number, tp: number, ocp: number, delta: Ptr): void;
  winogradWeightGrad(s: Ptr, c: number, ocp: number, dw: Ptr): void;
  flipWeights(wgt: Ptr, c: number, oc: number, ocp: number, cp: number, dst: Ptr): void;
  adamStep(values: Ptr, grads: Ptr, m: Ptr, v: Ptr, count: number,
    b1: number, b2: number, l2: number, decay: number, stepSize: number, sqrtBc2: number, eps: number): void;
}

/** The activation kinds as the module numbers them (assembly/kernels.ts). */
const ACTIVATION_CODES: Record<ActivationKind, number> = { relu: 0, leakyRelu: 1, tanh: 2, sigmoid: 3 };

/**
 * The fast set also fuses the ReLU when told to (extra trailing arguments, so it stays a plain
 * `Kernels` for callers that do the activation themselves): forward `relu` gives max(0, ·) of the
 * output; backward `activated` (that ReLU output) masks dout where activated ≤ 0 before the
 * gradients — one pass fewer over the largest buffers, and branch-free.
 */
export interface FastKernels extends Kernels {
  /** 'wasm-simd' or 'wasm-relaxed-simd'. */
  readonly name: string;
  readonly variant: WasmVariant;
  readonly fusesRelu: true;
  conv2dReluMaxpoolBackward: NonNullable<Kernels['conv2dReluMaxpoolBackward']>;
  conv2dReluMaxpoolForward: NonNullable<Kernels['conv2dReluMaxpoolForward']>;
  batchnormAffineMaxpool: NonNullable<Kernels['batchnormAffineMaxpool']>;
  batchnormBackwardSumsPooled: NonNullable<Kernels['batchnormBackwardSumsPooled']>;
  batchnormBackwardPooled: NonNullable<Kernels['batchnormBackwardPooled']>;
  /** Bytes of linear memory now reserved; it only grows, to the largest call seen. */
  readonly memoryBytes: number;
}

export class WasmUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasmUnavailableError';
  }
}

// The smallest module that uses a SIMD instruction: (func (result v128) v128.const 0 … ; drop-free).
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

let simdSupported: boolean | null = null;

/** Whether this JavaScript engine runs WebAssembly with 128-bit SIMD (Node ≥ 16.4, Chromium ≥ 91). */
export function wasmSimdSupported(): boolean {
  if (simdSupported === null) {
    simdSupported = typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  }
  return simdSupported;
}

/**
 * 'relaxed-simd' is the same source built with relaxed SIMD, whose multiply-add is one FMA
 * instruction: Chromium ≥ 114 (Electron's renderer and workers) and Node ≥ 22 run it; Node 20
 * only with --experimental-wasm-relaxed-simd. Its sums round once per multiply-add instead of
 * twice, so the two variants differ in the last bits (each is deterministic on one machine).
 */
export type WasmVariant = 'simd' | 'relaxed-simd';

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

const modules = new Map<WasmVariant, WebAssembly.Module | null>();

/** The compiled module of a variant, or null where this engine cannot run it. */
function kernelModule(variant: WasmVariant): WebAssembly.Module | null {
  if (!modules.has(variant)) {
    const bytes = decode(variant === 'simd' ? KERNELS_WASM_BASE64 : KERNELS_RELAXED_WASM_BASE64);
    modules.set(variant, wasmSimdSupported() && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null);
  }
  return modules.get(variant)!;
}

/** The variants this engine runs, fastest first. */
export function wasmVariants(): WasmVariant[] {
  return (['relaxed-simd', 'simd'] as const).filter((v) => kernelModule(v) !== null);
}

const PAGE = 65536;
/**
 * Forward passes over many images (predict) run in chunks of images whose input and output fit in
 * about this many floats (512 KB, half a core's L2 here), so each chunk's output is copied out while it is
 * still in cache instead of making three trips through memory.
 */
const CHUNK_FLOATS = 1 << 17;
/**
 * A Winograd forward's chunk may be 4× that: its transformed tiles are 4× the input and output, and
 * with one image per chunk its 16 small products per image cost more in calls than in cache misses
 * (measured: the bigger net's second conv 0.3 ms a step faster than at 1×).
 */
const WINOGRAD_CHUNK_FLOATS = 4 * CHUNK_FLOATS;
const roundUp = (v: number, m: number): number => Math.ceil(v / m) * m;

/**
 * One module instance and its linear memory. Each call lays its buffers out from the end of the
 * module's static data (heapBase) with a bump pointer (16-byte aligned for v128 loads), so calls
 * never hold memory between them and the instance is not re-entrant (JavaScript calls are not either).
 */
class WasmKernels implements FastKernels {
  readonly name: string;
  readonly fusesRelu = true;
  private readonly k: KernelExports;
  private f32: Float32Array;
  private i32: Int32Array;
  private f64: Float64Array;
  private top = 0;
  /** Where the buffers start: above the module's static data (the math functions' tables). */
  private readonly base: Ptr;

  constructor(readonly variant: WasmVariant, private readonly module: WebAssembly.Module) {
    this.name = `wasm-${variant}`;
    this.k = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
    this.f32 = new Float32Array(this.k.memory.buffer);
    this.i32 = new Int32Array(this.k.memory.buffer);
    this.f64 = new Float64Array(this.k.memory.buffer);
    this.base = roundUp(Math.max(64, this.k.heapBase()), 16);
  }

  get memoryBytes(): number {
    return this.k.memory.buffer.byteLength;
  }

  private reset(): void {
    this.top = this.base;
  }

  /** Reserves `floats` 4-byte cells; returns a byte address. Call `commit()` before touching memory. */
  private take(floats: number): Ptr {
    const p = this.top;
    this.top += roundUp(floats * 4, 16);
    return p;
  }

  /** Grows the memory to cover every buffer taken since reset; growing detaches the old views. */
  private commit(): void {
    const have = this.k.memory.buffer.byteLength;
    if (this.top > have) {
      this.k.memory.grow(Math.ceil((this.top - have) / PAGE));
      this.f32 = new Float32Array(this.k.memory.buffer);
      this.i32 = new Int32Array(this.k.memory.buffer);
      this.f64 = new Float64Array(this.k.memory.buffer);
    }
  }

  /** Reserves `count` float64 cells (8-byte aligned, as every take is 16). */
  private take64(count: number): Ptr {
    return this.take(count * 2);
  }

  private get64(p: Ptr, len: number, dst: Float64Array): void {
    dst.set(this.f64.subarray(p >> 3, (p >> 3) + len));
  }

  private put(src: FloatArray, len: number, p: Ptr, from = 0): void {
    this.f32.set(from === 0 && src.length === len ? src : src.subarray(from, from + len), p >> 2);
  }

  private get(p: Ptr, len: number, dst: FloatArray, at = 0): void {
    dst.set(this.view(this.f32, p, len), at);
  }

  // A training loop copies out of the same (address, length) every step: reusing those views
  // keeps the hot loop from allocating.
  private readonly views = new Map<number, Float32Array | Int32Array>();

  private view<T extends Float32Array | Int32Array>(of: T, p: Ptr, len: number): T {
    // the key is exact below 2^53: addresses under 512 MB, lengths under 2^25
    if (p >= 2 ** 29 || len >= 2 ** 25) return of.subarray(p >> 2, (p >> 2) + len) as T;
    const key = (p / 4) * 2 ** 26 + len * 2 + (of === this.f32 ? 0 : 1);
    let v = this.views.get(key) as T | undefined;
    if (!v || v.buffer !== of.buffer) {
      if (this.views.size >= 256) this.views.clear();
      v = of.subarray(p >> 2, (p >> 2) + len) as T;
      this.views.set(key, v);
    }
    return v;
  }

  /** Images per chunk of a forward pass whose per-image footprint is `floatsPerImage`. */
  private static chunkImages(n: number, floatsPerImage: number, budget = CHUNK_FLOATS): number {
    return Math.max(1, Math.min(n, Math.floor(budget / floatsPerImage)));
  }

  /** Copies (rows, c) into (rows, cp) at p, padding channels with zeros (and `extraRows` zero rows). */
  private putPadded(src: FloatArray, rows: number, c: number, cp: number, p: Ptr, staging: Ptr, extraRows: number): void {
    if (c === cp) {
      this.put(src, rows * c, p);
    } else {
      this.put(src, rows * c, staging);
      this.k.padChannels(staging, p, rows, c, cp);
    }
    if (extraRows > 0) this.f32.fill(0, (p >> 2) + rows * cp, (p >> 2) + (rows + extraRows) * cp);
  }

  /** `relu` fuses the activation: out = max(0, conv), as reluForward after the kernel would. */
  conv2dForward(s: ConvShape, x: FloatArray, weight: FloatArray, bias: FloatArray, out: FloatArray, relu = false): void {
    this.convForward(s, x, weight, bias, out, relu);
  }

  /** `activated` (the ReLU's output) fuses the activation's backward: dout counts only where activated > 0. */
  conv2dBackward(s: ConvShape, x: FloatArray, weight: FloatArray, dout: FloatArray,
    dweight: FloatArray, dbias: FloatArray, dx: FloatArray | null, activated: FloatArray | null = null): void {
    this.convBackward(s, x, weight, dout, dweight, dbias, dx, activated);
  }

  conv2dReluMaxpoolForward(cs: ConvShape, ps: PoolShape, x: FloatArray, weight: FloatArray, bias: FloatArray,
    convOut: FloatArray | null, pooled: FloatArray, argmax: Int32Array): void {
    const f = this.poolAfter;
    f.shape = ps;
    f.pooled = pooled;
    f.argmax = argmax;
    this.convForward(cs, x, weight, bias, convOut, true, f);
  }

  /** The pool of conv2dReluMaxpoolForward; one record, reused. */
  private readonly poolAfter: PoolAfter = { shape: null!, pooled: new Float32Array(0), argmax: new Int32Array(0) };

  conv2dReluMaxpoolBackward(cs: ConvShape, ps: PoolShape, x: FloatArray, weight: FloatArray, poolDout: FloatArray,
    argmax: Int32Array, pooled: FloatArray, dweight: FloatArray, dbias: FloatArray, dx: FloatArray | null): void {
    const g = this.pooledGradient;
    g.dout = poolDout;
    g.argmax = argmax;
    g.pooled = pooled;
    g.m = ps.n * ps.oh * ps.ow * ps.c;
    this.convBackward(cs, x, weight, poolDout, dweight, dbias, dx, null, g);
  }

  /** The pool's side of conv2dReluMaxpoolBackward; one record, reused (calls never overlap). */
  private readonly pooledGradient: PooledGradient = { dout: new Float32Array(0), argmax: new Int32Array(0), pooled: new Float32Array(0), m: 0 };

  // a (N,IN) · weight (IN,OUT) is a 1×1 convolution of N 1×1 images with IN channels
  denseForward(n: number, inDim: number, outDim: number, a: FloatArray, weight: FloatArray, bias: FloatArray, z: FloatArray, relu = false): void {
    this.convForward(this.denseShape(n, inDim, outDim), a, weight, bias, z, relu);
  }

  denseBackward(n: number, inDim: number, outDim: number, a: FloatArray, weight: FloatArray, dz: FloatArray,
    dweight: FloatArray, dbias: FloatArray, da: FloatArray | null, activated: FloatArray | null = null): void {
    this.convBackward(this.denseShape(n, inDim, outDim), a, weight, dz, dweight, dbias, da, activated);
  }

  maxpool2dForward(s: PoolShape, x: FloatArray, out: FloatArray, argmax: Int32Array): void {
    const { n, h, w, c, oh, ow } = s;
    const inImage = h * w * c;
    const outImage = oh * ow * c;
    const chunk = WasmKernels.chunkImages(n, inImage + 2 * outImage);
    this.reset();
    const xp = this.take(chunk * inImage);
    const op = this.take(chunk * outImage);
    const ap = this.take(chunk * outImage);
    this.commit();
    for (let img = 0; img < n; img += chunk) {
      const m = Math.min(chunk, n - img);
      this.put(x, m * inImage, xp, img * inImage);
      this.k.maxpoolForward(xp, m, h, w, c, s.ph, s.pw, s.sh, s.sw, oh, ow, op, ap, img * inImage);
      this.get(op, m * outImage, out, img * outImage);
      argmax.set(this.view(this.i32, ap, m * outImage), img * outImage);
    }
  }

  maxpool2dBackward(s: PoolShape, dout: FloatArray, argmax: Int32Array, dx: FloatArray): void {
    const m = s.n * s.oh * s.ow * s.c;
    const dxLen = s.n * s.h * s.w * s.c;
    this.reset();
    const gp = this.take(m);
    const ap = this.take(m);
    const dxp = this.take(dxLen);
    this.commit();
    this.put(dout, m, gp);
    this.i32.set(argmax.length === m ? argmax : argmax.subarray(0, m), ap >> 2);
    this.k.maxpoolBackward(gp, ap, m, dxp, dxLen);
    this.get(dxp, dxLen, dx);
  }

  avgpool2dForward(s: AvgPoolShape, x: FloatArray, out: FloatArray): void {
    const { n, h, w, c, oh, ow } = s;
    const inImage = h * w * c;
    const outImage = oh * ow * c;
    const chunk = WasmKernels.chunkImages(n, inImage + outImage);
    this.reset();
    const xp = this.take(chunk * inImage);
    const op = this.take(chunk * outImage);
    this.commit();
    for (let img = 0; img < n; img += chunk) {
      const m = Math.min(chunk, n - img);
      this.put(x, m * inImage, xp, img * inImage);
      this.k.avgpoolForward(xp, m, h, w, c, s.ph, s.pw, s.sh, s.sw, s.padTop, s.padLeft, oh, ow, op);
      this.get(op, m * outImage, out, img * outImage);
    }
  }

  avgpool2dBackward(s: AvgPoolShape, dout: FloatArray, dx: FloatArray): void {
    const outLen = s.n * s.oh * s.ow * s.c;
    const dxLen = s.n * s.h * s.w * s.c;
    this.reset();
    const gp = this.take(outLen);
    const dxp = this.take(dxLen);
    this.commit();
    this.put(dout, outLen, gp);
    this.k.avgpoolBackward(gp, s.n, s.h, s.w, s.c, s.ph, s.pw, s.sh, s.sw, s.padTop, s.padLeft, s.oh, s.ow, dxp);
    this.get(dxp, dxLen, dx);
  }

  activationForward(kind: ActivationKind, alpha: number, z: FloatArray, a: FloatArray, len: number): void {
    this.reset();
    const p = this.take(len);
    this.commit();
    this.put(z, len, p);
    this.k.activationForward(ACTIVATION_CODES[kind], alpha, p, p, len);
    this.get(p, len, a);
  }

  activationBackward(kind: ActivationKind, alpha: number, a: FloatArray, da: FloatArray, dz: FloatArray, len: number): void {
    this.reset();
    const ap = this.take(len);
    const gp = this.take(len);
    this.commit();
    this.put(a, len, ap);
    this.put(da, len, gp);
    this.k.activationBackward(ACTIVATION_CODES[kind], alpha, ap, gp, gp, len);
    this.get(gp, len, dz);
  }

  batchnormSums(m: number, c: number, x: FloatArray, sum: Float64Array): void {
    this.reset();
    const xp = this.take(m * c);
    const sp = this.take64(c);
    this.commit();
    this.put(x, m * c, xp);
    this.k.bnSums(xp, m, c, sp);
    this.get64(sp, c, sum);
  }

  batchnormSquares(m: number, c: number, x: FloatArray, mean: FloatArray, sumSq: Float64Array): void {
    this.reset();
    const xp = this.take(m * c);
    const mp = this.take(c);
    const sp = this.take64(c);
    this.commit();
    this.put(x, m * c, xp);
    this.put(mean, c, mp);
    this.k.bnSquares(xp, mp, m, c, sp);
    this.get64(sp, c, sumSq);
  }

  batchnormAffine(m: number, c: number, x: FloatArray, scale: FloatArray, shift: FloatArray, out: FloatArray): void {
    this.reset();
    const xp = this.take(m * c);
    const sp = this.take(c);
    const tp = this.take(c);
    this.commit();
    this.put(x, m * c, xp);
    this.put(scale, c, sp);
    this.put(shift, c, tp);
    this.k.bnAffine(xp, sp, tp, m, c, xp);
    this.get(xp, m * c, out);
  }

  batchnormBackwardSums(m: number, c: number, x: FloatArray, dout: FloatArray, mean: FloatArray, sumDout: Float64Array, sumDoutXc: Float64Array): void {
    this.reset();
    const xp = this.take(m * c);
    const gp = this.take(m * c);
    const mp = this.take(c);
    const s1 = this.take64(c);
    const s2 = this.take64(c);
    this.commit();
    this.put(x, m * c, xp);
    this.put(dout, m * c, gp);
    this.put(mean, c, mp);
    this.k.bnBackwardSums(xp, gp, mp, m, c, s1, s2);
    this.get64(s1, c, sumDout);
    this.get64(s2, c, sumDoutXc);
  }

  batchnormBackward(m: number, c: number, x: FloatArray, dout: FloatArray, mean: FloatArray, a: FloatArray, b: FloatArray, k: FloatArray, dx: FloatArray): void {
    this.reset();
    const xp = this.take(m * c);
    const gp = this.take(m * c);
    const [mp, ap, bp, kp] = [this.take(c), this.take(c), this.take(c), this.take(c)];
    this.commit();
    this.put(x, m * c, xp);
    this.put(dout, m * c, gp);
    this.put(mean, c, mp);
    this.put(a, c, ap);
    this.put(b, c, bp);
    this.put(k, c, kp);
    // dx over dout in place: each element is read before it is written
    this.k.bnBackward(xp, gp, mp, ap, bp, kp, m, c, gp);
    this.get(gp, m * c, dx);
  }

  batchnormAffineMaxpool(ps: PoolShape, x: FloatArray, scale: FloatArray, shift: FloatArray, pooled: FloatArray, argmax: Int32Array): void {
    const { n, h, w, c, oh, ow } = ps;
    const inImage = h * w * c;
    const outImage = oh * ow * c;
    const chunk = WasmKernels.chunkImages(n, inImage + 2 * outImage);
    this.reset();
    const xp = this.take(chunk * inImage);
    const sp = this.take(c);
    const tp = this.take(c);
    const op = this.take(chunk * outImage);
    const ap = this.take(chunk * outImage);
    this.commit();
    this.put(scale, c, sp);
    this.put(shift, c, tp);
    for (let img = 0; img < n; img += chunk) {
      const m = Math.min(chunk, n - img);
      this.put(x, m * inImage, xp, img * inImage);
      this.k.bnAffine(xp, sp, tp, m * h * w, c, xp);
      this.k.maxpoolForward(xp, m, h, w, c, ps.ph, ps.pw, ps.sh, ps.sw, oh, ow, op, ap, img * inImage);
      this.get(op, m * outImage, pooled, img * outImage);
      argmax.set(this.view(this.i32, ap, m * outImage), img * outImage);
    }
  }

  /** Reserves a pooled batch-norm backward's x and dout (M, C) and the pool's gradient and argmax. */
  private takePooledBackward(ps: PoolShape): PooledBackward {
    const b = this.pooledBackward; // one record, reused: calls never overlap
    b.rows = ps.n * ps.h * ps.w;
    b.m = ps.n * ps.oh * ps.ow * ps.c;
    b.xp = this.take(b.rows * ps.c);
    b.gp = this.take(b.rows * ps.c);
    b.pdp = this.take(b.m);
    b.pap = this.take(b.m);
    return b;
  }

  private readonly pooledBackward: PooledBackward = { rows: 0, m: 0, xp: 0, gp: 0, pdp: 0, pap: 0 };

  /** x and the pool's gradient into this set's memory, and dout (M, C) formed from it at gp (zeroed, then scattered). */
  private putPooled(b: PooledBackward, c: number, x: FloatArray, poolDout: FloatArray, argmax: Int32Array): void {
    this.put(x, b.rows * c, b.xp);
    this.put(poolDout, b.m, b.pdp);
    this.i32.set(argmax.length === b.m ? argmax : argmax.subarray(0, b.m), b.pap >> 2);
    this.k.maxpoolBackward(b.pdp, b.pap, b.m, b.gp, b.rows * c);
  }

  batchnormBackwardSumsPooled(ps: PoolShape, x: FloatArray, poolDout: FloatArray, argmax: Int32Array, mean: FloatArray,
    sumDout: Float64Array, sumDoutXc: Float64Array): void {
    const c = ps.c;
    this.reset();
    const b = this.takePooledBackward(ps);
    const mp = this.take(c);
    const s1 = this.take64(c);
    const s2 = this.take64(c);
    this.commit();
    this.putPooled(b, c, x, poolDout, argmax);
    this.put(mean, c, mp);
    this.k.bnBackwardSums(b.xp, b.gp, mp, b.rows, c, s1, s2);
    this.get64(s1, c, sumDout);
    this.get64(s2, c, sumDoutXc);
  }

  batchnormBackwardPooled(ps: PoolShape, x: FloatArray, poolDout: FloatArray, argmax: Int32Array, mean: FloatArray,
    a: FloatArray, bv: FloatArray, k: FloatArray, dx: FloatArray): void {
    const c = ps.c;
    this.reset();
    const b = this.takePooledBackward(ps);
    const [mp, ap, bp, kp] = [this.take(c), this.take(c), this.take(c), this.take(c)];
    this.commit();
    this.putPooled(b, c, x, poolDout, argmax);
    this.put(mean, c, mp);
    this.put(a, c, ap);
    this.put(bv, c, bp);
    this.put(k, c, kp);
    this.k.bnBackward(b.xp, b.gp, mp, ap, bp, kp, b.rows, c, b.gp);
    this.get(b.gp, b.rows * c, dx);
  }

  adamUpdate(size: number): AdamUpdate {
    return new WasmAdamUpdate(this.module, size);
  }

  private readonly dense: ConvShape = { n: 0, h: 1, w: 1, c: 0, oc: 0, kh: 1, kw: 1, sh: 1, sw: 1, padTop: 0, padLeft: 0, oh: 1, ow: 1 };

  /** The geometry of a dense layer as a 1×1 convolution; one record, reused (calls never overlap). */
  private denseShape(n: number, inDim: number, outDim: number): ConvShape {
    const d = this.dense;
    d.n = n;
    d.c = inDim;
    d.oc = outDim;
    return d;
  }

  /** Whether the input has to be padded, and the extents (HS, WS) the kernels read it with. */
  private padded = false;
  private hs = 0;
  private ws = 0;

  private geometry(s: ConvShape): void {
    const hs = (s.oh - 1) * s.sh + s.kh;
    const ws = (s.ow - 1) * s.sw + s.kw;
    this.padded = s.padTop > 0 || s.padLeft > 0 || hs > s.h || ws > s.w;
    this.hs = this.padded ? hs : s.h;
    this.ws = this.padded ? ws : s.w;
  }

  // x (N,H,W,C), weight (KH,KW,C,OC), bias (OC) → out (N,OH,OW,OC) unless null; with `pool`, each
  // chunk's output is also max-pooled into pool.pooled and pool.argmax
  private convForward(s: ConvShape, x: FloatArray, weight: FloatArray, bias: FloatArray, out: FloatArray | null, relu: boolean,
    pool: PoolAfter | null = null): void {
    if (winogradFits(s)) {
      this.convForwardWinograd(s, x, weight, bias, out, relu, pool);
      return;
    }
    const { n, h, w, c, oc, kh, kw, oh, ow } = s;
    this.geometry(s);
    const { padded, hs, ws } = this;
    const ocp = roundUp(oc, 4);
    const k = kh * kw * c;
    const inImage = h * w * c;
    const poolImage = pool ? 2 * pool.shape.oh * pool.shape.ow * oc : 0;
    const chunk = WasmKernels.chunkImages(n, inImage + (padded ? hs * ws * c : 0) + oh * ow * ocp + poolImage);
    const ppChunk = roundUp(chunk * oh * ow, 4);

    this.reset();
    const xp = this.take(chunk * inImage);
    const xsp = padded ? this.take(chunk * hs * ws * c) : xp;
    const wp = this.take(k * ocp);
    const bp = this.take(ocp);
    const tp = this.take(ppChunk);
    const op = this.take(ppChunk * ocp);
    const staging = this.take(k * oc);
    this.takePooled(chunk, pool);
    this.commit();

    this.putPadded(weight, k, oc, ocp, wp, staging, 0);
    this.putPadded(bias, 1, oc, ocp, bp, staging, 0);
    for (let img = 0; img < n; img += chunk) {
      const m = Math.min(chunk, n - img);
      const p = m * oh * ow;
      const pp = roundUp(p, 4);
      this.put(x, m * inImage, xp, img * inImage);
      if (padded) this.k.padInput(xp, m, h, w, c, hs, ws, s.padTop, s.padLeft, xsp);
      if (img === 0 || m !== chunk) this.k.positions(tp, m, oh, ow, s.sh, s.sw, hs, ws, c, pp);
      this.k.convForward(xsp, tp, pp, wp, bp, op, kh, kw * c, ws * c * 4, ocp, relu);
      this.convChunkOut(s, op, m, img, out, pool);
    }
  }

  /** A chunk's output (m images from image img, (·, OCP) at op): compact, copied out, pooled. */
  private convChunkOut(s: ConvShape, op: Ptr, m: number, img: number, out: FloatArray | null, pool: PoolAfter | null): void {
    const { oh, ow, oc } = s;
    const ocp = roundUp(oc, 4);
    const outImage = oh * ow * oc;
    if (ocp !== oc) this.k.unpadChannels(op, op, m * oh * ow, oc, ocp);
    if (out) this.get(op, m * outImage, out, img * outImage);
    if (!pool) return;
    const ps = pool.shape;
    const pooledImage = ps.oh * ps.ow * oc;
    this.k.maxpoolForward(op, m, oh, ow, oc, ps.ph, ps.pw, ps.sh, ps.sw, ps.oh, ps.ow, this.pooledAt, this.argmaxAt, img * outImage);
    this.get(this.pooledAt, m * pooledImage, pool.pooled, img * pooledImage);
    pool.argmax.set(this.view(this.i32, this.argmaxAt, m * pooledImage), img * pooledImage);
  }

  /** Where a fused forward's chunk of pooled outputs and argmax go. */
  private pooledAt: Ptr = 0;
  private argmaxAt: Ptr = 0;

  private takePooled(chunk: number, pool: PoolAfter | null): void {
    if (!pool) return;
    const len = chunk * pool.shape.oh * pool.shape.ow * pool.shape.c;
    this.pooledAt = this.take(len);
    this.argmaxAt = this.take(len);
  }

  /**
   * The same convolution as Winograd's F(2×2, 3×3) (assembly/kernels.ts): per chunk of images, the
   * input tiles' transform V (16, TP, C), 16 products M[ξ] = V[ξ] · U[ξ] by the direct kernel as
   * 1×1 convolutions (so the relaxed build fuses their multiply-adds too), then the output transform
   * with the bias and the ReLU. 16 multiplies per 2×2 outputs and channel pair instead of 36; the
   * sums are grouped differently, so it agrees with the direct form within float rounding.
   */
  private convForwardWinograd(s: ConvShape, x: FloatArray, weight: FloatArray, bias: FloatArray, out: FloatArray | null, relu: boolean,
    pool: PoolAfter | null): void {
    const { n, h, w, c, oc, oh, ow } = s;
    this.geometry(s);
    const { padded, hs, ws } = this;
    const ocp = roundUp(oc, 4);
    const k = 9 * c;
    const inImage = h * w * c;
    const poolImage = pool ? 2 * pool.shape.oh * pool.shape.ow * oc : 0;
    const chunk = WasmKernels.chunkImages(n, inImage + (padded ? hs * ws * c : 0) + winogradFloatsPerImage(oh, ow, c, ocp) + poolImage, WINOGRAD_CHUNK_FLOATS);

    this.reset();
    const xp = this.take(chunk * inImage);
    const xsp = padded ? this.take(chunk * hs * ws * c) : xp;
    const wp = this.take(k * ocp);
    const bp = this.take(ocp);
    const op = this.take(chunk * oh * ow * ocp);
    const staging = this.take(k * oc);
    const wb = this.takeWinograd(chunk, oh, ow, c, ocp);
    this.takePooled(chunk, pool);
    this.commit();

    this.putPadded(weight, k, oc, ocp, wp, staging, 0);
    this.putPadded(bias, 1, oc, ocp, bp, staging, 0);
    this.k.winogradWeights(wp, c, ocp, wb.up);
    for (let img = 0; img < n; img += chunk) {
      const m = Math.min(chunk, n - img);
      this.put(x, m * inImage, xp, img * inImage);
      if (padded) this.k.padInput(xp, m, h, w, c, hs, ws, s.padTop, s.padLeft, xsp);
      this.winogradChunk(wb, xsp, m, hs, ws, c, oh, ow, ocp, bp, op, relu);
      this.convChunkOut(s, op, m, img, out, pool);
    }
  }

  /** Scratch of a Winograd convolution over chunks of `chunk` images, (OH, OW) out, CIN in, OCP out; zero bias included. */
  private takeWinograd(chunk: number, oh: number, ow: number, cin: number, ocp: number): WinogradBuffers {
    const tilesPerImage = Math.ceil(oh / 2) * Math.ceil(ow / 2);
    const tp = roundUp(chunk * tilesPerImage, 4);
    const b = this.winograd; // one record, reused: a call's passes run one after another
    b.up = this.take(16 * cin * ocp);
    b.zero = this.take(ocp);
    b.table = this.take(tp);
    b.vp = this.take(16 * tp * cin);
    b.mp = this.take(16 * tp * ocp);
    b.tableFor = -1;
    return b;
  }

  private readonly winograd: WinogradBuffers = { up: 0, zero: 0, table: 0, vp: 0, mp: 0, tableFor: -1 };

  /** One chunk: xs (M, HS, WS, CIN) → out (M·OH·OW, OCP) with the transformed weights in b.up. */
  private winogradChunk(b: WinogradBuffers, xsp: Ptr, m: number, hs: number, ws: number, cin: number,
    oh: number, ow: number, ocp: number, bias: Ptr, out: Ptr, relu: boolean): void {
    const th = Math.ceil(oh / 2), tw = Math.ceil(ow / 2);
    const tp = roundUp(m * th * tw, 4);
    this.k.winogradInput(xsp, m, hs, ws, cin, th, tw, tp, b.vp);
    if (b.tableFor !== tp) {
      // tile t's row of V[ξ] is at t·CIN floats: the positions of TP 1×1 images of CIN channels
      this.k.positions(b.table, tp, 1, 1, 1, 1, 1, 1, cin, tp);
      this.f32.fill(0, b.zero >> 2, (b.zero >> 2) + ocp);
      b.tableFor = tp;
    }
    for (let xi = 0; xi < 16; xi++) {
      this.k.convForward(b.vp + xi * tp * cin * 4, b.table, tp, b.up + xi * cin * ocp * 4, b.zero, b.mp + xi * tp * ocp * 4, 1, cin, 0, ocp, false);
    }
    this.k.winogradOutput(b.mp, m, oh, ow, th, tw, tp, ocp, bias, out, relu);
  }

  // dout (N,OH,OW,OC) → dweight (KH,KW,C,OC) +=, dbias (OC) +=, dx (N,H,W,C) overwritten unless null;
  // with `pool`, dout is instead scattered from the max pool's gradient behind a fused ReLU
  private convBackward(s: ConvShape, x: FloatArray, weight: FloatArray, dout: FloatArray,
    dweight: FloatArray, dbias: FloatArray, dx: FloatArray | null, activated: FloatArray | null,
    pool: PooledGradient | null = null): void {
    const { n, h, w, c, oc, kh, kw, oh, ow } = s;
    this.geometry(s);
    const { padded, hs, ws } = this;
    const ocp = roundUp(oc, 4);
    const k = kh * kw * c;
    const kp = roundUp(k, 8);
    const p = n * oh * ow;
    const pp = roundUp(p, 4);
    const xLen = n * h * w * c;
    const winogradWeight = winogradFitsWeightGrad(s);
    const winogradDx = dx !== null && winogradFitsInputGrad(s);
    // a dense layer (N 1×1 images): dot products with the weight as it is (denseInputGrad)
    const denseDx = dx !== null && !winogradDx && isDense(s);
    const directDx = dx !== null && !winogradDx && !denseDx;
    const k4 = roundUp(k, 4);

    this.reset();
    const xp = this.take(xLen);
    const xsp = padded ? this.take(n * hs * ws * c) : xp;
    const gp = this.take(pp * ocp);
    const tp = this.take(pp);
    const tapsp = this.take(kp);
    const dwp = this.take(kp * ocp);
    const dbp = this.take(ocp);
    const staging = this.take(Math.max(pool ? 0 : p * oc, k * oc));
    const actp = activated ? this.take(p * oc) : 0;
    const wp = dx ? this.take(k4 * ocp) : 0;
    const wtp = directDx ? this.take(oc * kp) : 0;
    const dxsp = directDx && padded ? this.take(n * hs * ws * c) : 0;
    const dxp = directDx ? this.take(xLen) : 0;
    const dap = denseDx ? this.take(pp * k4) : 0;
    const m = pool ? pool.m : 0;
    const pdp = pool ? this.take(m) : 0;
    const pap = pool ? this.take(m) : 0;
    const pop = pool ? this.take(m) : 0;
    this.commit();

    this.put(x, xLen, xp);
    if (padded) this.k.padInput(xp, n, h, w, c, hs, ws, s.padTop, s.padLeft, xsp);
    if (pool) {
      this.put(pool.dout, m, pdp);
      this.i32.set(pool.argmax.length === m ? pool.argmax : pool.argmax.subarray(0, m), pap >> 2);
      this.put(pool.pooled, m, pop);
      this.k.maxpoolReluScatter(pdp, pap, pop, m, oc, ocp, gp, pp * ocp * 4);
    } else if (activated) {
      // mask the compact dout, then pad it
      const masked = ocp === oc ? gp : staging;
      this.put(dout, p * oc, masked);
      this.put(activated, p * oc, actp);
      this.k.reluMask(masked, actp, p * oc);
      if (masked !== gp) this.k.padChannels(masked, gp, p, oc, ocp);
      this.f32.fill(0, (gp >> 2) + p * ocp, (gp >> 2) + pp * ocp);
    } else {
      this.putPadded(dout, p, oc, ocp, gp, staging, pp - p);
    }
    if (!winogradWeight || directDx) {
      // the direct kernels' position table and tap offsets
      this.k.positions(tp, n, oh, ow, s.sh, s.sw, hs, ws, c, pp);
      this.k.tapOffsets(tapsp, kh, kw, c, ws, kp);
    }
    this.putPadded(dweight, k, oc, ocp, dwp, staging, 0);
    this.putPadded(dbias, 1, oc, ocp, dbp, staging, 0);

    if (winogradWeight) this.weightGradWinograd(s, xsp, gp, dwp);
    else this.k.convWeightGrad(xsp, tp, pp, gp, tapsp, k, dwp, ocp);
    this.k.convBiasGrad(gp, pp, ocp, dbp);
    if (ocp !== oc) {
      this.k.unpadChannels(dwp, dwp, k, oc, ocp);
      this.k.unpadChannels(dbp, dbp, 1, oc, ocp);
    }
    this.get(dwp, k * oc, dweight);
    this.get(dbp, oc, dbias);

    if (!dx) return;
    this.putPadded(weight, k, oc, ocp, wp, staging, denseDx ? k4 - k : 0);
    if (winogradDx) {
      this.inputGradWinograd(s, gp, wp, dx);
    } else if (denseDx) {
      this.k.denseInputGrad(gp, pp, wp, k4, ocp, dap);
      if (k4 !== k) this.k.unpadChannels(dap, dap, n, k, k4);
      this.get(dap, n * k, dx);
    } else {
      this.k.transposeWeights(wp, k, oc, ocp, kp, wtp);
      const target = padded ? dxsp : dxp;
      this.k.convInputGrad(gp, tp, pp, wtp, tapsp, kp, oc, ocp, target, n * hs * ws * c * 4);
      if (padded) this.k.cropInput(dxsp, n, h, w, c, hs, ws, s.padTop, s.padLeft, dxp);
      this.get(dxp, xLen, dx);
    }
  }

  /**
   * dweight (3·3·C, OCP) += the weight gradient as Winograd F(2×2, 3×3)'s filter gradient
   * (assembly/kernels.ts): per chunk of images V = Bᵀ d B of the input tiles and Δ = A δ Aᵀ of
   * dout's 2×2 blocks, S[ξ] += V[ξ]ᵀ · Δ[ξ] by the direct weight-gradient kernel, then Gᵀ S G.
   * Called from convBackward after its own buffers (xs padded, dout in gp), taking scratch above them.
   */
  private weightGradWinograd(s: ConvShape, xsp: Ptr, gp: Ptr, dwp: Ptr): void {
    const { n, c, oc, oh, ow } = s;
    const { hs, ws } = this;
    const ocp = roundUp(oc, 4);
    const th = Math.ceil(oh / 2), tw = Math.ceil(ow / 2);
    const chunk = WasmKernels.chunkImages(n, winogradFloatsPerImage(oh, ow, c, ocp), WINOGRAD_CHUNK_FLOATS);
    const wb = this.takeWinograd(chunk, oh, ow, c, ocp);
    const taps = this.take(roundUp(c, 8));
    this.commit();
    this.k.tapOffsets(taps, 1, 1, c, 1, roundUp(c, 8));
    this.f32.fill(0, wb.up >> 2, (wb.up >> 2) + 16 * c * ocp);
    for (let img = 0; img < n; img += chunk) {
      const m = Math.min(chunk, n - img);
      const tp = roundUp(m * th * tw, 4);
      this.k.winogradInput(xsp + img * hs * ws * c * 4, m, hs, ws, c, th, tw, tp, wb.vp);
      if (wb.tableFor !== tp) {
        this.k.positions(wb.table, tp, 1, 1, 1, 1, 1, 1, c, tp);
        wb.tableFor = tp;
      }
      this.k.winogradGradTiles(gp + img * oh * ow * ocp * 4, m, oh, ow, th, tw, tp, ocp, wb.mp);
      for (let xi = 0; xi < 16; xi++) {
        this.k.convWeightGrad(wb.vp + xi * tp * c * 4, wb.table, tp, wb.mp + xi * tp * ocp * 4, taps, c, wb.up + xi * c * ocp * 4, ocp);
      }
    }
    this.k.winogradWeightGrad(wb.up, c, ocp, dwp);
  }

  /**
   * dx of a 3×3 stride-1 convolution as a Winograd forward: dx (N, H, W, C) is the 3×3 correlation
   * of dout shifted by (2 − padTop, 2 − padLeft) into (N, H + 2, W + 2, OC) zeros with the weight
   * flipped and its channels swapped (flipWeights). Called from convBackward after its own buffers,
   * so it takes its scratch above them: dout (gp, masked by the ReLU already) stays where it is.
   */
  private inputGradWinograd(s: ConvShape, gp: Ptr, wp: Ptr, dx: FloatArray): void {
    const { n, h, w, c, oc, oh, ow } = s;
    const ocp = roundUp(oc, 4); // = oc: winogradFitsInputGrad asks OC to be a multiple of 4
    const cp = roundUp(c, 4);
    const hs = h + 2, ws = w + 2;
    const chunk = WasmKernels.chunkImages(n, hs * ws * oc + winogradFloatsPerImage(h, w, oc, cp), WINOGRAD_CHUNK_FLOATS);
    const dpad = this.take(n * hs * ws * oc);
    const flipped = this.take(9 * oc * cp);
    const op = this.take(chunk * h * w * cp);
    const wb = this.takeWinograd(chunk, h, w, oc, cp);
    this.commit();
    this.k.padInput(gp, n, oh, ow, oc, hs, ws, 2 - s.padTop, 2 - s.padLeft, dpad);
    this.k.flipWeights(wp, c, oc, ocp, cp, flipped);
    this.k.winogradWeights(flipped, oc, cp, wb.up);
    const inImage = h * w * c;
    for (let img = 0; img < n; img += chunk) {
      const m = Math.min(chunk, n - img);
      this.winogradChunk(wb, dpad + img * hs * ws * oc * 4, m, hs, ws, oc, h, w, cp, wb.zero, op, false);
      if (cp !== c) this.k.unpadChannels(op, op, m * h * w, c, cp);
      this.get(op, m * inImage, dx, img * inImage);
    }
  }
}

/** A dense layer's geometry: N 1×1 images through a 1×1 kernel (denseShape). */
const isDense = (s: ConvShape): boolean =>
  s.h === 1 && s.w === 1 && s.kh === 1 && s.kw === 1 && s.oh === 1 && s.ow === 1 && s.padTop === 0 && s.padLeft === 0;

/**
 * Whether a convolution's forward takes the Winograd F(2×2, 3×3) path: 3×3, stride 1, and channels
 * in groups of 4 with enough of them (≥ 8) that the 16 products, not the transforms, are the work.
 */
export function winogradFits(s: ConvShape): boolean {
  return s.kh === 3 && s.kw === 3 && s.sh === 1 && s.sw === 1 && s.c % 4 === 0 && s.c >= 8;
}

/**
 * The backward passes take it only with ≥ 32 channels in and out: their 16 products are C×OC
 * reductions over the tiles, which need that much to beat the direct kernels (measured: the bigger
 * net's second conv, 32 → 64, backward 8.4 → 5.7 ms; the reference net's, 16 → 32, 1.6 → 1.9 ms).
 */
export function winogradFitsWeightGrad(s: ConvShape): boolean {
  return winogradFits(s) && s.c >= 32 && s.oc >= 32;
}

/** The input gradient is a forward convolution with OC channels in: OC in groups of 4, padding ≤ 2. */
export function winogradFitsInputGrad(s: ConvShape): boolean {
  return s.kh === 3 && s.kw === 3 && s.sh === 1 && s.sw === 1 && s.oc % 4 === 0 && s.c >= 32 && s.oc >= 32 && s.padTop <= 2 && s.padLeft <= 2;
}

/** Floats a Winograd convolution's scratch holds per image: V and M (16 cells of every tile) and the output. */
function winogradFloatsPerImage(oh: number, ow: number, cin: number, ocp: number): number {
  return 16 * Math.ceil(oh / 2) * Math.ceil(ow / 2) * (cin + ocp) + oh * ow * ocp;
}

/** A pooled batch-norm backward's rows (M), the pool's output length and their buffers. */
interface PooledBackward {
  rows: number; m: number; xp: Ptr; gp: Ptr; pdp: Ptr; pap: Ptr;
}

/** The max pool after a conv, for a fused forward: its geometry and where its outputs go. */
interface PoolAfter {
  shape: PoolShape; pooled: FloatArray; argmax: Int32Array;
}

/** A max pool's gradient at its output and its forward's outputs (m of each), for a fused backward. */
interface PooledGradient {
  dout: FloatArray; argmax: Int32Array; pooled: FloatArray; m: number;
}

interface WinogradBuffers {
  /** transformed weights (16, CIN, OCP), a zero bias (OCP), the tiles' row table (TP), V (16, TP, CIN), M (16, TP, OCP) */
  up: Ptr; zero: Ptr; table: Ptr; vp: Ptr; mp: Ptr;
  /** the TP the table and zero bias were last written for (−1: not yet) */
  tableFor: number;
}

/**
 * Adam's moments in an instance of their own whose memory is laid out once — values, grads, m, v,
 * each `size` floats — and never grows, so `m` and `v` stay valid views for the trainer state and a
 * step copies only the weights in and out and the gradients in (the moments are 2 of its 5 buffers).
 * A float64 model's buffers take the reference loop over the same moments.
 */
class WasmAdamUpdate implements AdamUpdate {
  readonly m: Float32Array;
  readonly v: Float32Array;
  private readonly k: KernelExports;
  private readonly f32: Float32Array;
  private readonly at: { values: Ptr; grads: Ptr; m: Ptr; v: Ptr };
  /** The updated weights, copied out each step. */
  private readonly updated: Float32Array;

  constructor(module: WebAssembly.Module, private readonly size: number) {
    this.k = new WebAssembly.Instance(module, {}).exports as unknown as KernelExports;
    const bytes = roundUp(size * 4, 16);
    const base = roundUp(Math.max(64, this.k.heapBase()), 16);
    this.at = { values: base, grads: base + bytes, m: base + 2 * bytes, v: base + 3 * bytes };
    const top = base + 4 * bytes;
    const have = this.k.memory.buffer.byteLength;
    if (top > have) this.k.memory.grow(Math.ceil((top - have) / PAGE));
    this.f32 = new Float32Array(this.k.memory.buffer);
    this.m = this.f32.subarray(this.at.m >> 2, (this.at.m >> 2) + size);
    this.v = this.f32.subarray(this.at.v >> 2, (this.at.v >> 2) + size);
    this.updated = this.f32.subarray(this.at.values >> 2, (this.at.values >> 2) + size);
  }

  step(values: FloatArray, grads: FloatArray, c: AdamCoefficients): void {
    if (!(values instanceof Float32Array) || !(grads instanceof Float32Array)) {
      adamStep(values, grads, this.m, this.v, c);
      return;
    }
    const n = this.size;
    if (values.length !== n || grads.length !== n) throw new RangeError(`Adam holds moments for ${n} parameters, got ${values.length} weights and ${grads.length} gradients`);
    const { at, f32 } = this;
    f32.set(values, at.values >> 2);
    f32.set(grads, at.grads >> 2);
    this.k.adamStep(at.values, at.grads, at.m, at.v, n, c.b1, c.b2, c.l2, c.decay, c.stepSize, c.sqrtBc2, c.eps);
    values.set(this.updated);
  }
}

/**
 * A fresh kernel set with its own WebAssembly instance and memory: the given variant, or the
 * fastest this engine runs. Throws WasmUnavailableError when it cannot run (no SIMD at all).
 */
export function createWasmKernels(variant?: WasmVariant): FastKernels {
  const chosen = variant ?? wasmVariants()[0];
  const module = chosen ? kernelModule(chosen) : null;
  if (!chosen || !module) {
    throw new WasmUnavailableError(`the fast kernels need WebAssembly ${variant === 'relaxed-simd' ? 'relaxed SIMD' : 'SIMD'}, which this JavaScript engine does not support; use the reference kernels`);
  }
  return new WasmKernels(chosen, module);
}

let shared: FastKernels | null = null;

/** The shared fast kernel set of this thread, created on first use. Throws WasmUnavailableError without SIMD. */
export function fastKernels(): FastKernels {
  shared ??= createWasmKernels();
  return shared;
}
