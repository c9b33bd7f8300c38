/**
 * The CLI's looking-inside commands beyond predict: the saliency of an image, the gradient check on
 * demand, and a run's training health (its findings and a per-layer table).
 */
import type { GradientCheckResponse, ParameterCheckRow, RunHealthResponse, SaliencyResponse } from '../contract/index.js';
import { numberFlag, UsageError } from './args.js';
import type { CliCommand } from './commands.js';
import { imageArgument } from './image-argument.js';
import { bar, pct, table } from './format.js';

const sci = (v: number | null | undefined, digits = 1) => (v === null || v === undefined || !Number.isFinite(v) ? null : v.toExponential(digits));
const fixed = (v: number | null | undefined, digits = 3) => (v === null || v === undefined || !Number.isFinite(v) ? null : v.toFixed(digits));

/** Darker characters for larger |∂z/∂x|, relative to the map's largest. */
const RAMP = ' .:-=+*#%@';

/** The saliency map in characters, one per pixel (two wide, so it is not squashed). */
export function saliencyArt(r: Pick<SaliencyResponse, 'map' | 'max' | 'image'>): string {
  const b = Buffer.from(r.map, 'base64');
  const map = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  const { width, height } = r.image;
  const lines: string[] = [];
  for (let y = 0; y < height; y++) {
    let line = '';
    for (let x = 0; x < width; x++) {
      const v = r.max > 0 ? map[y * width + x]! / r.max : 0;
      line += RAMP[Math.min(RAMP.length - 1, Math.floor(v * RAMP.length))]!.repeat(2);
    }
    lines.push(line.trimEnd());
  }
  return lines.join('\n');
}

function showSaliency(arg: string, r: SaliencyResponse, classNames: string[]): string {
  const name = (i: number) => classNames[i] ?? String(i);
  const lines = [`${arg}: predicted ${name(r.predicted)}${r.image.label !== null ? `, labelled ${name(r.image.label)}` : ''}; saliency of class ${name(r.classIndex)} (largest |∂score/∂pixel| ${sci(r.max, 2)})`];
  const width = Math.max(...r.top.map((c) => c.className.length));
  for (const c of r.top) lines.push(`  ${c.className.padEnd(width)}  ${pct(c.probability)!.padStart(6)}  ${bar(c.probability)}`);
  lines.push(saliencyArt(r));
  return lines.join('\n') + '\n';
}

const checkRow = (layer: string, p: Omit<ParameterCheckRow, 'passed'> & { passed?: boolean }) =>
  [layer, p.name, `${p.checked}/${p.total}`, sci(p.medianRelError), sci(p.maxRelError), p.passed === undefined ? 'not judged' : p.passed ? 'pass' : 'FAIL'];

export function gradientCheckText(r: GradientCheckResponse): string {
  const rows = [...r.layers.flatMap((l) => (l.parameters.length ? l.parameters.map((p) => checkRow(l.label, p)) : [[l.label, '(no parameters)', null, null, null, null]])), checkRow('input', r.input)];
  return `gradient check of run ${r.runId}, snapshot ${r.snapshotId} (epoch ${r.epoch}): float64 central differences, h = ${r.h}, on ${r.indices.length} ${r.split} image(s); loss ${fixed(r.loss, 6)}\n` +
    table(['layer', 'parameter', 'entries', 'median rel. err.', 'max rel. err.', 'result'], rows) + '\n' +
    `tolerance: median ≤ ${sci(r.tolerance.median, 0)}, max ≤ ${sci(r.tolerance.max, 0)} per parameter — ${r.passed ? 'every layer passes' : 'FAILED'} (${r.evaluations} loss evaluations, ${r.seconds.toFixed(1)} s)\n` +
    'the input is not judged: a pixel of a flat region often sits on a max-pool tie or a ReLU kink, where the loss has no derivative\n';
}

export function healthText(r: RunHealthResponse): string {
  const out: string[] = [];
  if (r.findings.length === 0) out.push(r.records.length ? 'no findings: the latest measurements look healthy' : r.every === 0 ? 'training health was off for this run (--health-every 0)' : 'no health measurements yet');
  for (const f of r.findings) out.push(`${f.severity === 'error' ? 'error  ' : 'warning'}  ${f.message}\n         fix: ${f.fix}`);
  const last = r.records[r.records.length - 1];
  if (last) {
    out.push(`\nper layer, at step ${last.step} (epoch ${last.epoch}, batch ${last.batch}; ${r.records.length} measurements, every ${r.every} batches)`);
    out.push(table(['layer', 'gradient norm', 'update/weight', 'dead ReLUs', 'act. mean', 'act. std', 'non-finite'],
      last.layers.map((l) => [l.label, sci(l.gradientNorm, 2), sci(l.updateRatio, 2), l.deadFraction === null ? null : pct(l.deadFraction), fixed(l.activationMean), fixed(l.activationStd), l.nonFinite])));
  }
  return out.join('\n') + '\n';
}

export const INSPECT_COMMANDS: Record<string, CliCommand> = {
  saliency: {
    usage: '<run> <image|test:N|train:N>... [--snapshot ID] [--class N]',
    flags: ['snapshot', 'class'],
    async run(ctx) {
      if (ctx.args.length < 2) throw new UsageError('missing the run and at least one image');
      const run = ctx.service.runs.find(ctx.args[0]!);
      const snapshotId = numberFlag(ctx.parsed, 'snapshot', true);
      const classIndex = numberFlag(ctx.parsed, 'class', true);
      const value = [];
      for (const arg of ctx.args.slice(1)) {
        const r = await ctx.service.exec('saliency', { runId: run.id, snapshotId, classIndex, image: imageArgument(arg, run.datasetId) });
        if (!ctx.json) ctx.io.stdout(showSaliency(arg, r, ctx.service.datasets.row(run.datasetId).classNames));
        const { base64: _pixels, ...image } = r.image;
        value.push({ input: arg, ...r, image });
      }
      return { code: 0, value };
    },
  },

  gradcheck: {
    usage: '<run> [--snapshot ID] [--samples N] [--entries N]',
    flags: ['snapshot', 'samples', 'entries'],
    async run(ctx) {
      if (ctx.args.length < 1) throw new UsageError('missing the run to check');
      const run = ctx.service.runs.find(ctx.args[0]!);
      const inspectionId = `cli-gradcheck-${process.pid}`;
      const off = ctx.service.on('inspectionProgress', (p) => {
        if (p.inspectionId !== inspectionId) return;
        if (ctx.json) ctx.out({ type: 'inspectionProgress', ...p });
        else if (ctx.io.isTTY) ctx.io.stderr(`\rchecking ${bar(p.done / p.total)} ${p.done}/${p.total}   `);
      });
      try {
        const r = await ctx.service.exec('gradientCheck', {
          runId: run.id, inspectionId, snapshotId: numberFlag(ctx.parsed, 'snapshot', true),
          samples: numberFlag(ctx.parsed, 'samples', true), entriesPerParameter: numberFlag(ctx.parsed, 'entries', true),
        });
        if (!ctx.json) {
          if (ctx.io.isTTY) ctx.io.stderr('\n');
          ctx.io.stdout(gradientCheckText(r));
        }
        const failed = r.layers.flatMap((l) => l.parameters.filter((p) => !p.passed).map((p) => `${l.label} ${p.name}`));
        return r.passed ? { code: 0, value: r } : { code: 1, value: r, error: { code: 'gradient_check_failed', message: `the gradient check failed for ${failed.join(', ')}` } };
      } finally {
        off();
      }
    },
  },

  health: {
    usage: '<run>',
    flags: [],
    async run(ctx) {
      if (ctx.args.length < 1) throw new UsageError('missing the run');
      const r = await ctx.service.exec('runHealth', { runId: ctx.service.runs.find(ctx.args[0]!).id });
      if (!ctx.json) ctx.io.stdout(healthText(r));
      return { code: 0, value: r };
    },
  },
};
