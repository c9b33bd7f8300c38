/**
 * Seeded PRNG (sfc32, a small chaotic counter generator) whose whole state is four uint32s, so a
 * trainer can save it and resume the exact same stream. Never Math.random() in the engine.
 */
export class Rng {
  private s: Uint32Array;

  constructor(seed: number | Uint32Array = 0) {
    this.s = new Uint32Array(4);
    if (seed instanceof Uint32Array) {
      this.s.set(seed.subarray(0, 4));
    } else {
      // splitmix32 to spread a small integer seed over the four words.
      let z = (Math.floor(seed) >>> 0) ^ 0x9e3779b9;
      for (let i = 0; i < 4; i++) {
        z = (z + 0x9e3779b9) >>> 0;
        let t = z;
        t = Math.imul(t ^ (t >>> 16), 0x21f0aaad) >>> 0;
        t = Math.imul(t ^ (t >>> 15), 0x735a2d97) >>> 0;
        this.s[i] = (t ^ (t >>> 15)) >>> 0;
      }
      for (let i = 0; i < 12; i++) this.nextU32();
    }
  }

  nextU32(): number {
    const s = this.s;
    const a = s[0]!, b = s[1]!, c = s[2]!, d = s[3]!;
    const t = (((a + b) >>> 0) + d) >>> 0;
    s[3] = (d + 1) >>> 0;
    s[0] = b ^ (b >>> 9);
    s[1] = (c + (c << 3)) >>> 0;
    const cr = ((c << 21) | (c >>> 11)) >>> 0;
    s[2] = (cr + t) >>> 0;
    return t;
  }

  /** The next `count` nextU32() draws into dst, the same stream, with the state in locals (a
   *  dropout layer draws one per activation: ~4× faster than as many nextU32() calls). */
  fillU32(dst: Uint32Array, count: number): void {
    const s = this.s;
    let a = s[0]!, b = s[1]!, c = s[2]!, d = s[3]!;
    for (let i = 0; i < count; i++) {
      const t = (((a + b) >>> 0) + d) >>> 0;
      d = (d + 1) >>> 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) >>> 0;
      c = ((((c << 21) | (c >>> 11)) >>> 0) + t) >>> 0;
      dst[i] = t;
    }
    s[0] = a; s[1] = b; s[2] = c; s[3] = d;
  }

  /** Uniform in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal by Box–Muller (no cached spare, so the state stays four words). */
  normal(): number {
    let u = this.next();
    while (u <= 1e-12) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates in place. */
  shuffle(a: Uint32Array | Int32Array | number[]): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
  }

  getState(): Uint32Array {
    return new Uint32Array(this.s);
  }

  setState(state: Uint32Array): void {
    this.s.set(state.subarray(0, 4));
  }
}
