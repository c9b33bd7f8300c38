/**
 * The CLI's commands, one entry each: its usage line, the flags it takes and what it does. The
 * usage text and the unknown-flag check are built from this table.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { comparisonCsv, overlayHyperparameters, RUN_SORTS, runsCsv, type ArchitectureRow, type DatasetInfo, type HyperparameterInput, type ModelSpec, type PredictResponse } from '../contract/index.js';
import { writeAtomic } from '../export/index.js';
import { ServiceError } from '../service/errors.js';
import type { Service } from '../service/service.js';
import { findTemplate, TEMPLATES } from '../service/templates.js';
import { DEFAULT_MODEL_LIMITS, formatBytes, modelLimits, setModelLimits, type ModelLimits } from '../service/model-size.js';
import { choiceFlag, HYPERPARAMETER_FLAGS, hyperparametersFrom, numberFlag, str, UsageError, type Parsed } from './args.js';
import { follow, showRun } from './follow.js';
import type { CliIo } from './index.js';
import { bar, num, pct, table } from './format.js';
import { EXPERIMENT_COMMANDS } from './experiment-commands.js';
import { imageArgument } from './image-argument.js';
import { INSPECT_COMMANDS } from './inspect-commands.js';
import { classNamesFrom, LIBRARY_COMMANDS, runsTable, self } from './library-commands.js';

/** How an aligned architecture row reads in a table: what the later runs did there against the first. */
export function changeMark(changes: ArchitectureRow['changes']): string {
  const later = changes.slice(1).filter((c) => c !== 'same');
  return later.length === 0 ? '' : [...new Set(later)].join('/');
}

export interface Ctx {
  service: Service;
  io: CliIo;
  json: boolean;
  out: (value: unknown) => void;
  parsed: Parsed;
  args: string[];
}

export interface Outcome {
  code: number;
  value?: unknown;
  error?: { code: string; message: string };
}

/** What a command that works on the library file itself gets: the file, not a studio. */
export type FileCtx = Omit<Ctx, 'service'> & { dbPath: string };

export interface CliCommand {
  /** What follows the command's name in the usage text. */
  usage: string;
  flags: readonly string[];
  run?(ctx: Ctx): Promise<Outcome>;
  /** Instead of run: works on the file without opening the studio, so it works on a damaged library too. */
  runOnFile?(ctx: FileCtx): Promise<Outcome>;
}

function needArgs(ctx: { args: string[] }, count: number, what: string): void {
  if (ctx.args.length < count) throw new UsageError(`missing ${what}`);
}

const TEMPLATE_NAMES = TEMPLATES.map((t) => t.name).join('|');

export const CLI_COMMANDS: Record<string, CliCommand> = {
  import: {
    usage: '<path> [--name NAME] [--classes a,b,…|--classes-file FILE] [--mixed-sizes skip|resize|refuse] [--resize HxW] [--channels 1|3]',
    flags: ['name', 'classes', 'classes-file', 'mixed-sizes', 'resize', 'channels'],
    async run(ctx) {
      needArgs(ctx, 1, 'the path to import');
      const { service, io, json, out, parsed } = ctx;
      const resize = str(parsed, 'resize');
      const mixedSizes = choiceFlag(parsed, 'mixed-sizes', ['skip', 'resize', 'refuse'] as const);
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
      const classNames = classNamesFrom(ctx);
      const r = await service.datasets.import({
        path: resolve(ctx.args[0]!), name: str(parsed, 'name'), mixedSizes, resizeTo, channels: channels as 1 | 3 | undefined, classNames,
      }).finally(off);
      if (!json) {
        if (io.isTTY) io.stderr('\n');
        const d = r.dataset;
        io.stdout(`${r.alreadyImported ? 'already imported as' : 'imported'} dataset ${d.id} "${d.name}": ${d.format}, ${d.shape.join('×')}, ${d.classNames.length} classes, ${d.trainCount} train + ${d.testCount} test images\n`);
        if (r.recognizedAs) io.stdout(`  recognised as ${r.recognizedAs}: classes ${d.classNames.join(', ')}\n`);
        for (const w of (d.lint as { warnings?: string[] } | null)?.warnings ?? []) io.stdout(`  warning: ${w}\n`);
        if ((d.lint as { corruptCount?: number }).corruptCount) io.stdout(`  every skipped file and why: ${self(ctx)} dataset ${d.id}\n`);
      }
      return { code: 0, value: r };
    },
  },

  datasets: {
    usage: '',
    flags: [],
    async run(ctx) {
      const list = ctx.service.datasets.list();
      if (!ctx.json) {
        ctx.io.stdout(table(['id', 'name', 'format', 'shape', 'classes', 'train', 'test', 'runs', 'tags'],
          list.map((d) => [d.id, d.name, d.format, d.shape.join('×'), d.classNames.length, d.trainCount, d.testCount, d.runCount, d.tags.join(',') || null])) + '\n');
        for (const d of list.filter((x) => x.cacheProblem)) ctx.io.stdout(`dataset ${d.id} "${d.name}" is not usable: ${d.cacheProblem}; re-import with: ${self(ctx)} reimport ${d.id}\n`);
      }
      return { code: 0, value: list };
    },
  },

  train: {
    usage: `--dataset <id|name|path> --model <spec.json|${TEMPLATE_NAMES}> [--name NAME] [hyperparameter flags]`,
    flags: ['dataset', 'model', 'name', ...HYPERPARAMETER_FLAGS],
    async run(ctx) {
      const { service, parsed } = ctx;
      const datasetArg = str(parsed, 'dataset');
      const modelArg = str(parsed, 'model');
      if (!datasetArg) throw new UsageError('train needs --dataset <id|name|path>');
      if (!modelArg) throw new UsageError(`train needs --model <spec.json|${TEMPLATE_NAMES}>`);
      const dataset = await resolveDataset(ctx, datasetArg);
      let spec: ModelSpec;
      // a template's recommended hyperparameters, under whatever the flags say
      let hyperparameters: HyperparameterInput = hyperparametersFrom(parsed);
      const template = findTemplate(modelArg);
      if (template) {
        spec = template.build(dataset.shape, dataset.classNames.length);
        if (template.hyperparameters) hyperparameters = overlayHyperparameters(template.hyperparameters, hyperparameters);
      } else if (existsSync(modelArg)) {
        try {
          spec = JSON.parse(readFileSync(modelArg, 'utf8')) as ModelSpec;
        } catch (e) {
          throw new ServiceError('bad_request', `${modelArg}: not a JSON ModelSpec (${(e as Error).message})`);
        }
      } else throw new UsageError(`--model ${JSON.stringify(modelArg)} is neither a spec file nor a template (${TEMPLATES.map((t) => t.name).join(', ')})`);
      const run = service.runs.start({ datasetId: dataset.id, spec, hyperparameters, name: str(parsed, 'name') });
      return follow(ctx, run);
    },
  },

  runs: {
    usage: `[--dataset <id|name>] [--status S] [--tag T] [--search WORDS] [--sort ${RUN_SORTS.join('|')}] [--order asc|desc] [--csv]`,
    flags: ['dataset', 'status', 'tag', 'search', 'sort', 'order', 'csv'],
    async run(ctx) {
      const ds = str(ctx.parsed, 'dataset');
      const status = choiceFlag(ctx.parsed, 'status', ['queued', 'running', 'paused', 'completed', 'stopped', 'failed', 'interrupted'] as const);
      const list = ctx.service.runs.list({
        datasetId: ds ? ctx.service.datasets.find(ds).id : undefined, status, tag: str(ctx.parsed, 'tag'), search: str(ctx.parsed, 'search'),
        sort: choiceFlag(ctx.parsed, 'sort', RUN_SORTS), order: choiceFlag(ctx.parsed, 'order', ['asc', 'desc'] as const),
      });
      if (!ctx.json) ctx.io.stdout(runsTable(list, ctx.parsed.flags.has('csv'), runsCsv));
      return { code: 0, value: list };
    },
  },

  show: {
    usage: '<run>',
    flags: [],
    async run(ctx) {
      needArgs(ctx, 1, 'the run to show');
      const run = ctx.service.runs.detail(ctx.service.runs.find(ctx.args[0]!).id, false);
      if (!ctx.json) ctx.io.stdout(showRun(run));
      return { code: 0, value: run };
    },
  },

  resume: {
    usage: '<run>',
    flags: [],
    async run(ctx) {
      needArgs(ctx, 1, 'the run to resume');
      return follow(ctx, ctx.service.runs.resume(ctx.service.runs.find(ctx.args[0]!).id));
    },
  },

  fork: {
    usage: '<run> [--snapshot ID] [--name NAME] [hyperparameter flags, as for train]',
    flags: ['snapshot', 'name', ...HYPERPARAMETER_FLAGS],
    async run(ctx) {
      needArgs(ctx, 1, 'the run to fork');
      const parent = ctx.service.runs.find(ctx.args[0]!);
      const run = ctx.service.runs.fork({ runId: parent.id, snapshotId: numberFlag(ctx.parsed, 'snapshot', true), hyperparameters: hyperparametersFrom(ctx.parsed), name: str(ctx.parsed, 'name') });
      return follow(ctx, run);
    },
  },

  eval: {
    usage: '<run> [--dataset <id|name>] [--split test|validation|train] [--snapshot ID]',
    flags: ['dataset', 'split', 'snapshot'],
    async run(ctx) {
      needArgs(ctx, 1, 'the run to evaluate');
      const run = ctx.service.runs.find(ctx.args[0]!);
      const ds = str(ctx.parsed, 'dataset');
      const split = choiceFlag(ctx.parsed, 'split', ['test', 'validation', 'train'] as const);
      const datasetId = ds ? (await resolveDataset(ctx, ds)).id : undefined;
      const e = await ctx.service.evaluations.evaluate({ runId: run.id, datasetId, split, snapshotId: numberFlag(ctx.parsed, 'snapshot', true) });
      if (!ctx.json) {
        ctx.io.stdout(`run ${run.id} on ${e.split} (${e.count} images): accuracy ${pct(e.accuracy)}, loss ${num(e.loss)}\n`);
        ctx.io.stdout(table(['class', 'precision', 'recall', 'f1', 'support'], e.perClass.map((c) => [c.className, num(c.precision, 3), num(c.recall, 3), num(c.f1, 3), c.support])) + '\n');
        ctx.io.stdout('confusion (rows: true class, columns: predicted)\n');
        ctx.io.stdout(table(['', ...e.perClass.map((_, i) => String(i))], e.confusion.map((row, i) => [e.perClass[i]!.className === String(i) ? String(i) : `${i} ${e.perClass[i]!.className}`, ...row])) + '\n');
      }
      return { code: 0, value: e };
    },
  },

  compare: {
    usage: '<run> <run>... [--csv]',
    flags: ['csv'],
    async run(ctx) {
      if (ctx.args.length < 2) throw new UsageError('compare needs two or more runs');
      const ids = ctx.args.map((a) => ctx.service.runs.find(a).id);
      const c = await ctx.service.exec('compareRuns', { ids });
      if (!ctx.json && ctx.parsed.flags.has('csv')) ctx.io.stdout(comparisonCsv(c));
      else if (!ctx.json) {
        const o = ctx.io.stdout;
        o(table(['epoch', ...ids.map((id) => `#${id} val acc`), ...ids.map((id) => `#${id} train loss`)],
          c.epochs.map((e, i) => [e, ...ids.map((id) => pct(c.series[id]!.valAccuracy[i])), ...ids.map((id) => num(c.series[id]!.trainLoss[i]))])) + '\n');
        if (c.hyperparameterDiffs.length) o('\nhyperparameters that differ\n' + table(['', ...ids.map((id) => `#${id}`)], c.hyperparameterDiffs.map((d) => [d.path, ...d.values.map((v) => JSON.stringify(v))])) + '\n');
        else o('\nsame hyperparameters\n');
        if (c.architectureDiffs.length) o('\narchitecture differences (layers aligned by sequence)\n' + table(['', ...ids.map((id) => `#${id}`)], c.architectureDiffs.map((d) => [changeMark(d.changes), ...d.values.map((v, k) => v === null ? '—' : `${d.positions[k]}. ${v}`)])) + '\n');
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
  },

  predict: {
    usage: '<run> <image|test:N|train:N>... [--snapshot ID] [--top N]',
    flags: ['snapshot', 'top'],
    async run(ctx) {
      needArgs(ctx, 2, 'the run and at least one image');
      const run = ctx.service.runs.find(ctx.args[0]!);
      const snapshotId = numberFlag(ctx.parsed, 'snapshot', true);
      const top = numberFlag(ctx.parsed, 'top', true) ?? 3;
      if (top < 1) throw new UsageError(`--top must be at least 1, got ${top}`);
      const value = [];
      for (const arg of ctx.args.slice(1)) {
        const r = await ctx.service.exec('predict', { runId: run.id, snapshotId, image: imageArgument(arg, run.datasetId) });
        if (!ctx.json) ctx.io.stdout(showPrediction(arg, r, top));
        const { base64: _pixels, ...image } = r.image;
        value.push({ input: arg, runId: r.runId, snapshotId: r.snapshotId, epoch: r.epoch, image, probabilities: r.probabilities, top: r.ranked.slice(0, top) });
      }
      return { code: 0, value };
    },
  },

  export: {
    usage: '<run> --format json|onnx|csv|pytorch|html --out FILE (pytorch: a folder; html: one page that classifies images offline) [--snapshot ID]',
    flags: ['format', 'out', 'snapshot'],
    async run(ctx) {
      needArgs(ctx, 1, 'the run to export');
      const format = choiceFlag(ctx.parsed, 'format', ['json', 'onnx', 'csv', 'pytorch', 'html'] as const);
      const outPath = str(ctx.parsed, 'out');
      if (!format) throw new UsageError('export needs --format json|onnx|csv|pytorch|html');
      if (!outPath) throw new UsageError(`export needs --out ${format === 'pytorch' ? 'DIR' : 'FILE'}`);
      const target = resolve(outPath);
      const r = await ctx.service.exec('exportRun', {
        runId: ctx.service.runs.find(ctx.args[0]!).id, format, fileName: format === 'pytorch' ? undefined : basename(target), snapshotId: numberFlag(ctx.parsed, 'snapshot', true),
      });
      // The local user chose the path: the CLI writes there (the service never writes by request).
      // A PyTorch project is a folder of files; the other formats are files beside each other.
      const folder = format === 'pytorch' ? target : dirname(target);
      mkdirSync(folder, { recursive: true });
      const written = r.files.map((f) => {
        const path = join(folder, f.name);
        writeAtomic(path, Buffer.from(f.base64, 'base64'));
        return { name: f.name, path, bytes: f.bytes };
      });
      if (!ctx.json) for (const f of written) ctx.io.stdout(`wrote ${f.path} (${f.bytes} bytes${f.bytes >= 100_000 ? `, ${formatBytes(f.bytes)}` : ''})\n`);
      if (!ctx.json && format === 'html') ctx.io.stdout('open it in any browser (no server, no network): drop, paste, choose or draw an image to classify it\n');
      return { code: 0, value: { files: written } };
    },
  },

  limits: {
    usage: '[--max-parameters N|default] [--max-activation-mb N|default]',
    flags: ['max-parameters', 'max-activation-mb'],
    async run(ctx) {
      const changes = { maxParameters: limitFlag(ctx.parsed, 'max-parameters', 1), maxActivationBytes: limitFlag(ctx.parsed, 'max-activation-mb', 1e6) };
      const changed = Object.values(changes).some((v) => v !== undefined);
      const limits = changed ? setModelLimits(ctx.service.store, changes) : modelLimits(ctx.service.store);
      if (!ctx.json) ctx.io.stdout(limitsText(limits) + (changed ? 'saved: every process using this library checks new runs against them\n' : ''));
      return { code: 0, value: limits };
    },
  },

  check: {
    usage: '[--repair]',
    flags: ['repair'],
    async runOnFile(ctx) {
      const repair = ctx.parsed.flags.has('repair');
      // loaded here: better-sqlite3 is not needed for --help
      const { checkLibrary } = await import('../db/maintenance.js');
      const r = checkLibrary(ctx.dbPath, repair);
      const out = ctx.io.stdout;
      if (r.problems.length === 0) {
        if (!ctx.json) out(`${ctx.dbPath}: the integrity check found nothing wrong\n`);
        return { code: 0, value: r };
      }
      if (r.repaired) {
        if (!ctx.json) out(`${ctx.dbPath}: repaired — its indexes were damaged and are rebuilt from the tables (nothing was lost); the integrity check now passes\n`);
        return { code: 0, value: r };
      }
      if (!ctx.json) {
        out(`${ctx.dbPath} is damaged; the integrity check says:\n${r.problems.slice(0, 10).map((p) => `  ${p}`).join('\n')}\n`);
        out(repair
          ? 'Rebuilding the indexes did not fix it: the tables themselves are damaged. Restore your latest backup ' +
            '(made with "cnn-studio backup FILE"): with CNN Studio closed everywhere, copy it over the library file and delete the -wal and -shm files beside it.\n'
          : 'Keep a copy of the file (and its -wal file), then run "cnn-studio check --repair": if only indexes are damaged, that fixes it.\n');
      }
      return { code: 1, value: r, error: { code: 'storage', message: `the library is damaged: ${r.problems[0]}` } };
    },
  },

  backup: {
    usage: '<file>',
    flags: [],
    async runOnFile(ctx) {
      needArgs(ctx, 1, 'the file to write the backup to');
      const target = resolve(ctx.args[0]!);
      const { backupLibrary } = await import('../db/maintenance.js');
      const { bytes } = backupLibrary(ctx.dbPath, target);
      if (!ctx.json) ctx.io.stdout(`backed up ${ctx.dbPath} to ${target} (${formatBytes(bytes)}); the dataset cache files are not in it: they are made again by importing\n`);
      return { code: 0, value: { file: target, bytes } };
      },
    },

  'import-model': {
    usage: '<model.cnnm> --dataset <id|name|path> [--name NAME]',
    flags: ['dataset', 'name'],
    async run(ctx) {
      needArgs(ctx, 1, 'the model file to import');
      const datasetArg = str(ctx.parsed, 'dataset');
      if (!datasetArg) throw new UsageError('import-model needs --dataset <id|name|path>: the dataset the model is evaluated on');
      const dataset = await resolveDataset(ctx, datasetArg);
      const path = resolve(ctx.args[0]!);
      if (!existsSync(path)) throw new ServiceError('not_found', `${ctx.args[0]}: no such file`);
      const run = await ctx.service.exec('importModel', { datasetId: dataset.id, model: readFileSync(path).toString('base64'), name: str(ctx.parsed, 'name') });
      if (!ctx.json) ctx.io.stdout(`imported ${basename(path)} as run ${run.id} "${run.name}" on dataset ${dataset.id} (${run.kernelsUsed}); evaluate it with: cnn-studio eval ${run.id}\n`);
      return { code: 0, value: run };
    },
  },
  ...LIBRARY_COMMANDS,
  ...EXPERIMENT_COMMANDS,
  ...INSPECT_COMMANDS,
};

function showPrediction(arg: string, r: PredictResponse, top: number): string {
  const lines = [`${arg}: ${r.ranked[0]!.className} (${pct(r.ranked[0]!.probability)})${r.image.label !== null ? `, labelled ${r.ranked.find((c) => c.classIndex === r.image.label)?.className ?? r.image.label}` : ''}`];
  lines.push(`  ${r.image.steps.join('; ')}`);
  const width = Math.max(...r.ranked.slice(0, top).map((c) => c.className.length));
  for (const c of r.ranked.slice(0, top)) lines.push(`  ${c.className.padEnd(width)}  ${pct(c.probability)!.padStart(6)}  ${bar(c.probability)}`);
  return lines.join('\n') + '\n';
}

/** `--max-parameters N` / `default`: a positive integer, or null to go back to the default. */
function limitFlag(p: Parsed, name: string, scale: number): number | null | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (v === 'default') return null;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer or "default", got ${JSON.stringify(v)}`);
  return n * scale;
}

function limitsText(l: ModelLimits): string {
  const mark = (key: keyof ModelLimits) => (l[key] === DEFAULT_MODEL_LIMITS[key] ? ' (default)' : '');
  return `model size limits of this library:\n` +
    `  parameters per model    ${l.maxParameters.toLocaleString('en-US')}${mark('maxParameters')}\n` +
    `  activations per batch   ${formatBytes(l.maxActivationBytes)}${mark('maxActivationBytes')}\n`;
}

/** A dataset by id or name, or a path on disk (imported first; the same content is recognised). */
async function resolveDataset(ctx: Ctx, arg: string): Promise<DatasetInfo> {
  try {
    return ctx.service.datasets.find(arg);
  } catch (e) {
    if (!(e instanceof ServiceError) || e.code !== 'not_found' || !existsSync(arg)) throw e;
  }
  const r = await ctx.service.datasets.import({ path: resolve(arg) });
  if (!ctx.json) ctx.io.stderr(`${r.alreadyImported ? 'using' : 'imported'} dataset ${r.dataset.id} "${r.dataset.name}"\n`);
  return r.dataset;
}
