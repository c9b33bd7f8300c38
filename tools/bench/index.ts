/**
 * `npm run bench`: the reference net (28×28×1 → conv 16 3×3 → maxpool 2 → conv 32 3×3 → maxpool 2 →
 * dense 10 softmax), one epoch of Fashion-MNIST, SGD lr 0.01 momentum 0.9, batch 32, raced by:
 *   engine-fast      this engine, WebAssembly SIMD kernels, 1 thread
 *   engine-fast-2    the same on 2 data-parallel worker threads
 *   engine-reference this engine, the reference TypeScript loops (capped: they are slow)
 *   engine-fast@cap  the fast kernels on exactly the reference's capped run, to compare accuracy
 *   tfjs-cpu, tfjs-wasm  @tensorflow/tfjs 4.22 CPU and WASM backends (own Conv2D gradient)
 *   pytorch-1, pytorch-2 Debian's PyTorch through /usr/bin/python3, 1 and 2 threads, when importable
 * Each contender runs alone in its own child process (its peak RSS is its own). Prints a table, the
 * ratios between contenders of this run, the issue's targets, and one `BENCH {json}` line each.
 *
 * Options: --full (every contender on the whole epoch and test set), --cap N (train images for the
 * capped contenders, default 2000), --only a,b (contender names), --seed N, --relaxed (run the
 * engine's Node with --experimental-wasm-relaxed-simd, so its fast kernels use the FMA build, as
 * Electron's Chromium and Node ≥ 22 do by default).
 *
 * The machine may be shared: each row also gives the 1-minute load average when it started and the
 * CPU seconds its training used (all threads), whose images per CPU-second do not depend on load.
 */
import { spawn, spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ContenderResult } from './contender.js';
import { datasetDir } from './data.js';

const CONVNETJS_QUOTED = 210;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONTENDER = fileURLToPath(new URL('./contender.ts', import.meta.url));
const TORCH = fileURLToPath(new URL('./torch_bench.py', import.meta.url));
const PYTHON = '/usr/bin/python3';

interface Plan {
  name: string;
  run: string;
  trainLimit: number;
  testLimit: number;
  capped: boolean;
}

function parseArgs(argv: string[]): { full: boolean; cap: number; only: string[] | null; seed: number; relaxed: boolean } {
  const out = { full: false, cap: 2000, only: null as string[] | null, seed: 1, relaxed: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--full') out.full = true;
    else if (a === '--cap') out.cap = Number(argv[++i]);
    else if (a === '--only') out.only = argv[++i]!.split(',');
    else if (a === '--seed') out.seed = Number(argv[++i]);
    else if (a === '--relaxed') out.relaxed = true;
    else throw new Error(`unknown option ${a}; options: --full, --cap N, --only a,b, --seed N, --relaxed`);
  }
  if (!Number.isInteger(out.cap) || out.cap < 32) throw new Error(`--cap must be an integer ≥ 32, got ${out.cap}`);
  return out;
}

function torchAvailable(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function runChild(command: string, args: string[]): Promise<ContenderResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`${args.join(' ')} exited with ${code}:\n${stderr.slice(-2000)}`));
      else resolve(JSON.parse(line.slice(7)) as ContenderResult);
    });
  });
}

const fmt = (v: number, digits = 0) => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { dir, source } = datasetDir();
  const all = Infinity;
  const trainAll = source === 'debian' ? 60000 : 5000;
  const testAll = source === 'debian' ? 10000 : 1000;
  const cap = Math.min(args.cap, trainAll);
  const capTest = Math.min(2000, testAll);
  const plans: Plan[] = [
    { name: 'engine-fast', run: 'engine-fast', trainLimit: all, testLimit: all, capped: false },
    { name: 'engine-fast-2', run: 'engine-fast-2', trainLimit: all, testLimit: all, capped: false },
    { name: 'engine-reference', run: 'engine-reference', trainLimit: args.full ? all : cap, testLimit: args.full ? all : capTest, capped: !args.full },
    { name: `engine-fast@${cap}`, run: 'engine-fast', trainLimit: cap, testLimit: capTest, capped: true },
    { name: 'tfjs-cpu', run: 'tfjs-cpu', trainLimit: args.full ? all : cap, testLimit: args.full ? all : capTest, capped: !args.full },
    { name: 'tfjs-wasm', run: 'tfjs-wasm', trainLimit: args.full ? all : Math.min(5 * cap, trainAll), testLimit: all, capped: !args.full },
    { name: 'pytorch-1', run: 'pytorch-1', trainLimit: all, testLimit: all, capped: false },
    { name: 'pytorch-2', run: 'pytorch-2', trainLimit: all, testLimit: all, capped: false },
  ].filter((p) => !args.only || args.only.includes(p.name) || args.only.includes(p.run));
  if (args.full) plans.splice(plans.findIndex((p) => p.name.startsWith('engine-fast@')), 1);

  const torch = plans.some((p) => p.run.startsWith('pytorch')) ? torchAvailable() : null;
  console.log(`Fashion-MNIST from ${source === 'debian' ? `Debian's dataset-fashion-mnist (${dir})` : `the bundled sample (${dir}); install dataset-fashion-mnist for the full set`}`);
  console.log(`reference net, SGD lr 0.01 momentum 0.9, batch 32, one epoch; each contender in its own process, one after another`);
  if (!args.full) console.log(`capped (--full for everything on the whole epoch): engine-reference and tfjs-cpu train on ${cap} images and test on ${capTest}; tfjs-wasm trains on ${Math.min(5 * cap, trainAll)}`);
  if (!torch && plans.some((p) => p.run.startsWith('pytorch'))) console.log(`PyTorch: not importable by ${PYTHON}; skipped`);

  if (args.relaxed) console.log('--relaxed: the engine runs under node --experimental-wasm-relaxed-simd (its FMA build); TF.js-WASM has no relaxed-SIMD build');
  const results: (ContenderResult & { capped: boolean; load: number })[] = [];
  for (const p of plans) {
    let r: ContenderResult;
    const started = Date.now();
    const load = loadavg()[0]!;
    process.stdout.write(`running ${p.name} … `);
    const trainLimit = Number.isFinite(p.trainLimit) ? p.trainLimit : trainAll;
    const testLimit = Number.isFinite(p.testLimit) ? p.testLimit : testAll;
    if (p.run.startsWith('pytorch')) {
      if (!torch) { console.log('skipped'); continue; }
      r = await runChild(PYTHON, [TORCH, dir, String(trainLimit), String(testLimit), p.run.slice(-1), String(args.seed)]);
    } else {
      const flags = args.relaxed && p.run.startsWith('engine-') ? ['--experimental-wasm-relaxed-simd'] : [];
      r = await runChild(process.execPath, [...flags, '--import', 'tsx', CONTENDER, p.run, JSON.stringify({ dir, trainLimit, testLimit, seed: args.seed })]);
    }
    r.name = p.name;
    results.push({ ...r, capped: p.capped, load });
    console.log(`${((Date.now() - started) / 1000).toFixed(1)} s`);
  }

  console.log('\n| contender | train images | train img/s | train img per CPU-s | inference img/s | test accuracy (images) | peak RSS MB | heap KB/batch | load at start | notes |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of results) {
    const notes = [...(r.kernels ? [`kernels ${r.kernels}`] : []), ...r.notes].join('; ');
    console.log(`| ${r.name} | ${fmt(r.trainImages)}${r.capped ? ' (capped)' : ''} | ${fmt(r.trainImagesPerSecond)} | ${fmt(r.trainImages / r.trainCpuSeconds)} | ${fmt(r.inferImagesPerSecond)} | ${fmt(100 * r.testAccuracy, 2)}% (${fmt(r.testImages)}) | ${fmt(r.maxRssMB)} | ${r.heapKBPerBatch === undefined ? '—' : fmt(r.heapKBPerBatch, 1)} | ${fmt(r.load, 1)} | ${notes} |`);
  }
  console.log(`| ConvNetJS 0.3 (quoted in the issue, not run) | | ${CONVNETJS_QUOTED} | | | | | | | |`);

  const ours = results.filter((r) => r.name === 'engine-fast' || r.name === 'engine-fast-2');
  const peers = results.filter((r) => !ours.includes(r));
  if (ours.length > 0 && peers.length > 0) {
    console.log('\nratios, this run (train img/s ÷ peer\'s train img/s; inference likewise):');
    console.log(`| ours | ${peers.map((p) => p.name).join(' | ')} | ConvNetJS (quoted) |`);
    console.log(`|---|${peers.map(() => '---:').join('|')}|---:|`);
    for (const o of ours) {
      console.log(`| ${o.name} train | ${peers.map((p) => `${fmt(o.trainImagesPerSecond / p.trainImagesPerSecond, 2)}×`).join(' | ')} | ${fmt(o.trainImagesPerSecond / CONVNETJS_QUOTED, 1)}× |`);
      console.log(`| ${o.name} inference | ${peers.map((p) => `${fmt(o.inferImagesPerSecond / p.inferImagesPerSecond, 2)}×`).join(' | ')} | |`);
    }
  }

  const by = (name: string) => results.find((r) => r.name === name);
  const fast2 = by('engine-fast-2');
  const fast1 = by('engine-fast');
  const tfw = by('tfjs-wasm');
  const ref = by('engine-reference');
  const fastCap = results.find((r) => r.name.startsWith('engine-fast@'));
  const targets: [string, boolean | null, string][] = [];
  if (fast2 && tfw) targets.push(['2 workers ≥ 3× TF.js-WASM (train)', fast2.trainImagesPerSecond >= 3 * tfw.trainImagesPerSecond, `${fmt(fast2.trainImagesPerSecond / tfw.trainImagesPerSecond, 2)}×`]);
  if (fast2) targets.push(['2 workers ≥ 30× ConvNetJS (210 img/s quoted)', fast2.trainImagesPerSecond >= 30 * CONVNETJS_QUOTED, `${fmt(fast2.trainImagesPerSecond / CONVNETJS_QUOTED, 1)}×`]);
  const torch2 = by('pytorch-2');
  if (fast2 && torch2) targets.push(['stretch: 2 workers ≥ ½ PyTorch on 2 threads', fast2.trainImagesPerSecond >= 0.5 * torch2.trainImagesPerSecond, `${fmt(fast2.trainImagesPerSecond / torch2.trainImagesPerSecond, 2)}×`]);
  if (fast1 && tfw) targets.push(['inference ≥ TF.js-WASM', fast1.inferImagesPerSecond >= tfw.inferImagesPerSecond, `${fmt(fast1.inferImagesPerSecond / tfw.inferImagesPerSecond, 2)}×`]);
  for (const r of [fast1, fast2]) {
    if (r && r.trainImages >= 60000) targets.push([`${r.name}: peak RSS ≤ 400 MB on 60,000 images`, r.maxRssMB <= 400, `${fmt(r.maxRssMB)} MB`]);
  }
  if (ref && fastCap && ref.trainImages === fastCap.trainImages) {
    // the two runs differ only in float rounding; the binomial standard error of the test sample is the noise
    const se = Math.sqrt((ref.testAccuracy * (1 - ref.testAccuracy)) / ref.testImages);
    const diff = Math.abs(fastCap.testAccuracy - ref.testAccuracy);
    targets.push([`fast = reference accuracy within noise (same ${fmt(ref.trainImages)} images, ±2 s.e. = ${fmt(200 * se, 2)} pts)`, diff <= 2 * se, `${fmt(100 * fastCap.testAccuracy, 2)}% vs ${fmt(100 * ref.testAccuracy, 2)}%`]);
  }
  if (fast1?.heapKBPerBatch !== undefined) targets.push(['hot loop allocation per batch (heap-used steps, whole Trainer step)', null, `${fmt(fast1.heapKBPerBatch, 1)} KB/batch, heap used ${fmt(fast1.heapUsedMB![0], 1)}–${fmt(fast1.heapUsedMB![1], 1)} MB`]);
  if (targets.length) {
    console.log('\ntargets of issue 4:');
    for (const [what, ok, value] of targets) console.log(`  ${ok === null ? 'info' : ok ? 'MET ' : 'MISS'}  ${what}: ${value}`);
  }

  for (const r of results) {
    const ratios: Record<string, { train: number; inference: number }> = {};
    for (const p of results) if (p !== r) ratios[p.name] = { train: r.trainImagesPerSecond / p.trainImagesPerSecond, inference: r.inferImagesPerSecond / p.inferImagesPerSecond };
    console.log(`BENCH ${JSON.stringify({ ...r, dataset: source, ratios, convnetjsQuotedRatio: r.trainImagesPerSecond / CONVNETJS_QUOTED })}`);
  }
}

await main();
