/**
 * The cnn-studio command line: a thin transport over the Service, in this process. Exit codes:
 * 0 ok, 2 bad usage or input (every dataset import error included), 1 failure. With --json every
 * line of stdout is one JSON object: progress events as they come, then {"type":"result", ...}.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ErrorCode, Events, HyperparameterInput, ModelSpec, RunDetail, RunSummary } from '../contract.js';
import { ServiceError } from '../service/errors.js';
import { defaultDatabasePath } from '../service/paths.js';
import { Service, type ServiceOptions } from '../service/service.js';
import { findTemplate, TEMPLATES } from '../service/templates.js';
import { bar, duration, num, pct, table } from './format.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Progress bars redraw in place only on a terminal. */
  isTTY: boolean;
  /** Called with a function that pauses the run in progress (the entry wires it to SIGINT). */
  onInterrupt?: (handler: (() => Promise<void>) | null) => void;
  serviceOptions?: ServiceOptions;
}

class UsageError extends Error {}

const USAGE = `usage: cnn-studio [--db FILE] [--json] <command> [options]

commands:
  import <path> [--name NAME] [--mixed-sizes skip|resize|refuse] [--resize HxW] [--channels 1|3]
  datasets
  train --dataset <id|name|path> --model <spec.json|${TEMPLATES.map((t) => t.name).join('|')}>
        [--epochs N] [--batch-size N] [--optimizer sgd|adam] [--lr X] [--momentum X] [--seed N]
        [--val-split F] [--patience N] [--augment-flip] [--augment-shift K] [--limit N]
        [--kernels fast|reference] [--threads N] [--progress-every N] [--name NAME]
  runs [--dataset <id|name>] [--status S]
  show <run>
  resume <run>
  fork <run> [--snapshot ID] [training options as for train]
  eval <run> [--dataset <id|name>] [--split test|validation|train]
  compare <run> <run>...
  export <run> --format json|onnx|csv --out FILE

--db FILE   the database (default ${defaultDatabasePath()}, shared with the desktop app)
--json      one JSON object per line: progress events, then the result
Ctrl-C during train/resume pauses the run (snapshot); 'cnn-studio resume <run>' continues it.`;

const BOOLEAN_FLAGS = new Set(['json', 'help', 'augment-flip']);

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h') flags.set('help', true);
    else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (eq > 0) flags.set(name, a.slice(eq + 1));
      else if (BOOLEAN_FLAGS.has(name)) flags.set(name, true);
      else {
        const value = argv[i + 1];
        if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
        flags.set(name, value);
        i++;
      }
    } else positional.push(a);
  }
  return { positional, flags };
}

const ALLOWED: Record<string, string[]> = {
  import: ['name', 'mixed-sizes', 'resize', 'channels'],
  datasets: [],
  train: ['dataset', 'model', 'epochs', 'batch-size', 'optimizer', 'lr', 'momentum', 'seed', 'val-split', 'patience', 'augment-flip',
    'augment-shift', 'limit', 'kernels', 'threads', 'progress-every', 'name'],
  runs: ['dataset', 'status'],
  show: [],
  resume: [],
  fork: ['snapshot', 'epochs', 'batch-size', 'optimizer', 'lr', 'momentum', 'seed', 'val-split', 'patience', 'augment-flip', 'augment-shift',
    'limit', 'kernels', 'threads', 'progress-every', 'name'],
  eval: ['dataset', 'split'],
  compare: [],
  export: ['format', 'out', 'snapshot'],
};

function str(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v;
}

function numberFlag(p: Parsed, name: string, integer: boolean): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(v)}`);
  return n;
}

function hyperparametersFrom(p: Parsed): HyperparameterInput {
  const h: HyperparameterInput = {};
  const epochs = numberFlag(p, 'epochs', true);
  if (epochs !== undefined) h.epochs = epochs;
  const batchSize = numberFlag(p, 'batch-size', true);
  if (batchSize !== undefined) h.batchSize = batchSize;
  const seed = numberFlag(p, 'seed', true);
  if (seed !== undefined) h.seed = seed;
  const val = numberFlag(p, 'val-split', false);
  if (val !== undefined) h.validationSplit = val;
  const limit = numberFlag(p, 'limit', true);
  if (limit !== undefined) h.trainLimit = limit;
  const every = numberFlag(p, 'progress-every', true);
  if (every !== undefined) h.progressEvery = every;
  const threads = numberFlag(p, 'threads', true);
  if (threads !== undefined) h.threads = threads;
  const kernels = str(p, 'kernels');
  if (kernels !== undefined) {
    if (kernels !== 'fast' && kernels !== 'reference') throw new UsageError(`--kernels must be fast or reference, got ${JSON.stringify(kernels)}`);
    h.kernels = kernels;
  }
  const optimizer = str(p, 'optimizer');
  const lr = numberFlag(p, 'lr', false);
  const momentum = numberFlag(p, 'momentum', false);
  if (optimizer !== undefined || lr !== undefined || momentum !== undefined) {
    if (optimizer !== undefined && optimizer !== 'sgd' && optimizer !== 'adam') throw new UsageError(`--optimizer must be sgd or adam, got ${JSON.stringify(optimizer)}`);
    h.optimizer = {};
    if (optimizer) h.optimizer.type = optimizer as 'sgd' | 'adam';
    if (lr !== undefined) h.optimizer.learningRate = lr;
    if (momentum !== undefined) (h.optimizer as { momentum?: number }).momentum = momentum;
  }
  const patience = numberFlag(p, 'patience', true);
  if (patience !== undefined) h.earlyStopping = { patience };
  const shift = numberFlag(p, 'augment-shift', true);
  if (p.flags.has('augment-flip') || shift !== undefined) {
    h.augment = {};
    if (p.flags.has('augment-flip')) h.augment.flipHorizontal = true;
    if (shift !== undefined) h.augment.maxShift = shift;
  }
  return h;
}

const INPUT_ERRORS: ReadonlySet<ErrorCode> = new Set(['bad_request', 'invalid_spec', 'invalid_hyperparameters', 'import_failed', 'not_found']);

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    io.stderr(`cnn-studio: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const json = parsed.flags.has('json');
  const [command, ...args] = parsed.positional;
  if (parsed.flags.has('help') || !command) {
    (command || parsed.flags.has('help') ? io.stdout : io.stderr)(USAGE + '\n');
    return parsed.flags.has('help') ? 0 : 2;
  }
  const out = (value: unknown) => io.stdout(JSON.stringify(value) + '\n');
  const fail = (code: number, error: { code: string; message: string; detail?: unknown }) => {
    if (json) out({ type: 'result', ok: false, error });
    else io.stderr(`cnn-studio ${command}: ${error.message}\n`);
    return code;
  };
  const allowed = ALLOWED[command];
  if (!allowed) return fail(2, { code: 'bad_request', message: `unknown command ${JSON.stringify(command)}; see cnn-studio --help` });
  for (const name of parsed.flags.keys()) {
    if (name !== 'db' && name !== 'json' && !allowed.includes(name)) return fail(2, { code: 'bad_request', message: `unknown option --${name} for ${command}` });
  }

  const dbPath = resolve(str(parsed, 'db') ?? defaultDatabasePath());
  let service: Service | null = null;
  try {
    service = await Service.open(dbPath, dirname(dbPath), io.serviceOptions);
    if (service.startup.sampleError) io.stderr(`cnn-studio: warning: the bundled sample dataset could not be imported (${service.startup.sampleError})\n`);
    const ctx: Ctx = { service, io, json, out, parsed, args };
    const result = await COMMAND_HANDLERS[command]!(ctx);
    if (json) out({ type: 'result', ok: result.code === 0, value: result.value, ...(result.error ? { error: result.error } : {}) });
    else if (result.error) io.stderr(`cnn-studio ${command}: ${result.error.message}\n`);
    return result.code;
  } catch (e) {
    if (e instanceof UsageError) return fail(2, { code: 'bad_request', message: e.message });
    if (e instanceof ServiceError) return fail(INPUT_ERRORS.has(e.code) ? 2 : 1, e.toData());
    return fail(1, { code: 'internal', message: (e as Error)?.message ?? String(e) });
  } finally {
    io.onInterrupt?.(null);
    await service?.close();
  }
}

interface Ctx {
  service: Service;
  io: CliIo;
  json: boolean;
  out: (value: unknown) => void;
  parsed: Parsed;
  args: string[];
}

interface Outcome {
  code: number;
  value?: unknown;
  error?: { code: string; message: string };
}

function needArgs(ctx: Ctx, count: number, what: string): void {
  if (ctx.args.length < count) throw new UsageError(`missing ${what}`);
}

const COMMAND_HANDLERS: Record<string, (ctx: Ctx) => Promise<Outcome>> = {
  async import(ctx) {
    needArgs(ctx, 1, 'the path to import');
    const { service, io, json, out, parsed } = ctx;
    const resize = str(parsed, 'resize');
    const mixed = str(parsed, 'mixed-sizes');
    if (mixed !== undefined && !['skip', 'resize', 'refuse'].includes(mixed)) throw new UsageError(`--mixed-sizes must be skip, resize or refuse, got ${JSON.stringify(mixed)}`);
    const channels = numberFlag(parsed, 'channels', true);
    if (channels !== undefined && channels !== 1 && channels !== 3) throw new UsageError(`--channels must be 1 or 3, got ${channels}`);
    let resizeTo: [number, number] | undefined;
    if (resize !== undefined) {
      const m = /^(\d+)x(\d+)$/i.exec(resize);
      if (!m) throw new UsageError(`--resize must be HxW, e.g. 28x28, got ${JSON.stringify(resize)}`);
      resizeTo = [Number(m[1]), Number(m[2])];
    }
    let lastPhase = '';
    const off = service.on('importProgress', (p) => {
      if (json) out({ type: 'importProgress', ...p });
      else if (io.isTTY) io.stderr(`\r${p.phase.padEnd(9)} ${bar(p.total ? p.done / p.total : 0)} ${p.done}/${p.total}   `);
      else if (p.phase !== lastPhase) io.stderr(`${p.phase}…\n`);
      lastPhase = p.phase;
    });
    const r = await service.importDataset({
      path: resolve(ctx.args[0]!), name: str(parsed, 'name'), mixedSizes: mixed as 'skip' | 'resize' | 'refuse' | undefined, resizeTo,
      channels: channels as 1 | 3 | undefined,
    }).finally(off);
    if (!json) {
      if (io.isTTY) io.stderr('\n');
      const d = r.dataset;
      io.stdout(`${r.alreadyImported ? 'already imported as' : 'imported'} dataset ${d.id} "${d.name}": ${d.format}, ${d.shape.join('×')}, ${d.classNames.length} classes, ${d.trainCount} train + ${d.testCount} test images\n`);
      for (const w of (d.lint as { warnings?: string[] } | null)?.warnings ?? []) io.stdout(`  warning: ${w}\n`);
    }
    return { code: 0, value: r };
  },

  async datasets(ctx) {
    const list = ctx.service.listDatasets();
    if (!ctx.json) {
      ctx.io.stdout(table(['id', 'name', 'format', 'shape', 'classes', 'train', 'test', 'runs'],
        list.map((d) => [d.id, d.name, d.format, d.shape.join('×'), d.classNames.length, d.trainCount, d.testCount, d.runCount])) + '\n');
    }
    return { code: 0, value: list };
  },

  async train(ctx) {
    const { service, parsed } = ctx;
    const datasetArg = str(parsed, 'dataset');
    const modelArg = str(parsed, 'model');
    if (!datasetArg) throw new UsageError('train needs --dataset <id|name|path>');
    if (!modelArg) throw new UsageError(`train needs --model <spec.json|${TEMPLATES.map((t) => t.name).join('|')}>`);
    const dataset = await resolveDataset(ctx, datasetArg);
    let spec: ModelSpec;
    const template = findTemplate(modelArg);
    if (template) spec = template.build(dataset.shape, dataset.classNames.length);
    else if (existsSync(modelArg)) {
      try {
        spec = JSON.parse(readFileSync(modelArg, 'utf8')) as ModelSpec;
      } catch (e) {
        throw new ServiceError('bad_request', `${modelArg}: not a JSON ModelSpec (${(e as Error).message})`);
      }
    } else throw new UsageError(`--model ${JSON.stringify(modelArg)} is neither a spec file nor a template (${TEMPLATES.map((t) => t.name).join(', ')})`);
    const run = service.startRun({ datasetId: dataset.id, spec, hyperparameters: hyperparametersFrom(parsed), name: str(parsed, 'name') });
    return follow(ctx, run);
  },

  async resume(ctx) {
    needArgs(ctx, 1, 'the run to resume');
    const run = ctx.service.resumeRun({ id: ctx.service.findRun(ctx.args[0]!).id });
    return follow(ctx, run);
  },

  async fork(ctx) {
    needArgs(ctx, 1, 'the run to fork');
    const parent = ctx.service.findRun(ctx.args[0]!);
    const run = ctx.service.forkRun({ runId: parent.id, snapshotId: numberFlag(ctx.parsed, 'snapshot', true), hyperparameters: hyperparametersFrom(ctx.parsed), name: str(ctx.parsed, 'name') });
    return follow(ctx, run);
  },

  async runs(ctx) {
    const ds = str(ctx.parsed, 'dataset');
    const status = str(ctx.parsed, 'status') as RunSummary['status'] | undefined;
    const list = ctx.service.listRuns({ datasetId: ds ? ctx.service.findDataset(ds).id : undefined, status });
    if (!ctx.json) {
      ctx.io.stdout(table(['id', 'name', 'status', 'dataset', 'epochs', 'val acc', 'test acc', 'kernels', 'parent'],
        list.map((r) => [r.id, r.name, r.status, r.datasetName, `${r.epochsDone}/${r.hyperparameters.epochs}`, pct(r.lastValAccuracy), pct(r.testAccuracy), r.kernelsUsed, r.parentRunId])) + '\n');
    }
    return { code: 0, value: list };
  },

  async show(ctx) {
    needArgs(ctx, 1, 'the run to show');
    const run = ctx.service.getRun({ id: ctx.service.findRun(ctx.args[0]!).id, batches: false });
    if (!ctx.json) ctx.io.stdout(showRun(run));
    return { code: 0, value: run };
  },

  async eval(ctx) {
    needArgs(ctx, 1, 'the run to evaluate');
    const run = ctx.service.findRun(ctx.args[0]!);
    const ds = str(ctx.parsed, 'dataset');
    const split = str(ctx.parsed, 'split');
    if (split !== undefined && !['test', 'validation', 'train'].includes(split)) throw new UsageError(`--split must be test, validation or train, got ${JSON.stringify(split)}`);
    const datasetId = ds ? (await resolveDataset(ctx, ds)).id : undefined;
    const e = await ctx.service.evaluateRun({ runId: run.id, datasetId, split: split as 'test' | 'validation' | 'train' | undefined });
    if (!ctx.json) {
      ctx.io.stdout(`run ${run.id} on ${e.split} (${e.count} images): accuracy ${pct(e.accuracy)}, loss ${num(e.loss)}\n`);
      ctx.io.stdout(table(['class', 'precision', 'recall', 'f1', 'support'], e.perClass.map((c) => [c.className, num(c.precision, 3), num(c.recall, 3), num(c.f1, 3), c.support])) + '\n');
      ctx.io.stdout('confusion (rows: true class, columns: predicted)\n');
      ctx.io.stdout(table(['', ...e.perClass.map((_, i) => String(i))], e.confusion.map((row, i) => [e.perClass[i]!.className === String(i) ? String(i) : `${i} ${e.perClass[i]!.className}`, ...row])) + '\n');
    }
    return { code: 0, value: e };
  },

  async compare(ctx) {
    if (ctx.args.length < 2) throw new UsageError('compare needs two or more runs');
    const ids = ctx.args.map((a) => ctx.service.findRun(a).id);
    const c = ctx.service.compareRuns({ ids });
    if (!ctx.json) {
      const o = ctx.io.stdout;
      o(table(['epoch', ...ids.map((id) => `#${id} val acc`), ...ids.map((id) => `#${id} train loss`)],
        c.epochs.map((e, i) => [e, ...ids.map((id) => pct(c.series[id]!.valAccuracy[i])), ...ids.map((id) => num(c.series[id]!.trainLoss[i]))])) + '\n');
      if (c.hyperparameterDiffs.length) o('\nhyperparameters that differ\n' + table(['', ...ids.map((id) => `#${id}`)], c.hyperparameterDiffs.map((d) => [d.path, ...d.values.map((v) => JSON.stringify(v))])) + '\n');
      else o('\nsame hyperparameters\n');
      if (c.architectureDiffs.length) o('\narchitecture differences\n' + table(['layer', ...ids.map((id) => `#${id}`)], c.architectureDiffs.map((d) => [d.layer, ...d.values])) + '\n');
      else o('same architecture\n');
      if (c.testAccuracy.some((a) => a !== null)) {
        o('\nper-class F1 (latest evaluation)\n' + table(['class', ...ids.map((id) => `#${id}`)], [
          ...c.perClass.map((p) => [p.className, ...p.f1.map((f) => num(f, 3))]),
          ['accuracy', ...c.testAccuracy.map(pct)],
        ]) + '\n');
      }
    }
    return { code: 0, value: c };
  },

  async export(ctx) {
    needArgs(ctx, 1, 'the run to export');
    const format = str(ctx.parsed, 'format');
    const outPath = str(ctx.parsed, 'out');
    if (format !== 'json' && format !== 'onnx' && format !== 'csv') throw new UsageError('export needs --format json|onnx|csv');
    if (!outPath) throw new UsageError('export needs --out FILE');
    const r = ctx.service.exportRun({ runId: ctx.service.findRun(ctx.args[0]!).id, format, outPath: resolve(outPath), snapshotId: numberFlag(ctx.parsed, 'snapshot', true) });
    if (!ctx.json) for (const f of r.files) ctx.io.stdout(`wrote ${f.path} (${f.bytes} bytes)\n`);
    return { code: 0, value: r };
  },
};

/** A dataset by id or name, or a path on disk (imported first; the same content is recognised). */
async function resolveDataset(ctx: Ctx, arg: string) {
  try {
    return ctx.service.findDataset(arg);
  } catch (e) {
    if (!(e instanceof ServiceError) || e.code !== 'not_found' || !existsSync(arg)) throw e;
  }
  const r = await ctx.service.importDataset({ path: resolve(arg) });
  if (!ctx.json) ctx.io.stderr(`${r.alreadyImported ? 'using' : 'imported'} dataset ${r.dataset.id} "${r.dataset.name}"\n`);
  return r.dataset;
}

/** Streams a run's progress until it ends; Ctrl-C pauses it. Completed → 0, anything else → 1. */
async function follow(ctx: Ctx, run: RunSummary): Promise<Outcome> {
  const { service, io, json, out } = ctx;
  const epochs = run.hyperparameters.epochs;
  let interrupted = false;
  io.onInterrupt?.(async () => {
    if (interrupted) return;
    interrupted = true;
    if (!json) io.stderr(`\npausing run ${run.id} after the current batch…\n`);
    await service.pauseRun({ id: run.id }).catch(() => undefined);
  });
  const offs = [
    service.on('runProgress', (e: Events['runProgress']) => {
      if (e.runId !== run.id) return;
      if (json) return out({ type: 'runProgress', ...e });
      if (e.kind === 'batch') {
        if (io.isTTY) {
          const done = (e.epoch - 1 + e.batch / e.batchesPerEpoch) / epochs;
          io.stderr(`\repoch ${e.epoch}/${epochs} ${bar(done)} ${(done * 100).toFixed(0).padStart(3)}%  loss ${e.loss.toFixed(4)}  acc ${pct(e.accuracy)}   `);
        }
      } else {
        if (io.isTTY) io.stderr('\r\x1b[K');
        io.stdout(`epoch ${e.epoch}/${e.epochs}  loss ${num(e.trainLoss)}  acc ${pct(e.trainAccuracy)}  val loss ${num(e.valLoss) ?? '—'}  val acc ${pct(e.valAccuracy) ?? '—'}  ${Math.round(e.imagesPerSecond)} img/s${e.improved ? '  ★' : ''}\n`);
      }
    }),
    service.on('runStatus', (e) => {
      if (e.runId !== run.id) return;
      if (json) return out({ type: 'runStatus', ...e });
      if (e.status === 'running') {
        const requested = run.hyperparameters.kernels;
        const threads = run.hyperparameters.threads ?? 1;
        io.stdout(`run ${run.id} "${run.name}" training with ${e.kernelsUsed} kernels${requested === 'fast' && e.kernelsUsed === 'reference' ? ' (fast kernels unavailable)' : ''} on ${threads} thread${threads === 1 ? '' : 's'}\n`);
      }
    }),
  ];
  const final = await service.waitForRun(run.id).finally(() => offs.forEach((off) => off()));
  io.onInterrupt?.(null);
  const detail = service.getRun({ id: run.id, batches: false });
  if (!json) {
    if (io.isTTY) io.stderr('\r\x1b[K');
    io.stdout(summaryLine(detail) + '\n');
    if (final.status === 'paused') io.stdout(`resume with: cnn-studio${ctx.parsed.flags.has('db') ? ` --db ${str(ctx.parsed, 'db')}` : ''} resume ${run.id}\n`);
  }
  const { batches: _b, ...value } = detail;
  if (final.status === 'completed') return { code: 0, value };
  const message = final.status === 'failed' ? `run ${run.id} failed: ${final.error}` : `run ${run.id} ${final.status} at epoch ${final.epochsDone}`;
  return { code: 1, value, error: { code: final.status, message } };
}

function summaryLine(r: RunDetail): string {
  const last = r.epochs[r.epochs.length - 1];
  const best = r.bestEpoch !== null ? r.epochs.find((e) => e.epoch === r.bestEpoch) : undefined;
  return `run ${r.id} ${r.status}${r.stopReason && r.stopReason !== r.status ? ` (${r.stopReason})` : ''}: ${r.epochsDone}/${r.hyperparameters.epochs} epochs in ${duration(r.trainSeconds)}` +
    (last ? `, last val acc ${pct(last.valAccuracy) ?? '—'}, train loss ${num(last.trainLoss)}` : '') +
    (best ? `, best epoch ${best.epoch} (val acc ${pct(best.valAccuracy) ?? '—'})` : '') + (r.error ? `\n  error: ${r.error}` : '');
}

function showRun(r: RunDetail): string {
  const h = r.hyperparameters;
  const lines = [
    `run ${r.id} "${r.name}" — ${r.status}${r.error ? `: ${r.error}` : ''}`,
    `dataset ${r.datasetId} "${r.datasetName}", ${r.totalParams} parameters, spec ${r.specHash}, engine ${r.engineVersion}, kernels ${r.kernelsUsed ?? h.kernels}`,
    `epochs ${h.epochs}, batch ${h.batchSize}, ${h.optimizer.type} lr ${h.optimizer.learningRate}, seed ${h.seed}, val split ${h.validationSplit}` +
      `${h.earlyStopping ? `, patience ${h.earlyStopping.patience}` : ''}${h.augment.flipHorizontal ? ', flip' : ''}${h.augment.maxShift ? `, shift ≤${h.augment.maxShift}px` : ''}${h.trainLimit ? `, first ${h.trainLimit} images` : ''}`,
  ];
  if (r.lineage.length) lines.push(`forked from ${r.lineage.map((l) => `run ${l.runId} (snapshot ${l.snapshotId ?? '?'}, epoch ${l.epoch ?? '?'})`).join(' ← ')}`);
  if (r.children.length) lines.push(`forks: ${r.children.join(', ')}`);
  if (r.notes) lines.push(`notes: ${r.notes}`);
  if (r.tags.length) lines.push(`tags: ${r.tags.join(', ')}`);
  lines.push('', table(['epoch', 'train loss', 'train acc', 'val loss', 'val acc', 'lr', 'img/s', 'wall s'],
    r.epochs.map((e) => [`${e.epoch}${e.epoch === r.bestEpoch ? '*' : ''}`, num(e.trainLoss), pct(e.trainAccuracy), num(e.valLoss), pct(e.valAccuracy), e.learningRate, Math.round(e.imagesPerSecond), e.wallTime.toFixed(1)])));
  lines.push('', `snapshots: ${r.snapshots.length} (${r.snapshots.map((s) => `${s.id}:${s.kind}@${s.epoch}${s.isBest ? '*' : ''}`).join(' ')})`);
  for (const e of r.evaluations) lines.push(`evaluation ${e.id}: ${e.split} accuracy ${pct(e.accuracy)} on ${e.count} images (snapshot ${e.snapshotId})`);
  return lines.join('\n') + '\n';
}
