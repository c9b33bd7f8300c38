/**
 * `npm run bench`: this engine against PyTorch (and onnxruntime for inference) on the same machine,
 * measured so that a busy machine shows itself instead of passing for a result.
 *
 * For each bench net (tools/bench/nets.ts: the reference net with SGD, the bigger net with Adam,
 * the fashion-strong template with AdamW), batch 32, Fashion-MNIST:
 *   engine-1, engine-2        the fast kernels on 1 and 2 data-parallel threads, as the studio trains
 *   engine-relaxed-1, -2      the same under --experimental-wasm-relaxed-simd (the FMA build the
 *                             desktop app's Electron runs), with --relaxed
 *   pytorch-1, pytorch-2      Debian's PyTorch at its best settings here (threads set explicitly,
 *                             OPENBLAS_NUM_THREADS=1, glibc's malloc thresholds raised)
 *   pytorch-default-1, -2     the same with the environment's defaults
 *   ort-1, ort-2              onnxruntime-node over our ONNX export: inference only
 * Each contender runs in its own process, after the bench waited for an idle machine (sampled from
 * /proc/stat; it gives up after --idle-timeout and says so). Each row records the CPU-seconds the
 * contender used and the CPU-seconds everything else used meanwhile; a row whose foreign CPU was
 * above --max-foreign % of one core is marked busy and left out of the medians. The contenders run
 * interleaved in rounds (ABBA: round 2 runs them in reverse order), --rounds 3 by default, and the
 * ratios compare medians.
 *
 * Options: --nets a,b (default all), --rounds N, --only a,b (contender names), --train-limit N
 * (train images per row; default the whole epoch for the reference net and 12,000 for the others,
 * --full for whole epochs everywhere), --relaxed, --no-default-torch, --extra (the reference kernels
 * and TF.js on a capped reference run), --idle-timeout S (120), --max-foreign PCT (3), --seed N,
 * --readme (rewrite the table between the README's bench:speed markers).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { inferShapesOrThrow } from '../../src-engine/shapes.js';
import type { ModelSpec } from '../../src-engine/spec.js';
import type { ContenderResult } from './contender.js';
import { datasetDir } from './data.js';
import { CORES, median, runMeasured, TORCH_TUNED_ENV, waitForIdle, type IdleWait, type Measured } from './machine.js';
import { BENCH_NETS, benchNet, type BenchNet } from './nets.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const CONTENDER = fileURLToPath(new URL('./contender.ts', import.meta.url));
const TORCH = fileURLToPath(new URL('./torch_bench.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const BATCH = 32;
const README_BEGIN = '<!-- bench:speed:begin -->';
const README_END = '<!-- bench:speed:end -->';

interface Options {
  nets: BenchNet[]; rounds: number; only: string[] | null; trainLimit: number | null; full: boolean; relaxed: boolean;
  defaultTorch: boolean; extra: boolean; idleTimeout: number; maxForeign: number; seed: number; readme: boolean; cap: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    nets: [...BENCH_NETS], rounds: 3, only: null, trainLimit: null, full: false, relaxed: false, defaultTorch: true, extra: false,
    idleTimeout: 120, maxForeign: 3, seed: 1, readme: false, cap: 2000,
  };
  const num = (a: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`${a} needs a number ≥ ${min}, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--nets') o.nets = argv[++i]!.split(',').map(benchNet);
    else if (a === '--rounds') o.rounds = num(a, argv[++i], 1);
    else if (a === '--only') o.only = argv[++i]!.split(',');
    else if (a === '--train-limit') o.trainLimit = num(a, argv[++i], BATCH);
    else if (a === '--full') o.full = true;
    else if (a === '--relaxed') o.relaxed = true;
    else if (a === '--no-default-torch') o.defaultTorch = false;
    else if (a === '--extra') o.extra = true;
    else if (a === '--cap') o.cap = num(a, argv[++i], BATCH);
    else if (a === '--idle-timeout') o.idleTimeout = num(a, argv[++i], 0);
    else if (a === '--max-foreign') o.maxForeign = num(a, argv[++i], 0);
    else if (a === '--seed') o.seed = num(a, argv[++i], 0);
    else if (a === '--readme') o.readme = true;
    else throw new Error(`unknown option ${a}; options: --nets a,b, --rounds N, --only a,b, --train-limit N, --full, --relaxed, --no-default-torch, --extra, --cap N, --idle-timeout S, --max-foreign PCT, --seed N, --readme`);
  }
  return o;
}

interface Contender {
  name: string;
  label: string;
  kind: 'engine' | 'pytorch' | 'ort' | 'extra';
  threads: number;
  /** Train images (0: inference only). */
  trainLimit: number;
  command(net: BenchNet, testLimit: number): { cmd: string; args: string[]; env?: Record<string, string> };
}

function contenders(o: Options, net: BenchNet, trainAll: number, dir: string): Contender[] {
  const trainLimit = o.full ? trainAll : Math.min(o.trainLimit ?? (net.name === 'reference' ? trainAll : 12000), trainAll);
  const nodeContender = (name: string, threads: number, limit: number, flags: string[] = []) => (n: BenchNet, testLimit: number) => ({
    cmd: process.execPath,
    args: [...flags, '--import', 'tsx', CONTENDER, name, JSON.stringify({ dir, trainLimit: limit, testLimit, seed: o.seed, net: n.name, threads })],
  });
  const torch = (threads: number, env?: Record<string, string>) => (n: BenchNet, testLimit: number) => ({
    cmd: PYTHON, args: [TORCH, dir, String(trainLimit), String(testLimit), String(threads), String(o.seed), JSON.stringify(n.spec), JSON.stringify(n.optimizer), String(BATCH)], env,
  });
  const list: Contender[] = [];
  for (const t of [1, 2]) list.push({ name: `engine-${t}`, label: `engine, wasm-simd, ${t} thread${t > 1 ? 's' : ''}`, kind: 'engine', threads: t, trainLimit, command: nodeContender('engine-fast', t, trainLimit) });
  if (o.relaxed) for (const t of [1, 2]) list.push({ name: `engine-relaxed-${t}`, label: `engine, wasm-relaxed-simd (FMA), ${t} thread${t > 1 ? 's' : ''}`, kind: 'engine', threads: t, trainLimit, command: nodeContender('engine-fast', t, trainLimit, ['--experimental-wasm-relaxed-simd']) });
  for (const t of [1, 2]) list.push({ name: `pytorch-${t}`, label: `PyTorch, ${t} thread${t > 1 ? 's' : ''}, tuned`, kind: 'pytorch', threads: t, trainLimit, command: torch(t, TORCH_TUNED_ENV) });
  if (o.defaultTorch) for (const t of [1, 2]) list.push({ name: `pytorch-default-${t}`, label: `PyTorch, ${t} thread${t > 1 ? 's' : ''}, default environment`, kind: 'pytorch', threads: t, trainLimit, command: torch(t) });
  for (const t of [1, 2]) list.push({ name: `ort-${t}`, label: `onnxruntime-node, ${t} thread${t > 1 ? 's' : ''} (inference)`, kind: 'ort', threads: t, trainLimit: 0, command: nodeContender('ort', t, 0) });
  if (o.extra && net.name === 'reference') {
    const cap = Math.min(o.cap, trainAll);
    list.push({ name: 'engine-reference', label: 'engine, reference kernels (capped)', kind: 'extra', threads: 1, trainLimit: cap, command: nodeContender('engine-reference', 1, cap) });
    list.push({ name: 'tfjs-cpu', label: 'TensorFlow.js CPU (capped)', kind: 'extra', threads: 1, trainLimit: cap, command: nodeContender('tfjs-cpu', 1, cap) });
    list.push({ name: 'tfjs-wasm', label: 'TensorFlow.js WASM (capped)', kind: 'extra', threads: 1, trainLimit: Math.min(5 * cap, trainAll), command: nodeContender('tfjs-wasm', 1, Math.min(5 * cap, trainAll)) });
  }
  return list.filter((c) => !o.only || o.only.includes(c.name));
}

interface Row { net: string; contender: Contender; round: number; result: ContenderResult; m: Measured; idle: IdleWait; foreignPercent: number; busy: boolean }

function parseResult(stdout: string): ContenderResult {
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no RESULT line in:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice(7)) as ContenderResult;
}

/** FLOPs of one training image from the engine's own multiply-add count (shapes.ts): the forward
 *  pass, the input gradient (but the first layer's: nothing needs it) and the weight gradient. */
function trainFlopsPerImage(spec: ModelSpec): number {
  const shapes = inferShapesOrThrow(spec);
  return 2 * (3 * shapes.totalMacs - shapes.layers[0]!.macs);
}

const fmt = (v: number, digits = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—');

interface Summary { contender: Contender; rows: Row[]; clean: Row[]; train: number; infer: number; perCpu: number; accuracy: number; rss: number; maxForeign: number }

function summarise(rows: Row[], list: Contender[]): Summary[] {
  return list.map((c) => {
    const mine = rows.filter((r) => r.contender.name === c.name);
    const clean = mine.filter((r) => !r.busy);
    // a figure a contender does not measure (onnxruntime's accuracy: untrained weights) is NaN, null once through JSON
    const med = (f: (r: Row) => number) => {
      const values = clean.map(f).filter((v) => typeof v === 'number' && Number.isFinite(v));
      return values.length ? median(values) : NaN;
    };
    return {
      contender: c, rows: mine, clean,
      train: c.trainLimit ? med((r) => r.result.trainImagesPerSecond) : NaN,
      infer: med((r) => r.result.inferImagesPerSecond),
      perCpu: c.trainLimit ? med((r) => r.result.trainImages / r.result.trainCpuSeconds) : NaN,
      accuracy: med((r) => r.result.testAccuracy),
      rss: Math.max(...mine.map((r) => r.result.maxRssMB)),
      maxForeign: Math.max(...mine.map((r) => r.foreignPercent)),
    };
  });
}

function netReport(net: BenchNet, sums: Summary[], o: Options): string[] {
  const by = (name: string) => sums.find((s) => s.contender.name === name);
  const range = (s: Summary, f: (r: Row) => number) => (s.clean.length > 1 ? ` (${fmt(Math.min(...s.clean.map(f)))}–${fmt(Math.max(...s.clean.map(f)))})` : '');
  const flops = trainFlopsPerImage(net.spec);
  const lines = [
    `**${net.label}** — ${fmt(flops / 1e6, 2)} MFLOP per training image; ${sums[0]?.contender.trainLimit ? `${fmt(sums.find((s) => s.contender.trainLimit)!.contender.trainLimit)} train images per row` : ''}`,
    '',
    '| contender | clean rows | train img/s (median, range) | GFLOP/s | train img per CPU-s | inference img/s | test acc | peak RSS MB | foreign CPU (max) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const s of sums) {
    // with no clean row, the busy rows' median is shown marked, for orientation only: never in a ratio
    const busyMedian = (f: (r: Row) => number) => (s.rows.length ? `(busy: ${fmt(median(s.rows.map(f)))})` : '—');
    const train = !s.contender.trainLimit ? '—' : s.clean.length ? `${fmt(s.train)}${range(s, (r) => r.result.trainImagesPerSecond)}` : busyMedian((r) => r.result.trainImagesPerSecond);
    const infer = s.clean.length ? `${fmt(s.infer)}${range(s, (r) => r.result.inferImagesPerSecond)}` : busyMedian((r) => r.result.inferImagesPerSecond);
    lines.push(`| ${s.contender.label} | ${s.clean.length}/${s.rows.length} | ${train} | ${s.contender.trainLimit ? fmt((s.train * flops) / 1e9, 1) : '—'} | ${fmt(s.perCpu)} | ${infer} | ${Number.isFinite(s.accuracy) ? `${fmt(100 * s.accuracy, 2)}%` : '—'} | ${fmt(s.rss)} | ${fmt(s.maxForeign, 1)}% |`);
  }
  const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
  const targets: string[] = [];
  const check = (what: string, value: number, goal: number) => targets.push(`- ${Number.isFinite(value) ? (value >= goal ? 'MET ' : 'MISS') : 'n/a '} ${what}: ${Number.isFinite(value) ? `${fmt(value, 2)}×` : 'no clean rows'} (target ≥ ${goal}×)`);
  for (const t of [1, 2]) {
    const e = by(`engine-${t}`); const p = by(`pytorch-${t}`);
    if (e && p) check(`train, ${t} thread${t > 1 ? 's' : ''}: engine ÷ PyTorch tuned`, ratio(e.train, p.train), 1.25);
    const er = by(`engine-relaxed-${t}`);
    if (er && p) check(`train, ${t} thread${t > 1 ? 's' : ''}, relaxed build: engine ÷ PyTorch tuned`, ratio(er.train, p.train), 1.25);
  }
  const e1 = by('engine-1');
  if (e1) {
    const p1 = by('pytorch-1'); const o1 = by('ort-1'); const o2 = by('ort-2');
    if (p1) check('inference, 1 thread: engine ÷ PyTorch tuned', ratio(e1.infer, p1.infer), 1.5);
    if (o1) check('inference, 1 thread: engine ÷ onnxruntime', ratio(e1.infer, o1.infer), 0.3);
    if (o2) targets.push(`- info engine inference runs on 1 thread; onnxruntime on 2: ${fmt(ratio(e1.infer, o2.infer), 2)}×`);
  }
  for (const t of [1, 2]) {
    const e = by(`engine-${t}`);
    if (e && Number.isFinite(e.train)) targets.push(`- info engine ${t} thread${t > 1 ? 's' : ''}: ${fmt((e.train * flops) / 1e9 / t, 1)} GFLOP/s per thread of the ≈ 32 (no FMA) / ≈ 64 (FMA) that 128-bit SIMD allows a core`);
  }
  return [...lines, '', ...targets];
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const { dir, source } = datasetDir();
  const trainAll = source === 'debian' ? 60000 : 5000;
  const testAll = source === 'debian' ? 10000 : 1000;
  const started = new Date();
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown CPU';
  console.log(`${command}: ${CORES} cores (${cpuModel}), load ${loadavg().map((v) => v.toFixed(2)).join(' ')}; Fashion-MNIST from ${source === 'debian' ? `Debian's dataset-fashion-mnist (${dir})` : `the bundled sample (${dir}); install dataset-fashion-mnist for the full set`}`);
  console.log(`${o.rounds} rounds, interleaved (even rounds in order, odd rounds reversed); before each row the bench waits for an idle machine (≤ 5 % of a core busy, up to ${o.idleTimeout} s); rows with foreign CPU > ${o.maxForeign} % of a core are marked busy and left out of the medians`);

  const rows: Row[] = [];
  const reports: string[] = [];
  for (const net of o.nets) {
    const list = contenders(o, net, trainAll, dir);
    for (let round = 0; round < o.rounds; round++) {
      const order = round % 2 === 0 ? list : [...list].reverse();
      for (const c of order) {
        const idle = await waitForIdle({ timeoutSeconds: o.idleTimeout });
        const { cmd, args, env } = c.command(net, testAll);
        process.stdout.write(`${net.name} round ${round + 1} ${c.name}${idle.idle ? '' : ` (no idle machine after ${Math.round(idle.waitedSeconds)} s: ${fmt(100 * idle.busyCores, 0)} % of a core busy)`} … `);
        const m = await runMeasured(cmd, args, { env, cwd: ROOT });
        const result = parseResult(m.stdout);
        const foreignPercent = (100 * m.foreignCpuSeconds) / m.wallSeconds;
        const busy = foreignPercent > o.maxForeign;
        rows.push({ net: net.name, contender: c, round, result, m, idle, foreignPercent, busy });
        console.log(`${c.trainLimit ? `train ${fmt(result.trainImagesPerSecond)} img/s, ` : ''}inference ${fmt(result.inferImagesPerSecond)} img/s; own ${fmt(m.cpuSeconds, 1)} CPU-s, foreign ${fmt(m.foreignCpuSeconds, 1)} CPU-s (${fmt(foreignPercent, 1)} % of a core)${busy ? ' — BUSY, not used' : ''}`);
        console.log(`BENCH ${JSON.stringify({ net: net.name, round, contender: c.name, ...result, cpuSeconds: m.cpuSeconds, foreignCpuSeconds: m.foreignCpuSeconds, wallSeconds: m.wallSeconds, load: [m.loadBefore, m.loadAfter], idle, busy })}`);
      }
    }
    const report = netReport(net, summarise(rows.filter((r) => r.net === net.name), list), o);
    reports.push(report.join('\n'));
    console.log(`\n${report.join('\n')}\n`);
  }

  const loads = rows.map((r) => r.m.loadBefore);
  const busyRows = rows.filter((r) => r.busy).length;
  const header = `Measured by \`${command}\` on ${started.toISOString().slice(0, 10)}, ${CORES} cores (${cpuModel}), Node ${process.versions.node}; load average at the rows' starts ${fmt(Math.min(...loads), 2)}–${fmt(Math.max(...loads), 2)}; ${rows.length - busyRows} of ${rows.length} rows clean (foreign CPU ≤ ${o.maxForeign} % of a core), medians of ${o.rounds} interleaved rounds.`;
  if (o.readme) {
    const text = readFileSync(README, 'utf8');
    const a = text.indexOf(README_BEGIN);
    const b = text.indexOf(README_END);
    if (a < 0 || b < a) throw new Error(`README.md has no ${README_BEGIN} … ${README_END} block to rewrite`);
    writeFileSync(README, `${text.slice(0, a + README_BEGIN.length)}\n${header}\n\n${reports.join('\n\n')}\n${text.slice(b)}`);
    console.log(`README.md: the bench:speed block rewritten`);
  }
  console.log(header);
}

await main();
