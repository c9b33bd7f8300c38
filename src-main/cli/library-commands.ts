/**
 * The CLI's commands for keeping the library tidy: show a dataset whole, rename it and its classes,
 * tag and annotate datasets and runs, delete them (saying what else goes, and asking), re-import a
 * dataset whose cache file is gone.
 */
import { readFileSync } from 'node:fs';
import type { DatasetInfo, LintReport, RunSummary } from '../contract/index.js';
import { ServiceError } from '../service/errors.js';
import { str, UsageError } from './args.js';
import type { CliCommand, Ctx } from './commands.js';
import { pct, table } from './format.js';

/** "a,b,c" → ['a', 'b', 'c'] ("" → []). */
export const listFlag = (text: string): string[] => text.split(',').map((t) => t.trim()).filter(Boolean);

/** --classes a,b,c or --classes-file FILE (one name a line), or undefined. */
export function classNamesFrom(ctx: Ctx): string[] | undefined {
  const inline = str(ctx.parsed, 'classes');
  const file = str(ctx.parsed, 'classes-file');
  if (inline !== undefined && file !== undefined) throw new UsageError('give --classes or --classes-file, not both');
  if (inline !== undefined) return listFlag(inline);
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--classes-file ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

/** Asks the user (y/N) where there is one to ask; otherwise says to pass --yes. */
async function confirmed(ctx: Ctx, question: string, refusal: ServiceError): Promise<boolean> {
  if (ctx.parsed.flags.has('yes')) return true;
  if (!ctx.io.confirm) throw new ServiceError(refusal.code, `${refusal.message}; pass --yes to go ahead`, refusal.detail);
  return ctx.io.confirm(`${refusal.message}.\n${question} [y/N] `);
}

/** How this process was called, for a command line to type next ("cnn-studio --db x.sqlite"). */
export const self = (ctx: Ctx): string => `cnn-studio${ctx.parsed.flags.has('db') ? ` --db ${str(ctx.parsed, 'db')}` : ''}`;

export function showDataset(d: DatasetInfo, cli = 'cnn-studio'): string {
  const lint = d.lint as LintReport;
  const lines = [
    `dataset ${d.id} "${d.name}" — ${d.format} from ${d.source}`,
    `images ${d.shape.join('×')} (H×W×C), ${d.classNames.length} classes; train ${d.trainCount}, test ${d.testCount}; ${d.runCount} run${d.runCount === 1 ? '' : 's'}; imported ${d.createdAt}`,
  ];
  if (d.cacheProblem) lines.push(`NOT USABLE: ${d.cacheProblem}; re-import with: ${cli} reimport ${d.id}`);
  if (d.tags.length) lines.push(`tags: ${d.tags.join(', ')}`);
  if (d.notes) lines.push(`notes: ${d.notes}`);
  lines.push('', table(['label', 'class', 'train', 'test'], d.classNames.map((c, i) => [i, c, d.countsPerClass.train[i] ?? 0, d.countsPerClass.test[i] ?? 0])));
  lines.push('', 'lint report');
  lines.push(...(lint.warnings.length ? lint.warnings.map((w) => `  warning: ${w}`) : ['  no warnings']));
  lines.push(`  class imbalance (largest ÷ smallest): ${lint.imbalance.ratio.toFixed(2)}`);
  lines.push(`  exact duplicates: ${lint.duplicates.count} in ${lint.duplicates.groups} groups${lint.duplicates.conflictingLabels ? `, ${lint.duplicates.conflictingLabels} with another label` : ''}`);
  for (const e of lint.duplicates.examples) lines.push(`    ${e.duplicate} = ${e.first}`);
  lines.push(`  test images also in training: ${lint.trainTestOverlap.count}`);
  for (const e of lint.trainTestOverlap.examples) lines.push(`    ${e}`);
  lines.push(`  images of another size than ${lint.mixedSizes.majority.join('×')}: ${lint.mixedSizes.files.length}${lint.mixedSizes.files.length ? ` (${lint.mixedSizes.action})` : ''}`);
  for (const f of lint.mixedSizes.files) lines.push(`    ${f.file}: ${f.reason}`);
  // every skipped file with its reason (the import summary may only say "e.g.")
  lines.push(`  skipped files: ${lint.corruptCount}`);
  for (const f of lint.corrupt) lines.push(`    ${f.file}: ${f.reason}`);
  if (lint.corruptCount > lint.corrupt.length) lines.push(`    … and ${lint.corruptCount - lint.corrupt.length} more (the report keeps the first ${lint.corrupt.length})`);
  return lines.join('\n') + '\n';
}

const runLine = (r: RunSummary) => `#${r.id} "${r.name}"`;

export const LIBRARY_COMMANDS: Record<string, CliCommand> = {
  dataset: {
    usage: '<id|name> [--rename NEW] [--classes a,b,…|--classes-file FILE] [--tags a,b] [--notes TEXT]',
    flags: ['rename', 'classes', 'classes-file', 'tags', 'notes'],
    async run(ctx) {
      if (ctx.args.length < 1) throw new UsageError('missing the dataset (id or name)');
      const { service, parsed } = ctx;
      let d = service.datasets.find(ctx.args[0]!);
      const name = str(parsed, 'rename');
      const classNames = classNamesFrom(ctx);
      const tags = str(parsed, 'tags');
      const notes = str(parsed, 'notes');
      if (name !== undefined || classNames !== undefined || tags !== undefined || notes !== undefined) {
        d = service.datasets.update({ id: d.id, name, classNames, tags: tags === undefined ? undefined : listFlag(tags), notes });
      }
      if (!ctx.json) ctx.io.stdout(showDataset(d, self(ctx)));
      return { code: 0, value: d };
    },
  },

  'delete-dataset': {
    usage: '<id|name> [--yes]   (also deletes the runs that use it, after saying which)',
    flags: ['yes'],
    async run(ctx) {
      if (ctx.args.length < 1) throw new UsageError('missing the dataset (id or name)');
      const { service } = ctx;
      const d = service.datasets.find(ctx.args[0]!);
      const isActive = (id: number) => service.runs.isActive(id);
      try {
        const r = service.datasets.delete(d.id, false, isActive);
        if (!ctx.json) ctx.io.stdout(`deleted dataset ${d.id} "${d.name}"\n`);
        return { code: 0, value: r };
      } catch (e) {
        if (!(e instanceof ServiceError) || e.code !== 'in_use') throw e;
        if (!(await confirmed(ctx, `Delete dataset "${d.name}" and those runs?`, e))) return { code: 1, error: { code: 'cancelled', message: 'nothing deleted' } };
        const r = service.datasets.delete(d.id, true, isActive);
        if (!ctx.json) ctx.io.stdout(`deleted dataset ${d.id} "${d.name}" and ${r.runsDeleted.length} run${r.runsDeleted.length === 1 ? '' : 's'} (${r.runsDeleted.map((id) => `#${id}`).join(', ')})\n`);
        return { code: 0, value: r };
      }
    },
  },

  reimport: {
    usage: '<id|name>   (restores a dataset whose cache file is missing or damaged, from its source)',
    flags: [],
    async run(ctx) {
      if (ctx.args.length < 1) throw new UsageError('missing the dataset (id or name)');
      const d = ctx.service.datasets.find(ctx.args[0]!);
      const restored = await ctx.service.datasets.reimport(d.id);
      if (!ctx.json) ctx.io.stdout(`re-imported dataset ${d.id} "${d.name}" from ${d.source}: ${restored.cacheProblem ?? 'usable again'}\n`);
      return { code: 0, value: restored };
    },
  },

  edit: {
    usage: '<run> [--rename NEW] [--tags a,b] [--notes TEXT]',
    flags: ['rename', 'tags', 'notes'],
    async run(ctx) {
      if (ctx.args.length < 1) throw new UsageError('missing the run to edit');
      const run = ctx.service.runs.find(ctx.args[0]!);
      const tags = str(ctx.parsed, 'tags');
      const updated = ctx.service.runs.update({ id: run.id, name: str(ctx.parsed, 'rename'), notes: str(ctx.parsed, 'notes'), tags: tags === undefined ? undefined : listFlag(tags) });
      if (!ctx.json) ctx.io.stdout(`run ${runLine(updated)}${updated.tags.length ? ` · tags ${updated.tags.join(', ')}` : ''}${updated.notes ? ` · notes: ${updated.notes}` : ''}\n`);
      return { code: 0, value: updated };
    },
  },

  delete: {
    usage: '<run> [--yes]   (says so when the run has forks, and asks)',
    flags: ['yes'],
    async run(ctx) {
      if (ctx.args.length < 1) throw new UsageError('missing the run to delete');
      const run = ctx.service.runs.find(ctx.args[0]!);
      try {
        ctx.service.runs.delete(run.id);
      } catch (e) {
        if (!(e instanceof ServiceError) || e.code !== 'in_use') throw e;
        if (!(await confirmed(ctx, `Delete run #${run.id}?`, e))) return { code: 1, error: { code: 'cancelled', message: 'nothing deleted' } };
        ctx.service.runs.delete(run.id, true);
      }
      if (!ctx.json) ctx.io.stdout(`deleted run ${runLine(run)}\n`);
      return { code: 0, value: { deleted: true, id: run.id } };
    },
  },
};

/** The runs table as the CLI prints it (or as CSV). */
export function runsTable(list: RunSummary[], csv: boolean, runsCsv: (runs: RunSummary[]) => string): string {
  if (csv) return runsCsv(list);
  return table(['id', 'name', 'status', 'dataset', 'tags', 'epochs', 'params', 'best val', 'test acc', 'created'],
    list.map((r) => [r.id, r.name, r.status, r.datasetName, r.tags.join(',') || null, `${r.epochsDone}/${r.epochOffset + r.hyperparameters.epochs}`, r.totalParams, pct(r.bestValAccuracy), pct(r.testAccuracy), r.createdAt.slice(0, 16).replace('T', ' ')])) + '\n';
}
