/** Following a run from the CLI: progress lines as it trains, Ctrl-C pauses it, and the summary at the end. */
import { finalEpoch, MONITOR_WORDS, type Events, type RunDetail, type RunSummary } from '../contract/index.js';
import { str } from './args.js';
import type { Ctx, Outcome } from './commands.js';
import { bar, duration, num, pct, table } from './format.js';

/** Streams a run's progress until it ends; Ctrl-C pauses it. Completed → 0, anything else → 1. */
export async function follow(ctx: Ctx, run: RunSummary): Promise<Outcome> {
  const { service, io, json, out } = ctx;
  const epochs = finalEpoch(run);
  const startEpoch = run.epochOffset;
  let interrupted = false;
  // Not a terminal (a log file, CI): a line at every tenth of an epoch instead of a bar redrawn in place.
  let lastTenth = -1;
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
        const done = (e.epoch - 1 - startEpoch + e.batch / e.batchesPerEpoch) / (epochs - startEpoch);
        const rate = e.imagesPerSecond === null ? '' : `  ${Math.round(e.imagesPerSecond)} img/s`;
        if (io.isTTY) {
          io.stderr(`\repoch ${e.epoch}/${epochs} ${bar(done)} ${(done * 100).toFixed(0).padStart(3)}%  loss ${e.loss.toFixed(4)}  acc ${pct(e.accuracy)}${rate}   `);
        } else {
          const tenth = Math.floor((e.batch / e.batchesPerEpoch) * 10);
          const key = e.epoch * 10 + tenth;
          if (tenth > 0 && tenth < 10 && key > lastTenth) {
            lastTenth = key;
            io.stdout(`epoch ${e.epoch}/${epochs}  ${String(tenth * 10).padStart(3)}%  batch ${e.batch}/${e.batchesPerEpoch}  loss ${e.loss.toFixed(4)}  acc ${pct(e.accuracy)}${rate}  ${e.wallTime.toFixed(1)} s\n`);
          }
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
    if (final.status === 'paused' || final.status === 'stopped') io.stdout(`resume with: cnn-studio${ctx.parsed.flags.has('db') ? ` --db ${str(ctx.parsed, 'db')}` : ''} resume ${run.id}\n`);
  }
  const { batches: _b, ...value } = detail;
  if (final.status === 'completed') return { code: 0, value };
  const message = final.status === 'failed' ? `run ${run.id} failed: ${final.error}`
    : `run ${run.id} ${final.status} at epoch ${final.epochsDone}${final.error ? `: ${final.error}` : ''}`;
  return { code: 1, value, error: { code: final.status, message } };
}

/** "best epoch 1 by validation loss 0.4123 (val acc 86.6%)": the metric it was chosen by, then the accuracy. */
export function bestEpochWords(r: RunDetail): string | null {
  const best = r.bestEpoch !== null ? r.epochs.find((e) => e.epoch === r.bestEpoch) : undefined;
  if (!best || !r.bestMonitor) return null;
  const value = r.bestMonitor === 'valAccuracy' ? pct(best.valAccuracy) : num(r.bestMonitor === 'valLoss' ? best.valLoss : best.trainLoss);
  return `best epoch ${best.epoch} by ${MONITOR_WORDS[r.bestMonitor]} ${value}${r.bestMonitor !== 'valAccuracy' && best.valAccuracy !== null ? ` (val acc ${pct(best.valAccuracy)})` : ''}`;
}

function summaryLine(r: RunDetail): string {
  const last = r.epochs[r.epochs.length - 1];
  const best = bestEpochWords(r);
  return `run ${r.id} ${r.status}${r.stopReason && r.stopReason !== r.status ? ` (${r.stopReason})` : ''}: ${r.epochsDone}/${finalEpoch(r)} epochs in ${duration(r.trainSeconds)}` +
    (last ? `, last val acc ${pct(last.valAccuracy) ?? '—'}, train loss ${num(last.trainLoss)}` : '') +
    (best ? `, ${best}` : '') + (r.error ? `\n  error: ${r.error}` : '');
}

export function showRun(r: RunDetail): string {
  const h = r.hyperparameters;
  const lines = [
    `run ${r.id} "${r.name}" — ${r.status}${r.error ? `: ${r.error}` : ''}`,
    `dataset ${r.datasetId} "${r.datasetName}", ${r.totalParams} parameters, spec ${r.specHash}, engine ${r.engineVersion}, kernels ${r.kernelsUsed ?? h.kernels}`,
    `epochs ${h.epochs}, batch ${h.batchSize}, ${h.optimizer.type} lr ${h.optimizer.learningRate}, seed ${h.seed}, val split ${h.validationSplit}` +
      `${h.earlyStopping ? `, patience ${h.earlyStopping.patience}` : ''}${h.augment.flipHorizontal ? ', flip' : ''}${h.augment.maxShift ? `, shift ≤${h.augment.maxShift}px` : ''}${h.trainLimit ? `, first ${h.trainLimit} images` : ''}`,
  ];
  if (r.epochOffset > 0) lines.push(`continues from epoch ${r.epochOffset}: trains ${h.epochs} extra epoch${h.epochs === 1 ? '' : 's'}, to epoch ${finalEpoch(r)}`);
  if (r.lineage.length) lines.push(`forked from ${r.lineage.map((l) => `run ${l.runId} (snapshot ${l.snapshotId ?? '?'}, epoch ${l.epoch ?? '?'})`).join(' ← ')}`);
  if (r.children.length) lines.push(`forks: ${r.children.join(', ')}`);
  if (r.notes) lines.push(`notes: ${r.notes}`);
  if (r.tags.length) lines.push(`tags: ${r.tags.join(', ')}`);
  lines.push('', table(['epoch', 'train loss', 'train acc', 'val loss', 'val acc', 'lr', 'img/s', 'wall s'],
    r.epochs.map((e) => [`${e.epoch}${e.epoch === r.bestEpoch ? '*' : ''}`, num(e.trainLoss), pct(e.trainAccuracy), num(e.valLoss), pct(e.valAccuracy), e.learningRate, Math.round(e.imagesPerSecond), e.wallTime.toFixed(1)])));
  const best = bestEpochWords(r);
  if (best) lines.push('', `${best} (* in the table)`);
  lines.push('', `snapshots: ${r.snapshots.length} (${r.snapshots.map((s) => `${s.id}:${s.kind}@${s.epoch}${s.batch ? `+${s.batch}` : ''}${s.isBest ? '*' : ''}`).join(' ')})`);
  for (const e of r.evaluations) lines.push(`evaluation ${e.id}: ${e.split} accuracy ${pct(e.accuracy)} on ${e.count} images (snapshot ${e.snapshotId})`);
  return lines.join('\n') + '\n';
}
