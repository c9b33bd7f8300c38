/**
 * `npm run bench:accuracy`: time to 90/91/92/93 % test accuracy on Fashion-MNIST, and the final
 * accuracy, of a template trained through the CLI — beside PyTorch training the same spec with the
 * same recipe through the run's PyTorch export (train.py --from-scratch). A script, not a test: it
 * prints what it measured.
 *
 *   npm run bench:accuracy                              the fashion-strong template, its own recipe
 *   npm run bench:accuracy -- --flags "--epochs 30 --augment-shift 2"     a longer recipe
 *   options: --template NAME, --flags "…" (train flags on top of the template's), --data DIR
 *            (an IDX Fashion-MNIST folder; default Debian's), --no-pytorch, --torch-procs N
 *            (torchrun processes, default 1 process with --torch-threads, default 2), --keep DIR
 *
 * Every epoch's snapshot is evaluated on the 10,000 test images (cnn-studio eval --snapshot), so
 * "time to X %" is the training time (and the wall time) at the end of the first epoch at or above
 * X %. The machine may be shared: each row gives the load average before and after, the CPU-seconds
 * the contender used and the CPU-seconds everything else used meanwhile (foreign CPU, from
 * /proc/stat), and its images per CPU-second, which do not depend on the load.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMeasuredSync, TORCH_TUNED_ENV, type Measured } from './machine.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'bin', 'cnn-studio.js');
const PYTHON = '/usr/bin/python3';
const THRESHOLDS = [0.9, 0.91, 0.92, 0.93];

interface Options { template: string; flags: string[]; data: string; pytorch: boolean; torchProcs: number; torchThreads: number; keep: string | null }

function parseArgs(argv: string[]): Options {
  const o: Options = { template: 'fashion-strong', flags: [], data: '/usr/share/datasets/fashion-mnist', pytorch: true, torchProcs: 1, torchThreads: 2, keep: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--template') o.template = argv[++i]!;
    else if (a === '--flags') o.flags = argv[++i]!.split(/\s+/).filter(Boolean);
    else if (a === '--data') o.data = argv[++i]!;
    else if (a === '--no-pytorch') o.pytorch = false;
    else if (a === '--torch-procs') o.torchProcs = Number(argv[++i]);
    else if (a === '--torch-threads') o.torchThreads = Number(argv[++i]);
    else if (a === '--keep') o.keep = argv[++i]!;
    else throw new Error(`unknown option ${a}; options: --template NAME, --flags "…", --data DIR, --no-pytorch, --torch-procs N, --torch-threads N, --keep DIR`);
  }
  return o;
}

const cli = (db: string, ...args: string[]) => ['--import', 'tsx', CLI, '--db', db, '--json', ...args];
const last = (stdout: string) => JSON.parse(stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop()!) as Record<string, any>;

interface Curve { name: string; epochs: { epoch: number; trainSeconds: number; wallSeconds: number; testAccuracy: number }[]; images: number; m: Measured }

function timeTo(curve: Curve, x: number): string {
  const e = curve.epochs.find((p) => p.testAccuracy >= x);
  return e ? `${Math.round(e.trainSeconds)} s (ep ${e.epoch})` : '—';
}

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  if (!existsSync(join(o.data, 'train-images-idx3-ubyte.gz'))) throw new Error(`no Fashion-MNIST in ${o.data} (apt-get install dataset-fashion-mnist, or --data DIR)`);
  const dir = o.keep ?? mkdtempSync(join(tmpdir(), 'cnn-bench-accuracy-'));
  const db = join(dir, 'studio.sqlite');
  console.log(`bench:accuracy — template ${o.template}${o.flags.length ? ` with ${o.flags.join(' ')}` : ''}; ${cpus().length} cores, load ${loadavg().map((v) => v.toFixed(2)).join(' ')}; data ${o.data}; studio in ${dir}`);

  const imported = last(spawnSync(process.execPath, cli(db, 'import', o.data), { cwd: ROOT, encoding: 'utf8' }).stdout);
  const datasetId = imported.value.dataset.id as number;
  const trained = runMeasuredSync(process.execPath, cli(db, 'train', '--dataset', String(datasetId), '--model', o.template, ...o.flags));
  const run = last(trained.stdout).value;
  const h = run.hyperparameters;
  console.log(`engine: run ${run.id} ${run.status}, ${run.epochsDone} epochs, ${h.optimizer.type} lr ${h.optimizer.learningRate}, batch ${h.batchSize}, ${h.threads} threads, kernels ${run.kernelsUsed}`);
  const snapshots = new Map<number, number>((run.snapshots as { id: number; epoch: number; kind: string }[]).filter((s) => s.kind === 'epoch').map((s) => [s.epoch, s.id]));
  let trainSeconds = 0;
  const engine: Curve = { name: `engine, CLI, ${h.threads} threads (${run.kernelsUsed})`, epochs: [], images: 0, m: trained };
  for (const e of run.epochs as { epoch: number; seconds: number; wallTime: number; imagesPerSecond: number }[]) {
    trainSeconds += e.seconds;
    engine.images += e.seconds * e.imagesPerSecond;
    const ev = last(spawnSync(process.execPath, cli(db, 'eval', String(run.id), '--split', 'test', '--snapshot', String(snapshots.get(e.epoch))), { cwd: ROOT, encoding: 'utf8' }).stdout).value;
    engine.epochs.push({ epoch: e.epoch, trainSeconds, wallSeconds: e.wallTime, testAccuracy: ev.accuracy });
    console.log(`  epoch ${e.epoch}: test ${(100 * ev.accuracy).toFixed(2)}% after ${trainSeconds.toFixed(0)} s of training (${e.wallTime.toFixed(0)} s wall)`);
  }
  const curves = [engine];

  if (o.pytorch) {
    const torch = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (torch.status !== 0) console.log(`PyTorch is not run: ${PYTHON} cannot import torch (apt-get install python3-torch)`);
    else {
      const project = join(dir, 'pytorch');
      spawnSync(process.execPath, cli(db, 'export', String(run.id), '--format', 'pytorch', '--out', project), { cwd: ROOT, encoding: 'utf8' });
      const args = ['train.py', '--from-scratch', '--eval-test-each-epoch', '--threads', String(o.torchProcs > 1 ? 1 : o.torchThreads), '--out', join(project, 'trained.cnnm')];
      const launch = o.torchProcs > 1 ? ['torchrun.py', '--nproc_per_node', String(o.torchProcs), ...args] : args;
      const m = runMeasuredSync(PYTHON, launch, { env: TORCH_TUNED_ENV, cwd: project });
      const lines = m.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
      const epochs = lines.filter((l) => typeof l.epoch === 'number' && l.testAccuracy !== undefined);
      const pyCurve: Curve = {
        name: `PyTorch ${torch.stdout.trim()}, ${o.torchProcs > 1 ? `${o.torchProcs} processes (DDP)` : `1 process × ${o.torchThreads} threads`}`,
        epochs: epochs.map((l) => ({ epoch: l.epoch, trainSeconds: l.seconds, wallSeconds: l.seconds, testAccuracy: l.testAccuracy })),
        images: epochs.length * (run.epochs.length ? engine.images / run.epochs.length : 0), m,
      };
      for (const e of pyCurve.epochs) console.log(`  PyTorch epoch ${e.epoch}: test ${(100 * e.testAccuracy).toFixed(2)}% after ${e.trainSeconds.toFixed(0)} s of training`);
      curves.push(pyCurve);
    }
  }

  const rows = curves.map((c) => {
    const final = c.epochs[c.epochs.length - 1];
    return `| ${c.name} | ${c.epochs.length} | ${THRESHOLDS.map((x) => timeTo(c, x)).join(' | ')} | ${final ? (100 * final.testAccuracy).toFixed(2) + '%' : '—'} | ${final ? Math.round(final.trainSeconds) : '—'} s | ${Math.round(c.m.cpuSeconds)} | ${Math.round(c.images / c.m.cpuSeconds)} | ${c.m.loadBefore.toFixed(1)} → ${c.m.loadAfter.toFixed(1)} | ${Math.round(c.m.foreignCpuSeconds)} |`;
  });
  console.log(['', `| contender | epochs | ${THRESHOLDS.map((x) => `to ${x * 100}%`).join(' | ')} | final test | training time | CPU-s | img/CPU-s | load avg | foreign CPU-s |`,
    `|---|---:|${THRESHOLDS.map(() => '---:').join('|')}|---:|---:|---:|---:|---|---:|`, ...rows].join('\n'));
  for (const c of curves) console.log(`BENCH ${JSON.stringify({ name: c.name, epochs: c.epochs, cpuSeconds: c.m.cpuSeconds, foreignCpu: c.m.foreignCpuSeconds, load: [c.m.loadBefore, c.m.loadAfter] })}`);
  if (!o.keep) rmSync(dir, { recursive: true, force: true });
}

main();
