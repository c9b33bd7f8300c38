/**
 * `npm run bench:profile`: where a training step's time goes, with the fast kernels on one thread,
 * as the studio trains (the Trainer's own step: gather, augmentation, forward, loss, backward, the
 * copy of the weights a NaN would roll back to, the optimizer update).
 *
 * It times, per step, each layer's forward and backward (batch norm's training passes included),
 * and inside the kernels the copies between JavaScript arrays and WebAssembly memory (every `put`,
 * `get` and channel padding of the fast kernel set) apart from the WebAssembly calls themselves;
 * the optimizer's update; and the rest of the step. Timers add ~0.1 µs a call: a few hundred calls
 * per step, well under 1 % of it. Not a speed figure (npm run bench is): a breakdown.
 *
 * Options: --nets a,b (default all bench nets), --steps N (timed steps, default 150, after 20
 * untimed), --batch N (32).
 */
import { performance } from 'node:perf_hooks';
import { fastKernels } from '../../src-engine/kernels/wasm/index.js';
import type { Layer } from '../../src-engine/layers/layer.js';
import { buildModel } from '../../src-engine/model.js';
import { Trainer } from '../../src-engine/train.js';
import { datasetDir, loadSplit } from './data.js';
import { BENCH_NETS, benchNet, type BenchNet } from './nets.js';

interface Options { nets: readonly BenchNet[]; steps: number; batch: number }

function parseArgs(argv: string[]): Options {
  const o: Options = { nets: BENCH_NETS, steps: 150, batch: 32 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[++i];
    if (a === '--nets') o.nets = v!.split(',').map(benchNet);
    else if (a === '--steps' && Number(v) >= 1) o.steps = Number(v);
    else if (a === '--batch' && Number(v) >= 1) o.batch = Number(v);
    else throw new Error(`unknown option or bad value: ${a} ${v ?? ''}; options: --nets a,b, --steps N, --batch N`);
  }
  return o;
}

/** Accumulated milliseconds under named buckets; `inside` is the stack of open timed calls. */
class Clock {
  readonly ms = new Map<string, number>();
  private readonly inside: { name: string; child: number }[] = [];

  /** Times fn under `name`; time spent in nested timed calls is counted in theirs, not here. */
  time<T>(name: string, fn: () => T): T {
    const frame = { name, child: 0 };
    this.inside.push(frame);
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      const spent = performance.now() - t0;
      this.inside.pop();
      this.add(name, spent - frame.child);
      const parent = this.inside[this.inside.length - 1];
      if (parent) parent.child += spent;
    }
  }

  add(name: string, ms: number): void {
    this.ms.set(name, (this.ms.get(name) ?? 0) + ms);
  }

  reset(): void {
    this.ms.clear();
  }
}

/** Wraps a method of `target` so each call is timed under `name` (generators: each resumption). */
function timeMethod(clock: Clock, target: object, method: string, name: () => string, generator = false): void {
  const t = target as Record<string, (...args: unknown[]) => unknown>;
  const original = t[method];
  if (typeof original !== 'function') return;
  if (!generator) {
    t[method] = function (this: unknown, ...args: unknown[]) { return clock.time(name(), () => original.apply(this, args)); };
    return;
  }
  t[method] = function (this: unknown, ...args: unknown[]) {
    const inner = original.apply(this, args) as Generator<unknown, unknown, unknown>;
    return {
      next: (v: unknown) => clock.time(name(), () => inner.next(v)),
      return: (v: unknown) => inner.return(v),
      throw: (e: unknown) => inner.throw(e),
      [Symbol.iterator]() { return this; },
    };
  };
}

function profile(net: BenchNet, o: Options, images: Uint8Array, labels: Uint8Array, n: number) {
  const kernels = fastKernels();
  const model = buildModel(net.spec, { seed: 1, kernels });
  const clock = new Clock();
  let where = 'other';
  // the kernels' copies between JS arrays and WebAssembly memory, and their WebAssembly calls
  const k = kernels as unknown as Record<string, unknown> & { k: Record<string, unknown> };
  for (const m of ['put', 'get', 'get64', 'putPadded']) timeMethod(clock, k, m, () => `${where} · copies`);
  // the instance's exports are frozen: the kernel set gets a plain copy whose functions are timed
  k.k = { ...k.k };
  for (const name of Object.keys(k.k)) if (typeof k.k[name] === 'function' && name !== 'heapBase') timeMethod(clock, k.k, name, () => `${where} · wasm`);
  model.layers.forEach((layer: Layer) => {
    for (const [method, phase, gen] of [['forward', 'forward', false], ['backward', 'backward', false], ['trainingForward', 'forward', true], ['trainingBackward', 'backward', true], ['forwardThrough', 'forward with the next max pool', false], ['backwardThrough', 'backward with the next max pool', false],
      ['trainingForwardThrough', 'forward with the next max pool', true], ['trainingBackwardThrough', 'backward with the next max pool', true]] as const) {
      const label = `${layer.label} ${phase}`;
      timeMethod(clock, layer, method, () => label, gen);
      // the kernel buckets follow the layer whose call they are in
      const wrapped = (layer as unknown as Record<string, (...a: unknown[]) => unknown>)[method];
      if (typeof wrapped !== 'function') continue;
      (layer as unknown as Record<string, unknown>)[method] = function (this: unknown, ...args: unknown[]) {
        const before = where;
        where = label;
        if (!gen) {
          try { return wrapped.apply(this, args); } finally { where = before; }
        }
        const inner = wrapped.apply(this, args) as Generator<unknown, unknown, unknown>;
        where = before;
        return {
          next: (v: unknown) => { const b = where; where = label; try { return inner.next(v); } finally { where = b; } },
          return: (v: unknown) => inner.return(v), throw: (e: unknown) => inner.throw(e), [Symbol.iterator]() { return this; },
        };
      };
    }
  });
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = images[i]! / 255;
  const trainer = new Trainer(model, { images: x, labels, n }, { epochs: 1000, batchSize: o.batch, seed: 1, optimizer: net.optimizer });
  timeMethod(clock, trainer.optimizer, 'step', () => 'optimizer update');
  const warm = 20;
  for (let s = 0; s < warm; s++) trainer.step();
  clock.reset();
  const t0 = performance.now();
  for (let s = 0; s < o.steps; s++) clock.time('rest of the step (gather, loss, weight copy)', () => trainer.step());
  const total = performance.now() - t0;
  return { total, ms: clock.ms, wasmVariant: kernels.name };
}

const o = parseArgs(process.argv.slice(2));
const { dir } = datasetDir();
const train = loadSplit(dir, 'train', 12_000);
for (const net of o.nets) {
  const { total, ms, wasmVariant } = profile(net, o, train.images, train.labels, train.n);
  const perStep = total / o.steps;
  console.log(`\n**${net.label}** — batch ${o.batch}, one thread, ${wasmVariant} kernels: ${perStep.toFixed(2)} ms a step (${Math.round((o.batch * 1000) / perStep).toLocaleString('en-US')} img/s while profiled), ${o.steps} steps\n`);
  console.log('| part of the step | ms a step | share |');
  console.log('|---|---:|---:|');
  const rows = [...ms].sort((a, b) => b[1] - a[1]);
  for (const [name, t] of rows) console.log(`| ${name} | ${(t / o.steps).toFixed(3)} | ${((100 * t) / total).toFixed(1)}% |`);
  const copies = rows.filter(([name]) => name.endsWith('· copies')).reduce((s, [, t]) => s + t, 0);
  const wasm = rows.filter(([name]) => name.endsWith('· wasm')).reduce((s, [, t]) => s + t, 0);
  console.log(`\ncopies between JS and WebAssembly memory ${((100 * copies) / total).toFixed(1)}%, WebAssembly calls ${((100 * wasm) / total).toFixed(1)}%, everything else ${((100 * (total - copies - wasm)) / total).toFixed(1)}% of the step`);
}
