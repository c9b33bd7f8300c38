/** Following a run from the CLI: progress lines as it trains, Ctrl-C pauses it, and the summary at the end. */
import type { Events, RunDetail, RunSummary } from '../contract/index.js';
import { str } from './args.js';
import type { Ctx, Outcome } from './commands.js';
import { bar, duration, num, pct, table } from './format.js';

/** Streams a run's progress until it ends; Ctrl-C pauses it. Completed → 0, anything else → 1. */
export async function follow(ctx: Ctx, run: RunSummary): Promise<Outcome> {
  const { service, io, json, out } = ctx;
  const epochs = run.hyperparameters.epochs;
  let interrupted = false;
  io.onInterrupt?.(async () => {
    if (interrupted) return;
    interrupted = true;
    if (!json) io.stderr(`\npausing run ${run.id} after the current batch…\n`);
    await service.runs.pause(run.id).catch(() => undefined);
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
        const threads = run.hyperparameters.threads;
        io.stdout(`run ${run.id} "${run.name}" training with ${e.kernelsUsed} kernels${requested === 'fast' && e.kernelsUsed === 'reference' ? ' (fast kernels unavailable)' : ''} on ${threads} thread${threads === 1 ? '' : 's'}\n`);
      }
    }),
  ];
  const final = await service.runs.waitFor(run.id).finally(() => offs.forEach((off) => off()));
  io.onInterrupt?.(null);
  const detail = service.runs.detail(run.id, false);
  if (!json) {
    if (io.isTTY) io.stderr('\r\x1b[K');
    io.stdout(summaryLine(detail) + '\n');
    if (final.status === 'paused') io.stdout(`resume with: cnn-studio${ctx.parsed.flags.has('db') ? ` --db ${str(ctx.parsed, 'db')}` : ''} resume ${run.id}\n`);
  }
  const { batches: _b, ...value } = detail;
  if (final.status === 'completed') return { code: 0, value };
  const message = final.status === 'failed' ? `run ${run.id} failed: ${final.error}`
    : `run ${run.id} ${final.status} at epoch ${final.epochsDone}${final.error ? `: ${final.error}` : ''}`;
  return { code: 1, value, error: { code: final.status, message } };
}

function summaryLine(r: RunDetail): string {
  const last = r.epochs[r.epochs.length - 1];
  const best = r.bestEpoch !== null ? r.epochs.find((e) => e.epoch === r.bestEpoch) : undefined;
  return `run ${r.id} ${r.status}${r.stopReason && r.stopReason !== r.status ? ` (${r.stopReason})` : ''}: ${r.epochsDone}/${r.hyperparameters.epochs} epochs in ${duration(r.trainSeconds)}` +
    (last ? `, last val acc ${pct(last.valAccuracy) ?? '—'}, train loss ${num(last.trainLoss)}` : '') +
    (best ? `, best epoch ${best.epoch} (val acc ${pct(best.valAccuracy) ?? '—'})` : '') + (r.error ? `\n  error: ${r.error}` : '');
}

export function showRun(r: RunDetail): string {
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
