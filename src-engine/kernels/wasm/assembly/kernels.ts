/**
 * The fast kernels, in AssemblyScript, compiled to WebAssembly with 128-bit SIMD
 * (`npm run build:wasm` → ../kernels.wasm.ts). This file is AssemblyScript, not TypeScript: the
 * project's tsconfig excludes this folder.
 *
 * Every pointer is a byte address in linear memory; the loader (../index.ts) lays the buffers out,
 * copies the caller's arrays in and the results out. Nothing here allocates.
 *
 * One convolution serves conv2d and dense (dense is a 1×1 convolution over a 1×1 image with C = IN).
 * It is an implicit GEMM over P = N·OH·OW output positions, K = KH·KW·C taps and OC channels:
 *   xs    (N, HS, WS, C)   the input, zero-padded when the geometry needs it
 *   table (PP)             byte offset in xs of each position's top-left tap; PP = P rounded up to 4,
 *                          the extra positions point at 0 and their dout rows are zero
 *   taps  (KP)             byte offset of each tap relative to the position: ((u·WS + v)·C + ci)·4;
 *                          extra taps point at 0 and their weights are zero
 *   wgt   (K, OCP)         the weight (KH, KW, C, OC) with OC padded to OCP, a multiple of 4
 *   out / dout (PP, OCP)   channel fastest, like NHWC
 * Register blocking: 4 positions × 8 channels = 8 f32x4 accumulators, which fits the 16 SIMD
 * registers of x86-64 with room for the weights and the broadcast input.
 */

// ---- layout helpers ----------------------------------------------------------------------------

/** The first byte after the module's static data (Mathf.exp's tables): the loader's buffers start
 *  above it. */
export function heapBase(): usize {
  return __heap_base;
}

/** src (rows, c) → dst (rows, cp), the extra channels zero. src and dst must not overlap. */
export function padChannels(src: usize, dst: usize, rows: i32, c: i32, cp: i32): void {
  const cb = <usize>c << 2;
  const cpb = <usize>cp << 2;
  for (let r = 0; r < rows; r++) {
    memory.copy(dst + <usize>r * cpb, src + <usize>r * cb, cb);
    memory.fill(dst + <usize>r * cpb + cb, 0, cpb - cb);
  }
}

/** src (rows, cp) → dst (rows, c); dst may equal src (each row moves down, never over a later one). */
export function unpadChannels(src: usize, dst: usize, rows: i32, c: i32, cp: i32): void {
  const cb = <usize>c << 2;
  const cpb = <usize>cp << 2;
  for (let r = 0; r < rows; r++) memory.copy(dst + <usize>r * cb, src + <usize>r * cpb, cb);
}

/** x (N, H, W, C) → dst (N, HS, WS, C) with x placed at (padTop, padLeft); the rest zero. */
export function padInput(x: usize, n: i32, h: i32, w: i32, c: i32, hs: i32, ws: i32,
  padTop: i32, padLeft: i32, dst: usize): void {
  memory.fill(dst, 0, <usize>n * hs * ws * c << 2);
  const count = min(ws, padLeft + w) - padLeft;
  if (count <= 0) return;
  const bytes = <usize>(count * c) << 2;
  for (let img = 0; img < n; img++) {
    for (let ys = 0; ys < hs; ys++) {
      const iy = ys - padTop;
      if (iy < 0 || iy >= h) continue;
      memory.copy(dst + (<usize>((img * hs + ys) * ws + padLeft) * c << 2), x + (<usize>(img * h + iy) * w * c << 2), bytes);
    }
  }
}

/** The inverse of padInput for gradients: src (N, HS, WS, C) → dx (N, H, W, C); cells outside src are 0. */
export function cropInput(src: usize, n: i32, h: i32, w: i32, c: i32, hs: i32, ws: i32,
  padTop: i32, padLeft: i32, dx: usize): void {
  memory.fill(dx, 0, <usize>n * h * w * c << 2);
  const count = min(ws, padLeft + w) - padLeft;
  if (count <= 0) return;
  const bytes = <usize>(count * c) << 2;
  for (let img = 0; img < n; img++) {
    for (let ys = 0; ys < hs; ys++) {
      const iy = ys - padTop;
      if (iy < 0 || iy >= h) continue;
      memory.copy(dx + (<usize>(img * h + iy) * w * c << 2), src + (<usize>((img * hs + ys) * ws + padLeft) * c << 2), bytes);
    }
  }
}

/** table (PP): byte offset in xs (N, HS, WS, C) of each output position's first tap; extras 0. */
export function positions(table: usize, n: i32, oh: i32, ow: i32, sh: i32, sw: i32, hs: i32, ws: i32, c: i32, pp: i32): void {
  let p = 0;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        store<i32>(table + (<usize>p << 2), ((img * hs + oy * sh) * ws + ox * sw) * c << 2);
        p++;
      }
    }
  }
  for (; p < pp; p++) store<i32>(table + (<usize>p << 2), 0);
}

/** taps (KP): byte offset of tap (u, v, ci) relative to a position, ((u·WS + v)·C + ci)·4; extras 0. */
export function tapOffsets(taps: usize, kh: i32, kw: i32, c: i32, ws: i32, kp: i32): void {
  let t = 0;
  for (let u = 0; u < kh; u++) {
    for (let v = 0; v < kw; v++) {
      for (let ci = 0; ci < c; ci++) {
        store<i32>(taps + (<usize>t << 2), ((u * ws + v) * c + ci) << 2);
        t++;
      }
    }
  }
  for (; t < kp; t++) store<i32>(taps + (<usize>t << 2), 0);
}

/** wgt (K, OCP) → wt (OC, KP), the extra taps zero: the weight seen from the output side. */
export function transposeWeights(wgt: usize, k: i32, oc: i32, ocp: i32, kp: i32, wt: usize): void {
  for (let co = 0; co < oc; co++) {
    const row = wt + (<usize>(co * kp) << 2);
    for (let t = 0; t < k; t++) store<f32>(row + (<usize>t << 2), load<f32>(wgt + (<usize>(t * ocp + co) << 2)));
    for (let t = k; t < kp; t++) store<f32>(row + (<usize>t << 2), 0);
  }
}

/** acc + a·b: one fused multiply-add where the engine has relaxed SIMD (built twice, see build.ts). */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

// ---- convolution -------------------------------------------------------------------------------

/**
 * out (PP, OCP) = bias + Σ_taps xs[table[p] + tap] · wgt[tap, :], overwritten.
 * The taps of one kernel row (u) are KW·C contiguous floats of xs, so the inner loop walks them
 * with one pointer per position instead of a tap table.
 */
export function convForward(xs: usize, table: usize, pp: i32, wgt: usize, bias: usize, out: usize,
  kh: i32, kwc: i32, rowBytes: i32, ocp: i32, relu: bool): void {
  const wStride = <usize>ocp << 2;
  const zero = f32x4.splat(0);
  const rowLen = <usize>kwc << 2;
  for (let p = 0; p < pp; p += 4) {
    const tp = table + (<usize>p << 2);
    const r0 = xs + <usize>load<i32>(tp);
    const r1 = xs + <usize>load<i32>(tp, 4);
    const r2 = xs + <usize>load<i32>(tp, 8);
    const r3 = xs + <usize>load<i32>(tp, 12);
    const o0 = out + <usize>p * wStride;
    const o1 = o0 + wStride;
    const o2 = o1 + wStride;
    const o3 = o2 + wStride;
    let cb: usize = 0;
    for (; cb + 32 <= wStride; cb += 32) {
      const b0 = v128.load(bias + cb);
      const b1 = v128.load(bias + cb, 16);
      let a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
      let wp = wgt + cb;
      for (let u = 0; u < kh; u++) {
        const ro = <usize>(u * rowBytes);
        const x0 = r0 + ro, x1 = r1 + ro, x2 = r2 + ro, x3 = r3 + ro;
        for (let j: usize = 0; j < rowLen; j += 4) {
          const w0 = v128.load(wp);
          const w1 = v128.load(wp, 16);
          let s = v128.load32_splat(x0 + j);
          a00 = madd(s, w0, a00);
          a01 = madd(s, w1, a01);
          s = v128.load32_splat(x1 + j);
          a10 = madd(s, w0, a10);
          a11 = madd(s, w1, a11);
          s = v128.load32_splat(x2 + j);
          a20 = madd(s, w0, a20);
          a21 = madd(s, w1, a21);
          s = v128.load32_splat(x3 + j);
          a30 = madd(s, w0, a30);
          a31 = madd(s, w1, a31);
          wp += wStride;
        }
      }
      if (relu) {
        // pmax(0, v) = 0 < v ? v : 0, the reference's ReLU exactly (NaN → 0, −0 → 0)
        a00 = f32x4.pmax(zero, a00); a01 = f32x4.pmax(zero, a01); a10 = f32x4.pmax(zero, a10); a11 = f32x4.pmax(zero, a11);
        a20 = f32x4.pmax(zero, a20); a21 = f32x4.pmax(zero, a21); a30 = f32x4.pmax(zero, a30); a31 = f32x4.pmax(zero, a31);
      }
      v128.store(o0 + cb, a00); v128.store(o0 + cb, a01, 16);
      v128.store(o1 + cb, a10); v128.store(o1 + cb, a11, 16);
      v128.store(o2 + cb, a20); v128.store(o2 + cb, a21, 16);
      v128.store(o3 + cb, a30); v128.store(o3 + cb, a31, 16);
    }
    if (cb < wStride) {
      // the last 4 channels when OCP is not a multiple of 8
      const b0 = v128.load(bias + cb);
      let a0 = b0, a1 = b0, a2 = b0, a3 = b0;
      let wp = wgt + cb;
      for (let u = 0; u < kh; u++) {
        const ro = <usize>(u * rowBytes);
        const x0 = r0 + ro, x1 = r1 + ro, x2 = r2 + ro, x3 = r3 + ro;
        for (let j: usize = 0; j < rowLen; j += 4) {
          const w0 = v128.load(wp);
          a0 = madd(v128.load32_splat(x0 + j), w0, a0);
          a1 = madd(v128.load32_splat(x1 + j), w0, a1);
          a2 = madd(v128.load32_splat(x2 + j), w0, a2);
          a3 = madd(v128.load32_splat(x3 + j), w0, a3);
          wp += wStride;
        }
      }
      if (relu) {
        a0 = f32x4.pmax(zero, a0); a1 = f32x4.pmax(zero, a1); a2 = f32x4.pmax(zero, a2); a3 = f32x4.pmax(zero, a3);
      }
      v128.store(o0 + cb, a0);
      v128.store(o1 + cb, a1);
      v128.store(o2 + cb, a2);
      v128.store(o3 + cb, a3);
    }
  }
}

/** g (count) = activated > 0 ? g : 0 in place: the ReLU's backward, from the ReLU's output. */
export function reluMask(g: usize, activated: usize, count: i32): void {
  const zero = f32x4.splat(0);
  const end = <usize>count << 2;
  let i: usize = 0;
  for (; i + 16 <= end; i += 16) {
    v128.store(g + i, v128.and(v128.load(g + i), f32x4.gt(v128.load(activated + i), zero)));
  }
  for (; i < end; i += 4) {
    if (!(load<f32>(activated + i) > 0)) store<f32>(g + i, 0);
  }
}

/** Positions per pass of the weight gradient: dout and xs of one chunk stay in L1/L2. */
const CHUNK = 128;

/**
 * dw (K, OCP) += Σ_p xs[table[p] + taps[t]] · dout[p, :], accumulated. Blocks of 4 taps × 8
 * channels keep their sums in registers across a chunk of positions; the last K mod 4 taps go one
 * at a time across 16 channels (a 3×3 kernel on one channel has 9 taps: a fourth block of 1 real tap
 * and 3 dummies cost as much as a full one). Each sum runs over the positions in the same order
 * either way.
 */
export function convWeightGrad(xs: usize, table: usize, pp: i32, dout: usize, taps: usize, k: i32, dw: usize, ocp: i32): void {
  const gStride = <usize>ocp << 2;
  const kFull = k & ~3;
  for (let c0 = 0; c0 < pp; c0 += CHUNK) {
    const c1 = min(pp, c0 + CHUNK);
    for (let t = kFull; t < k; t++) weightGradTap(xs, table, c0, c1, dout, gStride, <usize>load<i32>(taps + (<usize>t << 2)), dw + <usize>t * gStride);
    for (let tb = 0; tb < kFull; tb += 4) {
      const tt = taps + (<usize>tb << 2);
      const t0 = <usize>load<i32>(tt);
      const t1 = <usize>load<i32>(tt, 4);
      const t2 = <usize>load<i32>(tt, 8);
      const t3 = <usize>load<i32>(tt, 12);
      const d0 = dw + <usize>tb * gStride;
      const d1 = d0 + gStride;
      const d2 = d1 + gStride;
      const d3 = d2 + gStride;
      let cb: usize = 0;
      for (; cb + 32 <= gStride; cb += 32) {
        let a00 = f32x4.splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        let tp = table + (<usize>c0 << 2);
        let gp = dout + <usize>c0 * gStride + cb;
        for (let p = c0; p < c1; p++) {
          const xb = xs + <usize>load<i32>(tp);
          const g0 = v128.load(gp);
          const g1 = v128.load(gp, 16);
          let s = v128.load32_splat(xb + t0);
          a00 = madd(s, g0, a00);
          a01 = madd(s, g1, a01);
          s = v128.load32_splat(xb + t1);
          a10 = madd(s, g0, a10);
          a11 = madd(s, g1, a11);
          s = v128.load32_splat(xb + t2);
          a20 = madd(s, g0, a20);
          a21 = madd(s, g1, a21);
          s = v128.load32_splat(xb + t3);
          a30 = madd(s, g0, a30);
          a31 = madd(s, g1, a31);
          tp += 4;
          gp += gStride;
        }
        v128.store(d0 + cb, f32x4.add(v128.load(d0 + cb), a00));
        v128.store(d0 + cb, f32x4.add(v128.load(d0 + cb, 16), a01), 16);
        v128.store(d1 + cb, f32x4.add(v128.load(d1 + cb), a10));
        v128.store(d1 + cb, f32x4.add(v128.load(d1 + cb, 16), a11), 16);
        v128.store(d2 + cb, f32x4.add(v128.load(d2 + cb), a20));
        v128.store(d2 + cb, f32x4.add(v128.load(d2 + cb, 16), a21), 16);
        v128.store(d3 + cb, f32x4.add(v128.load(d3 + cb), a30));
        v128.store(d3 + cb, f32x4.add(v128.load(d3 + cb, 16), a31), 16);
      }
      if (cb < gStride) {
        let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
        let tp = table + (<usize>c0 << 2);
        let gp = dout + <usize>c0 * gStride + cb;
        for (let p = c0; p < c1; p++) {
          const xb = xs + <usize>load<i32>(tp);
          const g0 = v128.load(gp);
          a0 = madd(v128.load32_splat(xb + t0), g0, a0);
          a1 = madd(v128.load32_splat(xb + t1), g0, a1);
          a2 = madd(v128.load32_splat(xb + t2), g0, a2);
          a3 = madd(v128.load32_splat(xb + t3), g0, a3);
          tp += 4;
          gp += gStride;
        }
        v128.store(d0 + cb, f32x4.add(v128.load(d0 + cb), a0));
        v128.store(d1 + cb, f32x4.add(v128.load(d1 + cb), a1));
        v128.store(d2 + cb, f32x4.add(v128.load(d2 + cb), a2));
        v128.store(d3 + cb, f32x4.add(v128.load(d3 + cb), a3));
      }
    }
  }
}

/** One tap's row of dw (OCP) += Σ_{p in [c0, c1)} xs[table[p] + tap] · dout[p, :]: 16 channels at a time, then 4. */
// @ts-ignore: decorator
@inline function weightGradTap(xs: usize, table: usize, c0: i32, c1: i32, dout: usize, gStride: usize, tap: usize, d: usize): void {
  let cb: usize = 0;
  for (; cb + 64 <= gStride; cb += 64) {
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    let tp = table + (<usize>c0 << 2);
    let gp = dout + <usize>c0 * gStride + cb;
    for (let p = c0; p < c1; p++) {
      const s = v128.load32_splat(xs + <usize>load<i32>(tp) + tap);
      a0 = madd(s, v128.load(gp), a0);
      a1 = madd(s, v128.load(gp, 16), a1);
      a2 = madd(s, v128.load(gp, 32), a2);
      a3 = madd(s, v128.load(gp, 48), a3);
      tp += 4;
      gp += gStride;
    }
    v128.store(d + cb, f32x4.add(v128.load(d + cb), a0));
    v128.store(d + cb, f32x4.add(v128.load(d + cb, 16), a1), 16);
    v128.store(d + cb, f32x4.add(v128.load(d + cb, 32), a2), 32);
    v128.store(d + cb, f32x4.add(v128.load(d + cb, 48), a3), 48);
  }
  for (; cb < gStride; cb += 16) {
    let a0 = f32x4.splat(0);
    let tp = table + (<usize>c0 << 2);
    let gp = dout + <usize>c0 * gStride + cb;
    for (let p = c0; p < c1; p++) {
      a0 = madd(v128.load32_splat(xs + <usize>load<i32>(tp) + tap), v128.load(gp), a0);
      tp += 4;
      gp += gStride;
    }
    v128.store(d + cb, f32x4.add(v128.load(d + cb), a0));
  }
}

/** db (OCP) += Σ_p dout[p, :]. */
export function convBiasGrad(dout: usize, pp: i32, ocp: i32, db: usize): void {
  const stride = <usize>ocp << 2;
  for (let cb: usize = 0; cb < stride; cb += 16) {
    let a = v128.load(db + cb);
    let gp = dout + cb;
    for (let p = 0; p < pp; p++) {
      a = f32x4.add(a, v128.load(gp));
      gp += stride;
    }
    v128.store(db + cb, a);
  }
}

/** dxs[r + taps[t..t+3]] += v: one vector store when the 4 taps are adjacent floats, else per lane. */
// @ts-ignore: decorator
@inline function scatterAdd(r: usize, tt: usize, v: v128): void {
  const t0 = load<i32>(tt);
  if (load<i32>(tt, 12) - t0 == 12) {
    const a = r + <usize>t0;
    v128.store(a, f32x4.add(v128.load(a), v));
  } else {
    let a = r + <usize>t0;
    store<f32>(a, load<f32>(a) + f32x4.extract_lane(v, 0));
    a = r + <usize>load<i32>(tt, 4);
    store<f32>(a, load<f32>(a) + f32x4.extract_lane(v, 1));
    a = r + <usize>load<i32>(tt, 8);
    store<f32>(a, load<f32>(a) + f32x4.extract_lane(v, 2));
    a = r + <usize>load<i32>(tt, 12);
    store<f32>(a, load<f32>(a) + f32x4.extract_lane(v, 3));
  }
}

/**
 * dxs (N, HS, WS, C) = Σ_p Σ_t scatter of dout[p, :] · wt[:, t], overwritten (dxs is zeroed first).
 * wt is (OC, KP) with KP a multiple of 8: blocks of 4 positions × 8 taps, summed over the channels,
 * then added into dxs at each position's taps.
 */
export function convInputGrad(dout: usize, table: usize, pp: i32, wt: usize, taps: usize, kp: i32, oc: i32, ocp: i32,
  dxs: usize, dxsBytes: usize): void {
  memory.fill(dxs, 0, dxsBytes);
  const gStride = <usize>ocp << 2;
  const wStride = <usize>kp << 2;
  const ocb = <usize>oc << 2;
  for (let p = 0; p < pp; p += 4) {
    const tp = table + (<usize>p << 2);
    const r0 = dxs + <usize>load<i32>(tp);
    const r1 = dxs + <usize>load<i32>(tp, 4);
    const r2 = dxs + <usize>load<i32>(tp, 8);
    const r3 = dxs + <usize>load<i32>(tp, 12);
    const g0 = dout + <usize>p * gStride;
    const g1 = g0 + gStride;
    const g2 = g1 + gStride;
    const g3 = g2 + gStride;
    for (let tb: usize = 0; tb < wStride; tb += 32) {
      let a00 = f32x4.splat(0), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
      let wp = wt + tb;
      for (let co: usize = 0; co < ocb; co += 4) {
        const w0 = v128.load(wp);
        const w1 = v128.load(wp, 16);
        let s = v128.load32_splat(g0 + co);
        a00 = madd(s, w0, a00);
        a01 = madd(s, w1, a01);
        s = v128.load32_splat(g1 + co);
        a10 = madd(s, w0, a10);
        a11 = madd(s, w1, a11);
        s = v128.load32_splat(g2 + co);
        a20 = madd(s, w0, a20);
        a21 = madd(s, w1, a21);
        s = v128.load32_splat(g3 + co);
        a30 = madd(s, w0, a30);
        a31 = madd(s, w1, a31);
        wp += wStride;
      }
      const tt = taps + tb;
      scatterAdd(r0, tt, a00); scatterAdd(r0, tt + 16, a01);
      scatterAdd(r1, tt, a10); scatterAdd(r1, tt + 16, a11);
      scatterAdd(r2, tt, a20); scatterAdd(r2, tt + 16, a21);
      scatterAdd(r3, tt, a30); scatterAdd(r3, tt + 16, a31);
    }
  }
}

/**
 * da (N, K) = dz (N, OCP) · wᵀ with w (K, OCP), overwritten: a dense layer's input gradient as dot
 * products along the output units, where both operands are contiguous, so the weight needs no
 * transposed copy (convInputGrad's, 1.6 MB a step for a 3136 → 128 layer, and its scatter). Blocks
 * of 2 rows × 4 inputs keep 8 sums over 4-unit lanes; each row's 4 then fold into one vector of
 * 4 inputs. N even and K a multiple of 4 (the caller pads both with zeros), OCP's padding zero.
 */
export function denseInputGrad(dz: usize, n: i32, w: usize, k: i32, ocp: i32, da: usize): void {
  const rowBytes = <usize>ocp << 2;
  const daStride = <usize>k << 2;
  for (let p = 0; p < n; p += 2) {
    const g0 = dz + <usize>p * rowBytes;
    const g1 = g0 + rowBytes;
    const d0 = da + <usize>p * daStride;
    const d1 = d0 + daStride;
    for (let t = 0; t < k; t += 4) {
      const w0 = w + <usize>t * rowBytes;
      const w1 = w0 + rowBytes;
      const w2 = w1 + rowBytes;
      const w3 = w2 + rowBytes;
      let a00 = f32x4.splat(0), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
      for (let o: usize = 0; o < rowBytes; o += 16) {
        const x0 = v128.load(g0 + o);
        const x1 = v128.load(g1 + o);
        let v = v128.load(w0 + o);
        a00 = madd(x0, v, a00);
        a10 = madd(x1, v, a10);
        v = v128.load(w1 + o);
        a01 = madd(x0, v, a01);
        a11 = madd(x1, v, a11);
        v = v128.load(w2 + o);
        a02 = madd(x0, v, a02);
        a12 = madd(x1, v, a12);
        v = v128.load(w3 + o);
        a03 = madd(x0, v, a03);
        a13 = madd(x1, v, a13);
      }
      v128.store(d0 + (<usize>t << 2), fold4(a00, a01, a02, a03));
      v128.store(d1 + (<usize>t << 2), fold4(a10, a11, a12, a13));
    }
  }
}

/** [Σa, Σb, Σc, Σd] of four vectors' lanes: a 4 × 4 transpose folded into the adds. */
// @ts-ignore: decorator
@inline function fold4(a: v128, b: v128, c: v128, d: v128): v128 {
  // [a0+a2, b0+b2, a1+a3, b1+b3] and the same of c, d
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

// ---- max pooling -------------------------------------------------------------------------------

/**
 * x (N, H, W, C) → out (N, OH, OW, C), argmax (N, OH, OW, C) = indexBase + index into x of the first
 * maximum in row-major window order (strict >, so a later equal value never wins; the first tap
 * always does). indexBase places a chunk of images in its batch. Four channels at a time when C is
 * a multiple of 4.
 */
export function maxpoolForward(x: usize, n: i32, h: i32, w: i32, c: i32, ph: i32, pw: i32, sh: i32, sw: i32,
  oh: i32, ow: i32, out: usize, argmax: usize, indexBase: i32): void {
  const iota = i32x4(0, 1, 2, 3);
  let o: usize = 0;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const first = ((img * h + oy * sh) * w + ox * sw) * c;
        let ci = 0;
        for (; ci + 4 <= c; ci += 4) {
          let best = v128.load(x + (<usize>(first + ci) << 2));
          let at = i32x4.add(i32x4.splat(first + ci), iota);
          for (let u = 0; u < ph; u++) {
            for (let v = u == 0 ? 1 : 0; v < pw; v++) {
              const e = first + (u * w + v) * c + ci;
              const val = v128.load(x + (<usize>e << 2));
              const m = f32x4.gt(val, best);
              best = v128.bitselect(val, best, m);
              at = v128.bitselect(i32x4.add(i32x4.splat(e), iota), at, m);
            }
          }
          v128.store(out + ((o + <usize>ci) << 2), best);
          v128.store(argmax + ((o + <usize>ci) << 2), i32x4.add(at, i32x4.splat(indexBase)));
        }
        for (; ci < c; ci++) {
          let best = load<f32>(x + (<usize>(first + ci) << 2));
          let at = first + ci;
          for (let u = 0; u < ph; u++) {
            for (let v = u == 0 ? 1 : 0; v < pw; v++) {
              const e = first + (u * w + v) * c + ci;
              const val = load<f32>(x + (<usize>e << 2));
              if (val > best) { best = val; at = e; }
            }
          }
          store<f32>(out + ((o + <usize>ci) << 2), best);
          store<i32>(argmax + ((o + <usize>ci) << 2), at + indexBase);
        }
        o += <usize>c;
      }
    }
  }
}

/** dout (M) → dx (dxLen) = Σ dout[j] at argmax[j], overwritten; overlapping windows accumulate. */
export function maxpoolBackward(dout: usize, argmax: usize, m: i32, dx: usize, dxLen: i32): void {
  memory.fill(dx, 0, <usize>dxLen << 2);
  const end = <usize>m << 2;
  for (let j: usize = 0; j < end; j += 4) {
    const a = dx + (<usize>load<i32>(argmax + j) << 2);
    store<f32>(a, load<f32>(a) + load<f32>(dout + j));
  }
}

/**
 * g (gBytes) = 0, then g (rows, OCP) += dout[j] at argmax[j] where pooled[j] > 0, for j < M: a max
 * pool's backward and the ReLU's before it in one scatter, straight into the conv's padded dout.
 * argmax indexes the compact (rows, OC) ReLU output and pooled[j] is that output at argmax[j], so
 * the mask is the ReLU's own: every window that picks an element sees its value. Branch-free (the
 * mask is a coin flip per element): a masked gradient adds +0 to +0, which leaves the +0 that the
 * ReLU's backward would have written.
 */
export function maxpoolReluScatter(dout: usize, argmax: usize, pooled: usize, m: i32, oc: i32, ocp: i32, g: usize, gBytes: usize): void {
  memory.fill(g, 0, gBytes);
  const end = <usize>m << 2;
  for (let j: usize = 0; j < end; j += 4) {
    let i = load<i32>(argmax + j);
    if (oc != ocp) {
      const row = i / oc;
      i += row * (ocp - oc);
    }
    const keep = -i32(load<f32>(pooled + j) > 0);
    const a = g + (<usize>i << 2);
    store<f32>(a, load<f32>(a) + reinterpret<f32>(reinterpret<i32>(load<f32>(dout + j)) & keep));
  }
}

// ---- average pooling ---------------------------------------------------------------------------

/**
 * x (N, H, W, C) → out (N, OH, OW, C): the mean of each window's cells inside x (the window at
 * (oy·sh − padTop, ox·sw − padLeft)); rows then columns, four channels at a time.
 */
export function avgpoolForward(x: usize, n: i32, h: i32, w: i32, c: i32, ph: i32, pw: i32, sh: i32, sw: i32,
  padTop: i32, padLeft: i32, oh: i32, ow: i32, out: usize): void {
  let o: usize = 0;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = max(0, oy * sh - padTop);
      const y1 = min(h, oy * sh - padTop + ph);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = max(0, ox * sw - padLeft);
        const x1 = min(w, ox * sw - padLeft + pw);
        const inv = <f32>1 / <f32>((y1 - y0) * (x1 - x0));
        const vinv = f32x4.splat(inv);
        let ci = 0;
        for (; ci + 4 <= c; ci += 4) {
          let sum = f32x4.splat(0);
          for (let y = y0; y < y1; y++) {
            for (let xx = x0; xx < x1; xx++) sum = f32x4.add(sum, v128.load(x + (<usize>(((img * h + y) * w + xx) * c + ci) << 2)));
          }
          v128.store(out + ((o + <usize>ci) << 2), f32x4.mul(sum, vinv));
        }
        for (; ci < c; ci++) {
          let sum: f32 = 0;
          for (let y = y0; y < y1; y++) {
            for (let xx = x0; xx < x1; xx++) sum += load<f32>(x + (<usize>(((img * h + y) * w + xx) * c + ci) << 2));
          }
          store<f32>(out + ((o + <usize>ci) << 2), sum * inv);
        }
        o += <usize>c;
      }
    }
  }
}

/** dout (N, OH, OW, C) → dx (N, H, W, C), overwritten: each window adds dout / cells to its cells. */
export function avgpoolBackward(dout: usize, n: i32, h: i32, w: i32, c: i32, ph: i32, pw: i32, sh: i32, sw: i32,
  padTop: i32, padLeft: i32, oh: i32, ow: i32, dx: usize): void {
  memory.fill(dx, 0, <usize>(n * h * w * c) << 2);
  let o: usize = 0;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = max(0, oy * sh - padTop);
      const y1 = min(h, oy * sh - padTop + ph);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = max(0, ox * sw - padLeft);
        const x1 = min(w, ox * sw - padLeft + pw);
        const inv = <f32>1 / <f32>((y1 - y0) * (x1 - x0));
        let ci = 0;
        for (; ci + 4 <= c; ci += 4) {
          const g = f32x4.mul(v128.load(dout + ((o + <usize>ci) << 2)), f32x4.splat(inv));
          for (let y = y0; y < y1; y++) {
            for (let xx = x0; xx < x1; xx++) {
              const p = dx + (<usize>(((img * h + y) * w + xx) * c + ci) << 2);
              v128.store(p, f32x4.add(v128.load(p), g));
            }
          }
        }
        for (; ci < c; ci++) {
          const g = load<f32>(dout + ((o + <usize>ci) << 2)) * inv;
          for (let y = y0; y < y1; y++) {
            for (let xx = x0; xx < x1; xx++) {
              const p = dx + (<usize>(((img * h + y) * w + xx) * c + ci) << 2);
              store<f32>(p, load<f32>(p) + g);
            }
          }
        }
        o += <usize>c;
      }
    }
  }
}

// ---- activations -------------------------------------------------------------------------------

// kind: 0 relu, 1 leakyRelu (alpha), 2 tanh, 3 sigmoid — the order of ../index.ts ACTIVATION_CODES

/** z (count) → a = f(z); a may equal z. */
export function activationForward(kind: i32, alpha: f32, z: usize, a: usize, count: i32): void {
  const end = <usize>count << 2;
  let i: usize = 0;
  if (kind <= 1) {
    const zero = f32x4.splat(0);
    const va = f32x4.splat(kind == 0 ? 0 : alpha);
    for (; i + 16 <= end; i += 16) {
      const v = v128.load(z + i);
      v128.store(a + i, v128.bitselect(v, f32x4.mul(v, va), f32x4.gt(v, zero)));
    }
    const s: f32 = kind == 0 ? 0 : alpha;
    for (; i < end; i += 4) {
      const v = load<f32>(z + i);
      store<f32>(a + i, v > 0 ? v : s * v);
    }
    return;
  }
  for (; i < end; i += 4) {
    const v = load<f32>(z + i);
    store<f32>(a + i, kind == 2 ? Mathf.tanh(v) : <f32>1 / (<f32>1 + Mathf.exp(-v)));
  }
}

/** a = f(z), da (count) → dz = da·f'(z) from a alone; dz may equal da. */
export function activationBackward(kind: i32, alpha: f32, a: usize, da: usize, dz: usize, count: i32): void {
  const end = <usize>count << 2;
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  const va = f32x4.splat(kind == 0 ? 0 : alpha);
  let i: usize = 0;
  for (; i + 16 <= end; i += 16) {
    const v = v128.load(a + i);
    const g = v128.load(da + i);
    let r: v128;
    if (kind <= 1) r = v128.bitselect(g, f32x4.mul(g, va), f32x4.gt(v, zero));
    else if (kind == 2) r = f32x4.mul(g, f32x4.sub(one, f32x4.mul(v, v)));
    else r = f32x4.mul(f32x4.mul(g, v), f32x4.sub(one, v));
    v128.store(dz + i, r);
  }
  const s: f32 = kind == 0 ? 0 : alpha;
  for (; i < end; i += 4) {
    const v = load<f32>(a + i);
    const g = load<f32>(da + i);
    let r: f32;
    if (kind <= 1) r = v > 0 ? g : s * g;
    else if (kind == 2) r = g * (<f32>1 - v * v);
    else r = g * v * (<f32>1 - v);
    store<f32>(dz + i, r);
  }
}

// ---- batch normalization -----------------------------------------------------------------------

/*
 * Rows of channels: x (M, C). The sums are f64, accumulated in row order from f32 values widened
 * exactly — the reference's arithmetic, so they agree bit for bit — two channels per f64x2.
 */

// @ts-ignore: decorator
@inline function widenHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
}

/** sum (C, f64) = Σ_rows x, overwritten. */
export function bnSums(x: usize, m: i32, c: i32, sum: usize): void {
  memory.fill(sum, 0, <usize>c << 3);
  for (let r = 0; r < m; r++) {
    const row = x + (<usize>(r * c) << 2);
    let ch = 0;
    for (; ch + 4 <= c; ch += 4) {
      const v = v128.load(row + (<usize>ch << 2));
      const s = sum + (<usize>ch << 3);
      v128.store(s, f64x2.add(v128.load(s), f64x2.promote_low_f32x4(v)));
      v128.store(s + 16, f64x2.add(v128.load(s + 16), widenHigh(v)));
    }
    for (; ch < c; ch++) {
      const s = sum + (<usize>ch << 3);
      store<f64>(s, load<f64>(s) + <f64>load<f32>(row + (<usize>ch << 2)));
    }
  }
}

/** sumSq (C, f64) = Σ_rows (x − mean)², in f64, overwritten. */
export function bnSquares(x: usize, mean: usize, m: i32, c: i32, sumSq: usize): void {
  memory.fill(sumSq, 0, <usize>c << 3);
  for (let r = 0; r < m; r++) {
    const row = x + (<usize>(r * c) << 2);
    let ch = 0;
    for (; ch + 4 <= c; ch += 4) {
      const v = v128.load(row + (<usize>ch << 2));
      const mu = v128.load(mean + (<usize>ch << 2));
      const lo = f64x2.sub(f64x2.promote_low_f32x4(v), f64x2.promote_low_f32x4(mu));
      const hi = f64x2.sub(widenHigh(v), widenHigh(mu));
      const s = sumSq + (<usize>ch << 3);
      v128.store(s, f64x2.add(v128.load(s), f64x2.mul(lo, lo)));
      v128.store(s + 16, f64x2.add(v128.load(s + 16), f64x2.mul(hi, hi)));
    }
    for (; ch < c; ch++) {
      const d = <f64>load<f32>(row + (<usize>ch << 2)) - <f64>load<f32>(mean + (<usize>ch << 2));
      const s = sumSq + (<usize>ch << 3);
      store<f64>(s, load<f64>(s) + d * d);
    }
  }
}

/** out (M, C) = x·scale + shift per channel; out may equal x. */
export function bnAffine(x: usize, scale: usize, shift: usize, m: i32, c: i32, out: usize): void {
  for (let r = 0; r < m; r++) {
    const o = <usize>(r * c) << 2;
    let ch = 0;
    for (; ch + 4 <= c; ch += 4) {
      const b = <usize>ch << 2;
      v128.store(out + o + b, madd(v128.load(x + o + b), v128.load(scale + b), v128.load(shift + b)));
    }
    for (; ch < c; ch++) {
      const b = <usize>ch << 2;
      store<f32>(out + o + b, load<f32>(x + o + b) * load<f32>(scale + b) + load<f32>(shift + b));
    }
  }
}

/** sumDout (C, f64) = Σ dout, sumDoutXc (C, f64) = Σ dout·(x − mean), in f64, overwritten. */
export function bnBackwardSums(x: usize, dout: usize, mean: usize, m: i32, c: i32, sumDout: usize, sumDoutXc: usize): void {
  memory.fill(sumDout, 0, <usize>c << 3);
  memory.fill(sumDoutXc, 0, <usize>c << 3);
  for (let r = 0; r < m; r++) {
    const o = <usize>(r * c) << 2;
    let ch = 0;
    for (; ch + 4 <= c; ch += 4) {
      const b = <usize>ch << 2;
      const g = v128.load(dout + o + b);
      const v = v128.load(x + o + b);
      const mu = v128.load(mean + b);
      const glo = f64x2.promote_low_f32x4(g);
      const ghi = widenHigh(g);
      const s = sumDout + (<usize>ch << 3);
      v128.store(s, f64x2.add(v128.load(s), glo));
      v128.store(s + 16, f64x2.add(v128.load(s + 16), ghi));
      const t = sumDoutXc + (<usize>ch << 3);
      const lo = f64x2.sub(f64x2.promote_low_f32x4(v), f64x2.promote_low_f32x4(mu));
      const hi = f64x2.sub(widenHigh(v), widenHigh(mu));
      v128.store(t, f64x2.add(v128.load(t), f64x2.mul(glo, lo)));
      v128.store(t + 16, f64x2.add(v128.load(t + 16), f64x2.mul(ghi, hi)));
    }
    for (; ch < c; ch++) {
      const b = <usize>ch << 2;
      const g = <f64>load<f32>(dout + o + b);
      const s = sumDout + (<usize>ch << 3);
      store<f64>(s, load<f64>(s) + g);
      const t = sumDoutXc + (<usize>ch << 3);
      store<f64>(t, load<f64>(t) + g * (<f64>load<f32>(x + o + b) - <f64>load<f32>(mean + b)));
    }
  }
}

/** dx (M, C) = (dout − a − (x − mean)·b)·k per channel, overwritten. */
export function bnBackward(x: usize, dout: usize, mean: usize, a: usize, b: usize, k: usize, m: i32, c: i32, dx: usize): void {
  for (let r = 0; r < m; r++) {
    const o = <usize>(r * c) << 2;
    let ch = 0;
    for (; ch + 4 <= c; ch += 4) {
      const q = <usize>ch << 2;
      const centered = f32x4.sub(v128.load(x + o + q), v128.load(mean + q));
      const t = f32x4.sub(f32x4.sub(v128.load(dout + o + q), v128.load(a + q)), f32x4.mul(centered, v128.load(b + q)));
      v128.store(dx + o + q, f32x4.mul(t, v128.load(k + q)));
    }
    for (; ch < c; ch++) {
      const q = <usize>ch << 2;
      const centered = load<f32>(x + o + q) - load<f32>(mean + q);
      store<f32>(dx + o + q, (load<f32>(dout + o + q) - load<f32>(a + q) - centered * load<f32>(b + q)) * load<f32>(k + q));
    }
  }
}

// ---- Adam's update ------------------------------------------------------------------------------

/**
 * values, grads, m, v (count, f32) → values, m, v updated in place: the reference loop's
 * (kernels/adam.ts) f64 operations in its order, four elements at a time in two f64x2 halves, each
 * result stored as f32 — bit for bit the reference. No multiply-add is fused here in either build.
 */
export function adamStep(values: usize, grads: usize, m: usize, v: usize, count: i32,
  b1: f64, b2: f64, l2: f64, decay: f64, stepSize: f64, sqrtBc2: f64, eps: f64): void {
  const c1 = 1 - b1, c2 = 1 - b2;
  const B1 = f64x2.splat(b1), B2 = f64x2.splat(b2), C1 = f64x2.splat(c1), C2 = f64x2.splat(c2);
  const L2 = f64x2.splat(l2), D = f64x2.splat(decay), SS = f64x2.splat(stepSize);
  const S2 = f64x2.splat(sqrtBc2), EPS = f64x2.splat(eps);
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const o = <usize>i << 2;
    const w4 = v128.load(values + o), g4 = v128.load(grads + o), m4 = v128.load(m + o), v4 = v128.load(v + o);
    // lanes 0, 1
    const wl = f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(w4), D)));
    const gl = f64x2.add(f64x2.promote_low_f32x4(g4), f64x2.mul(L2, wl));
    const ml = f64x2.add(f64x2.mul(B1, f64x2.promote_low_f32x4(m4)), f64x2.mul(C1, gl));
    const vl = f64x2.add(f64x2.mul(B2, f64x2.promote_low_f32x4(v4)), f64x2.mul(f64x2.mul(C2, gl), gl));
    const nl = f64x2.sub(wl, f64x2.div(f64x2.mul(SS, ml), f64x2.add(f64x2.div(f64x2.sqrt(vl), S2), EPS)));
    // lanes 2, 3
    const wh = f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(f64x2.mul(widenHigh(w4), D)));
    const gh = f64x2.add(widenHigh(g4), f64x2.mul(L2, wh));
    const mh = f64x2.add(f64x2.mul(B1, widenHigh(m4)), f64x2.mul(C1, gh));
    const vh = f64x2.add(f64x2.mul(B2, widenHigh(v4)), f64x2.mul(f64x2.mul(C2, gh), gh));
    const nh = f64x2.sub(wh, f64x2.div(f64x2.mul(SS, mh), f64x2.add(f64x2.div(f64x2.sqrt(vh), S2), EPS)));
    v128.store(m + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(ml), f32x4.demote_f64x2_zero(mh), 0, 1, 4, 5));
    v128.store(v + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(vl), f32x4.demote_f64x2_zero(vh), 0, 1, 4, 5));
    v128.store(values + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(nl), f32x4.demote_f64x2_zero(nh), 0, 1, 4, 5));
  }
  for (; i < count; i++) {
    const o = <usize>i << 2;
    const w = <f64><f32>(<f64>load<f32>(values + o) * decay);
    const g = <f64>load<f32>(grads + o) + l2 * w;
    const mi = b1 * <f64>load<f32>(m + o) + c1 * g;
    const vi = b2 * <f64>load<f32>(v + o) + c2 * g * g;
    store<f32>(m + o, <f32>mi);
    store<f32>(v + o, <f32>vi);
    store<f32>(values + o, <f32>(w - (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + eps)));
  }
}

// ---- Winograd F(2×2, 3×3) ------------------------------------------------------------------------

/*
 * A 3×3 stride-1 convolution as Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, 2015): each
 * 2×2 block of outputs comes from a 4×4 input tile d with 16 multiplies per (channel, out channel)
 * instead of the direct form's 36:
 *   Y = Aᵀ [ Σ_c (G g Gᵀ) ⊙ (Bᵀ d B) ] A
 *   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],  Aᵀ = [1 1 1 0; 0 1 −1 −1]
 * The sum over channels of the ⊙ is 16 matrix products M[ξ] (TP, OCP) = V[ξ] (TP, C) · U[ξ] (C, OCP),
 * one per tile cell ξ, which convForward computes as 1×1 convolutions. Tiles: TH = ⌈OH/2⌉ × TW =
 * ⌈OW/2⌉ per image, T in all, TP = T rounded up to 4; a tile reading past the input's bottom or
 * right edge reads zeros, and its outputs past OH/OW are not written. Channels go 4 at a time, so C
 * must be a multiple of 4 (the loader checks; other shapes take the direct kernel).
 */

/** wgt (3·3·C, OCP) → u (16, C, OCP) = G g Gᵀ for every (c, oc). */
export function winogradWeights(wgt: usize, c: i32, ocp: i32, u: usize): void {
  const half = f32x4.splat(0.5);
  const row = <usize>ocp << 2;          // bytes per (tap, c) row of wgt
  const tapStride = <usize>c * row;     // bytes per tap of wgt
  const cellStride = <usize>c * row;    // bytes per ξ of u
  for (let ci = 0; ci < c; ci++) {
    for (let ob: usize = 0; ob < row; ob += 16) {
      const base = wgt + <usize>ci * row + ob;
      const g00 = v128.load(base), g01 = v128.load(base + tapStride), g02 = v128.load(base + 2 * tapStride);
      const g10 = v128.load(base + 3 * tapStride), g11 = v128.load(base + 4 * tapStride), g12 = v128.load(base + 5 * tapStride);
      const g20 = v128.load(base + 6 * tapStride), g21 = v128.load(base + 7 * tapStride), g22 = v128.load(base + 8 * tapStride);
      // t = G g (4×3)
      const t00 = g00, t01 = g01, t02 = g02;
      const t10 = f32x4.mul(half, f32x4.add(f32x4.add(g00, g10), g20));
      const t11 = f32x4.mul(half, f32x4.add(f32x4.add(g01, g11), g21));
      const t12 = f32x4.mul(half, f32x4.add(f32x4.add(g02, g12), g22));
      const t20 = f32x4.mul(half, f32x4.add(f32x4.sub(g00, g10), g20));
      const t21 = f32x4.mul(half, f32x4.add(f32x4.sub(g01, g11), g21));
      const t22 = f32x4.mul(half, f32x4.add(f32x4.sub(g02, g12), g22));
      const t30 = g20, t31 = g21, t32 = g22;
      // u = t Gᵀ (4×4), cell ξ = 4·i + j
      const o = u + <usize>ci * row + ob;
      winogradWeightRow(o, cellStride, 0, half, t00, t01, t02);
      winogradWeightRow(o, cellStride, 4, half, t10, t11, t12);
      winogradWeightRow(o, cellStride, 8, half, t20, t21, t22);
      winogradWeightRow(o, cellStride, 12, half, t30, t31, t32);
    }
  }
}

// @ts-ignore: decorator
@inline function winogradWeightRow(o: usize, cellStride: usize, first: i32, half: v128, a: v128, b: v128, c: v128): void {
  v128.store(o + <usize>first * cellStride, a);
  v128.store(o + <usize>(first + 1) * cellStride, f32x4.mul(half, f32x4.add(f32x4.add(a, b), c)));
  v128.store(o + <usize>(first + 2) * cellStride, f32x4.mul(half, f32x4.add(f32x4.sub(a, b), c)));
  v128.store(o + <usize>(first + 3) * cellStride, c);
}

/** d (4 channels) at (y, x) of image img in xs (N, HS, WS, C), or zeros past the bottom/right edge. */
// @ts-ignore: decorator
@inline function tileValue(xs: usize, y: i32, x: i32, hs: i32, ws: i32, cb: usize): v128 {
  if (y >= hs || x >= ws) return f32x4.splat(0);
  return v128.load(xs + (<usize>(y * ws + x) * cb));
}

/**
 * xs (N, HS, WS, C) → v (16, TP, C) = Bᵀ d B for every tile and channel; the TP − T padding tiles are
 * zero. Returns nothing; the loader sizes v.
 */
export function winogradInput(xs: usize, n: i32, hs: i32, ws: i32, c: i32, th: i32, tw: i32, tp: i32, v: usize): void {
  const cb = <usize>c << 2;            // bytes per pixel
  const cellStride = <usize>tp * cb;    // bytes per ξ of v
  const imageBytes = <usize>(hs * ws) * cb;
  let t = 0;
  for (let img = 0; img < n; img++) {
    const image = xs + <usize>img * imageBytes;
    for (let ty = 0; ty < th; ty++) {
      for (let tx = 0; tx < tw; tx++) {
        const y = 2 * ty, x = 2 * tx;
        const edge = y + 4 > hs || x + 4 > ws;
        for (let ch: usize = 0; ch < cb; ch += 16) {
          const p = image + ch;
          let d00: v128, d01: v128, d02: v128, d03: v128, d10: v128, d11: v128, d12: v128, d13: v128;
          let d20: v128, d21: v128, d22: v128, d23: v128, d30: v128, d31: v128, d32: v128, d33: v128;
          if (!edge) {
            const r0 = p + <usize>(y * ws + x) * cb, r1 = r0 + <usize>ws * cb, r2 = r1 + <usize>ws * cb, r3 = r2 + <usize>ws * cb;
            d00 = v128.load(r0); d01 = v128.load(r0 + cb); d02 = v128.load(r0 + 2 * cb); d03 = v128.load(r0 + 3 * cb);
            d10 = v128.load(r1); d11 = v128.load(r1 + cb); d12 = v128.load(r1 + 2 * cb); d13 = v128.load(r1 + 3 * cb);
            d20 = v128.load(r2); d21 = v128.load(r2 + cb); d22 = v128.load(r2 + 2 * cb); d23 = v128.load(r2 + 3 * cb);
            d30 = v128.load(r3); d31 = v128.load(r3 + cb); d32 = v128.load(r3 + 2 * cb); d33 = v128.load(r3 + 3 * cb);
          } else {
            d00 = tileValue(p, y, x, hs, ws, cb); d01 = tileValue(p, y, x + 1, hs, ws, cb);
            d02 = tileValue(p, y, x + 2, hs, ws, cb); d03 = tileValue(p, y, x + 3, hs, ws, cb);
            d10 = tileValue(p, y + 1, x, hs, ws, cb); d11 = tileValue(p, y + 1, x + 1, hs, ws, cb);
            d12 = tileValue(p, y + 1, x + 2, hs, ws, cb); d13 = tileValue(p, y + 1, x + 3, hs, ws, cb);
            d20 = tileValue(p, y + 2, x, hs, ws, cb); d21 = tileValue(p, y + 2, x + 1, hs, ws, cb);
            d22 = tileValue(p, y + 2, x + 2, hs, ws, cb); d23 = tileValue(p, y + 2, x + 3, hs, ws, cb);
            d30 = tileValue(p, y + 3, x, hs, ws, cb); d31 = tileValue(p, y + 3, x + 1, hs, ws, cb);
            d32 = tileValue(p, y + 3, x + 2, hs, ws, cb); d33 = tileValue(p, y + 3, x + 3, hs, ws, cb);
          }
          // r = Bᵀ d (rows)
          const r00 = f32x4.sub(d00, d20), r01 = f32x4.sub(d01, d21), r02 = f32x4.sub(d02, d22), r03 = f32x4.sub(d03, d23);
          const r10 = f32x4.add(d10, d20), r11 = f32x4.add(d11, d21), r12 = f32x4.add(d12, d22), r13 = f32x4.add(d13, d23);
          const r20 = f32x4.sub(d20, d10), r21 = f32x4.sub(d21, d11), r22 = f32x4.sub(d22, d12), r23 = f32x4.sub(d23, d13);
          const r30 = f32x4.sub(d10, d30), r31 = f32x4.sub(d11, d31), r32 = f32x4.sub(d12, d32), r33 = f32x4.sub(d13, d33);
          // v = r B (columns), cell ξ = 4·i + j
          const o = v + <usize>t * cb + ch;
          winogradInputRow(o, cellStride, 0, r00, r01, r02, r03);
          winogradInputRow(o, cellStride, 4, r10, r11, r12, r13);
          winogradInputRow(o, cellStride, 8, r20, r21, r22, r23);
          winogradInputRow(o, cellStride, 12, r30, r31, r32, r33);
        }
        t++;
      }
    }
  }
  for (; t < tp; t++) {
    for (let xi = 0; xi < 16; xi++) memory.fill(v + <usize>xi * cellStride + <usize>t * cb, 0, cb);
  }
}

// @ts-ignore: decorator
@inline function winogradInputRow(o: usize, cellStride: usize, first: i32, a: v128, b: v128, c: v128, d: v128): void {
  v128.store(o + <usize>first * cellStride, f32x4.sub(a, c));
  v128.store(o + <usize>(first + 1) * cellStride, f32x4.add(b, c));
  v128.store(o + <usize>(first + 2) * cellStride, f32x4.sub(c, b));
  v128.store(o + <usize>(first + 3) * cellStride, f32x4.sub(b, d));
}

/**
 * m (16, TP, OCP) → out (N·OH·OW, OCP) = Aᵀ m A + bias, then max(0, ·) when `relu`, overwritten; the
 * outputs of a tile past OH/OW are skipped.
 */
export function winogradOutput(m: usize, n: i32, oh: i32, ow: i32, th: i32, tw: i32, tp: i32, ocp: i32,
  bias: usize, out: usize, relu: bool): void {
  const row = <usize>ocp << 2;
  const cellStride = <usize>tp * row;
  const zero = f32x4.splat(0);
  let t = 0;
  for (let img = 0; img < n; img++) {
    for (let ty = 0; ty < th; ty++) {
      for (let tx = 0; tx < tw; tx++) {
        const oy = 2 * ty, ox = 2 * tx;
        const down = oy + 1 < oh, right = ox + 1 < ow;
        const p00 = out + <usize>((img * oh + oy) * ow + ox) * row;
        const p10 = p00 + <usize>ow * row;
        for (let ob: usize = 0; ob < row; ob += 16) {
          const q = m + <usize>t * row + ob;
          const m00 = v128.load(q), m01 = v128.load(q + cellStride), m02 = v128.load(q + 2 * cellStride), m03 = v128.load(q + 3 * cellStride);
          const m10 = v128.load(q + 4 * cellStride), m11 = v128.load(q + 5 * cellStride), m12 = v128.load(q + 6 * cellStride), m13 = v128.load(q + 7 * cellStride);
          const m20 = v128.load(q + 8 * cellStride), m21 = v128.load(q + 9 * cellStride), m22 = v128.load(q + 10 * cellStride), m23 = v128.load(q + 11 * cellStride);
          const m30 = v128.load(q + 12 * cellStride), m31 = v128.load(q + 13 * cellStride), m32 = v128.load(q + 14 * cellStride), m33 = v128.load(q + 15 * cellStride);
          // s = Aᵀ m (2×4)
          const s00 = f32x4.add(f32x4.add(m00, m10), m20), s01 = f32x4.add(f32x4.add(m01, m11), m21);
          const s02 = f32x4.add(f32x4.add(m02, m12), m22), s03 = f32x4.add(f32x4.add(m03, m13), m23);
          const s10 = f32x4.sub(f32x4.sub(m10, m20), m30), s11 = f32x4.sub(f32x4.sub(m11, m21), m31);
          const s12 = f32x4.sub(f32x4.sub(m12, m22), m32), s13 = f32x4.sub(f32x4.sub(m13, m23), m33);
          const b = v128.load(bias + ob);
          // y = s A (2×2), + bias
          let y00 = f32x4.add(f32x4.add(f32x4.add(s00, s01), s02), b);
          let y01 = f32x4.add(f32x4.sub(f32x4.sub(s01, s02), s03), b);
          let y10 = f32x4.add(f32x4.add(f32x4.add(s10, s11), s12), b);
          let y11 = f32x4.add(f32x4.sub(f32x4.sub(s11, s12), s13), b);
          if (relu) {
            y00 = f32x4.pmax(zero, y00); y01 = f32x4.pmax(zero, y01); y10 = f32x4.pmax(zero, y10); y11 = f32x4.pmax(zero, y11);
          }
          v128.store(p00 + ob, y00);
          if (right) v128.store(p00 + row + ob, y01);
          if (down) {
            v128.store(p10 + ob, y10);
            if (right) v128.store(p10 + row + ob, y11);
          }
        }
        t++;
      }
    }
  }
}

/**
 * wgt (3·3·C, OCP) → dst (3·3·OC, CP) with dst[u, v, o, c] = wgt[2 − u, 2 − v, c, o], the extra
 * channels zero: the weight of the input gradient seen as a forward 3×3 convolution of the
 * padded output gradient (OC channels in, C out).
 */
export function flipWeights(wgt: usize, c: i32, oc: i32, ocp: i32, cp: i32, dst: usize): void {
  memory.fill(dst, 0, <usize>(9 * oc * cp) << 2);
  for (let tap = 0; tap < 9; tap++) {
    const from = wgt + (<usize>((8 - tap) * c * ocp) << 2);
    const to = dst + (<usize>(tap * oc * cp) << 2);
    for (let ci = 0; ci < c; ci++) {
      for (let o = 0; o < oc; o++) {
        store<f32>(to + (<usize>(o * cp + ci) << 2), load<f32>(from + (<usize>(ci * ocp + o) << 2)));
      }
    }
  }
}

/*
 * The weight gradient the same way: within a tile, dW[u, v] = Σ_{a,b} d[a + u, b + v] · δ[a, b] is
 * the gradient of F(2×2, 3×3) with respect to its filter, so
 *   dW = Gᵀ [ Σ_tiles (A δ Aᵀ) ⊙ (Bᵀ d B) ] G
 * with δ the tile's 2×2 block of dout (zero past OH/OW) and the same V = Bᵀ d B as the forward. The
 * sum over tiles is 16 products S[ξ] (C, OCP) = V[ξ]ᵀ · Δ[ξ], which convWeightGrad computes as a
 * 1×1 convolution's weight gradient.
 */

/** dout (N·OH·OW, OCP) → delta (16, TP, OCP) = A δ Aᵀ per tile; the TP − T padding tiles zero. */
export function winogradGradTiles(dout: usize, n: i32, oh: i32, ow: i32, th: i32, tw: i32, tp: i32, ocp: i32, delta: usize): void {
  const row = <usize>ocp << 2;
  const cellStride = <usize>tp * row;
  const zero = f32x4.splat(0);
  let t = 0;
  for (let img = 0; img < n; img++) {
    for (let ty = 0; ty < th; ty++) {
      for (let tx = 0; tx < tw; tx++) {
        const oy = 2 * ty, ox = 2 * tx;
        const down = oy + 1 < oh, right = ox + 1 < ow;
        const p00 = dout + <usize>((img * oh + oy) * ow + ox) * row;
        const p10 = p00 + <usize>ow * row;
        for (let ob: usize = 0; ob < row; ob += 16) {
          const g00 = v128.load(p00 + ob);
          const g01 = right ? v128.load(p00 + row + ob) : zero;
          const g10 = down ? v128.load(p10 + ob) : zero;
          const g11 = down && right ? v128.load(p10 + row + ob) : zero;
          // r = A δ (4×2): rows δ0, δ0 + δ1, δ0 − δ1, −δ1
          const r00 = g00, r01 = g01;
          const r10 = f32x4.add(g00, g10), r11 = f32x4.add(g01, g11);
          const r20 = f32x4.sub(g00, g10), r21 = f32x4.sub(g01, g11);
          const r30 = f32x4.neg(g10), r31 = f32x4.neg(g11);
          // Δ = r Aᵀ (4×4), cell ξ = 4·i + j
          const o = delta + <usize>t * row + ob;
          winogradGradRow(o, cellStride, 0, r00, r01);
          winogradGradRow(o, cellStride, 4, r10, r11);
          winogradGradRow(o, cellStride, 8, r20, r21);
          winogradGradRow(o, cellStride, 12, r30, r31);
        }
        t++;
      }
    }
  }
  for (; t < tp; t++) {
    for (let xi = 0; xi < 16; xi++) memory.fill(delta + <usize>xi * cellStride + <usize>t * row, 0, row);
  }
}

// @ts-ignore: decorator
@inline function winogradGradRow(o: usize, cellStride: usize, first: i32, a: v128, b: v128): void {
  v128.store(o + <usize>first * cellStride, a);
  v128.store(o + <usize>(first + 1) * cellStride, f32x4.add(a, b));
  v128.store(o + <usize>(first + 2) * cellStride, f32x4.sub(a, b));
  v128.store(o + <usize>(first + 3) * cellStride, f32x4.neg(b));
}

/** s (16, C, OCP) → dw (3·3·C, OCP) += Gᵀ s G for every (c, oc). */
export function winogradWeightGrad(s: usize, c: i32, ocp: i32, dw: usize): void {
  const half = f32x4.splat(0.5);
  const row = <usize>ocp << 2;
  const cellStride = <usize>c * row;   // bytes per ξ of s, and per tap of dw
  for (let ci = 0; ci < c; ci++) {
    for (let ob: usize = 0; ob < row; ob += 16) {
      const q = s + <usize>ci * row + ob;
      // t = Gᵀ s (3×4): rows s0 + ½(s1 + s2), ½(s1 − s2), ½(s1 + s2) + s3, over i
      const s00 = v128.load(q), s01 = v128.load(q + cellStride), s02 = v128.load(q + 2 * cellStride), s03 = v128.load(q + 3 * cellStride);
      const s10 = v128.load(q + 4 * cellStride), s11 = v128.load(q + 5 * cellStride), s12 = v128.load(q + 6 * cellStride), s13 = v128.load(q + 7 * cellStride);
      const s20 = v128.load(q + 8 * cellStride), s21 = v128.load(q + 9 * cellStride), s22 = v128.load(q + 10 * cellStride), s23 = v128.load(q + 11 * cellStride);
      const s30 = v128.load(q + 12 * cellStride), s31 = v128.load(q + 13 * cellStride), s32 = v128.load(q + 14 * cellStride), s33 = v128.load(q + 15 * cellStride);
      const a0 = f32x4.mul(half, f32x4.add(s10, s20)), b0 = f32x4.mul(half, f32x4.sub(s10, s20));
      const a1 = f32x4.mul(half, f32x4.add(s11, s21)), b1 = f32x4.mul(half, f32x4.sub(s11, s21));
      const a2 = f32x4.mul(half, f32x4.add(s12, s22)), b2 = f32x4.mul(half, f32x4.sub(s12, s22));
      const a3 = f32x4.mul(half, f32x4.add(s13, s23)), b3 = f32x4.mul(half, f32x4.sub(s13, s23));
      const t00 = f32x4.add(s00, a0), t01 = f32x4.add(s01, a1), t02 = f32x4.add(s02, a2), t03 = f32x4.add(s03, a3);
      const t10 = b0, t11 = b1, t12 = b2, t13 = b3;
      const t20 = f32x4.add(a0, s30), t21 = f32x4.add(a1, s31), t22 = f32x4.add(a2, s32), t23 = f32x4.add(a3, s33);
      // dW = t G (3×3), tap (u, v) = 3·u + v
      const o = dw + <usize>ci * row + ob;
      winogradWeightGradRow(o, cellStride, 0, half, t00, t01, t02, t03);
      winogradWeightGradRow(o, cellStride, 3, half, t10, t11, t12, t13);
      winogradWeightGradRow(o, cellStride, 6, half, t20, t21, t22, t23);
    }
  }
}

// @ts-ignore: decorator
@inline function winogradWeightGradRow(o: usize, tapStride: usize, first: i32, half: v128, a: v128, b: v128, c: v128, d: v128): void {
  const h = f32x4.mul(half, f32x4.add(b, c));
  const p0 = o + <usize>first * tapStride, p1 = p0 + tapStride, p2 = p1 + tapStride;
  v128.store(p0, f32x4.add(v128.load(p0), f32x4.add(a, h)));
  v128.store(p1, f32x4.add(v128.load(p1), f32x4.mul(half, f32x4.sub(b, c))));
  v128.store(p2, f32x4.add(v128.load(p2), f32x4.add(h, d)));
}
