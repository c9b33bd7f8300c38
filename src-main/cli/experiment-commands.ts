/** The CLI's experiment commands: the semantic diff of two runs, and sweeps. */
import { SWEEP_PARAMETERS, type RunDiff, type SweepDetail, type SweepParameter, type SweepSpace } from '../contract/index.js';
import { numberFlag, str, UsageError } from './args.js';
import type { CliCommand, Ctx, Outcome } from './commands.js';
import { num, pct, table } from './format.js';
import { listFlag } from './library-commands.js';

const SWEEP_FLAGS: Record<SweepParameter, string> = { learningRate: 'lr', batchSize: 'batch-size', optimizer: 'optimizer', dropoutRate: 'dropout', epochs: 'epochs' };

/** --lr 0.01,0.001 (values) or --lr 1e-4:1e-1 (a range, random search). */
function spaceFrom(ctx: Ctx): SweepSpace {
  const space: SweepSpace = {};
  for (const p of SWEEP_PARAMETERS) {
    const flag = SWEEP_FLAGS[p];
    const text = str(ctx.parsed, flag);
    if (text === undefined) continue;
    if (p === 'optimizer') {
      const values = listFlag(text);
      const bad = values.find((v) => v !== 'sgd' && v !== 'adam');
      if (bad) throw new UsageError(`--optimizer takes sgd and/or adam, got ${JSON.stringify(bad)}`);
      space.optimizer = values as ('sgd' | 'adam')[];
      continue;
    }
    const range = /^([^:,]+):([^:,]+)$/.exec(text);
    const number = (v: string) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag}: ${JSON.stringify(v)} is not a number`);
      return n;
    };
    if (range) {
      if (p !== 'learningRate' && p !== 'dropoutRate') throw new UsageError(`--${flag} takes a list of values (a range is for --lr and --dropout)`);
      space[p] = { min: number(range[1]!), max: number(range[2]!) };
    } else (space as Record<string, number[]>)[p] = listFlag(text).map(number);
  }
  return space;
}

function sweepTable(s: SweepDetail): string {
  const used = SWEEP_PARAMETERS.filter((p) => s.space[p] !== undefined);
  const rows = [...s.runs].sort((x, y) => (y.run.bestValAccuracy ?? -1) - (x.run.bestValAccuracy ?? -1));
  return table(['', 'run', 'status', ...used.map((p) => SWEEP_FLAGS[p]), 'best val acc', 'test acc'],
    rows.map(({ run, values }) => [run.id === s.bestRunId ? '★' : '', run.id, run.status, ...used.map((p) => values[p] ?? null), pct(run.bestValAccuracy), pct(run.testAccuracy)])) + '\n';
}

export function showDiff(d: RunDiff): string {
  const lines = [`#${d.a.id} "${d.a.name}"  →  #${d.b.id} "${d.b.name}"`, '', 'layers (aligned by sequence)'];
  lines.push(table(['', `#${d.a.id}`, `#${d.b.id}`], d.layers.map((r) => [r.changes[1] === 'same' ? '' : r.changes[1], r.values[0] ?? '—', r.values[1] ?? '—'])));
  lines.push('', d.hyperparameters.length ? table(['setting', `#${d.a.id}`, `#${d.b.id}`], d.hyperparameters.map((h) => [h.path, JSON.stringify(h.a), JSON.stringify(h.b)])) : 'same hyperparameters');
  const e = d.evaluation;
  if (!e) lines.push('', d.evaluationNote ?? '');
  else {
    lines.push('', `on the ${e.split} split (${e.count} images): accuracy ${pct(e.accuracy.a)} → ${pct(e.accuracy.b)}`);
    lines.push(table(['class', `F1 #${d.a.id}`, `F1 #${d.b.id}`, 'Δ'], e.perClass.map((c) => [c.className, num(c.a.f1, 3), num(c.b.f1, 3), `${c.f1Delta >= 0 ? '+' : ''}${(c.f1Delta * 100).toFixed(1)}`])));
    lines.push('', `${e.fixedCount} images right in #${d.b.id} and wrong in #${d.a.id}; ${e.brokenCount} the other way`);
    const show = (list: typeof e.fixed) => list.slice(0, 10).map((f) => `${f.index}`).join(', ') + (list.length > 10 ? ', …' : '');
    if (e.fixed.length) lines.push(`  fixed (${e.imageSplit} indices): ${show(e.fixed)}`);
    if (e.broken.length) lines.push(`  broken (${e.imageSplit} indices): ${show(e.broken)}`);
  }
  return lines.join('\n') + '\n';
}

export const EXPERIMENT_COMMANDS: Record<string, CliCommand> = {
  diff: {
    usage: '<run> <run>   (layers, settings, per-class metrics and the images that flipped)',
    flags: [],
    async run(ctx) {
      if (ctx.args.length !== 2) throw new UsageError('diff needs two runs');
      const [a, b] = ctx.args.map((x) => ctx.service.runs.find(x).id);
      const d = await ctx.service.exec('diffRuns', { a: a!, b: b! });
      if (!ctx.json) ctx.io.stdout(showDiff(d));
      return { code: 0, value: d };
    },
  },

  sweep: {
    usage: '<run> [--random N [--seed S]] [--lr 0.01,0.003|1e-4:1e-1] [--batch-size 32,64] [--optimizer sgd,adam] [--dropout 0.2,0.5|0:0.5] [--epochs 2,4] [--max-runs N] [--parallel 1|2] [--name NAME] [--no-wait]',
    flags: ['random', 'seed', 'lr', 'batch-size', 'optimizer', 'dropout', 'epochs', 'max-runs', 'parallel', 'name', 'no-wait'],
    async run(ctx): Promise<Outcome> {
      if (ctx.args.length !== 1) throw new UsageError('sweep needs the run to start from');
      const { service, io, json, out } = ctx;
      const base = service.runs.find(ctx.args[0]!);
      const random = numberFlag(ctx.parsed, 'random', true);
      const parallel = numberFlag(ctx.parsed, 'parallel', true);
      if (parallel !== undefined && parallel !== 1 && parallel !== 2) throw new UsageError(`--parallel must be 1 or 2, got ${parallel}`);
      const maxRuns = numberFlag(ctx.parsed, 'max-runs', true) ?? random ?? 20;
      let sweep = service.sweeps.start({
        runId: base.id, kind: random !== undefined ? 'random' : 'grid', space: spaceFrom(ctx), maxRuns: random ?? maxRuns,
        seed: numberFlag(ctx.parsed, 'seed', true), parallel: parallel as 1 | 2 | undefined, name: str(ctx.parsed, 'name'),
      });
      if (!json) io.stdout(`sweep ${sweep.id} "${sweep.name}": ${sweep.runs.length} runs queued, ${sweep.parallel === 2 ? 'two at a time (one thread each)' : 'one after another'}\n`);
      if (ctx.parsed.flags.has('no-wait')) return { code: 0, value: sweep };
      io.onInterrupt?.(async () => {
        if (!json) io.stderr(`\nstopping sweep ${sweep.id}…\n`);
        await service.sweeps.cancel(sweep.id);
      });
      const off = service.on('runStatus', (e) => {
        const entry = sweep.runs.find((r) => r.run.id === e.runId);
        if (!entry) return;
        if (json) out({ type: 'runStatus', ...e });
        else if (e.status === 'completed' || e.status === 'failed' || e.status === 'stopped') {
          const r = service.runs.summary(e.runId);
          io.stdout(`run ${r.id} ${r.status}: best val acc ${pct(r.bestValAccuracy) ?? '—'} (${r.name})\n`);
        }
      });
      try {
        for (const { run } of sweep.runs) await service.runs.waitFor(run.id);
      } finally {
        off();
        io.onInterrupt?.(null);
      }
      sweep = service.sweeps.get(sweep.id);
      if (!json) io.stdout('\n' + sweepTable(sweep) + (sweep.bestRunId !== null ? `★ best: run ${sweep.bestRunId}\n` : ''));
      const ok = sweep.runs.every(({ run }) => run.status === 'completed');
      return ok ? { code: 0, value: sweep } : { code: 1, value: sweep, error: { code: 'sweep_incomplete', message: `sweep ${sweep.id}: not every run completed` } };
    },
  },

  sweeps: {
    usage: '[sweep id]',
    flags: [],
    async run(ctx) {
      if (ctx.args.length === 0) {
        const list = ctx.service.sweeps.list();
        if (!ctx.json) ctx.io.stdout(table(['id', 'name', 'kind', 'runs cap', 'parallel', 'created'], list.map((s) => [s.id, s.name, s.kind, s.maxRuns, s.parallel, s.createdAt.slice(0, 16).replace('T', ' ')])) + '\n');
        return { code: 0, value: list };
      }
      const id = Number(ctx.args[0]);
      if (!Number.isInteger(id) || id < 1) throw new UsageError(`a sweep id is a positive integer, got ${JSON.stringify(ctx.args[0])}`);
      const s = ctx.service.sweeps.get(id);
      if (!ctx.json) ctx.io.stdout(`sweep ${s.id} "${s.name}" (${s.kind}, from run ${s.baseRunId ?? '—'})\n` + sweepTable(s));
      return { code: 0, value: s };
    },
  },
};
