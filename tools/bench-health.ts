/**
 * What training health costs (issue 9): measureHealth's time as a share of training time, at the
 * default healthEvery and at every step, on the bundled sample.
 *  1. In process, one thread: a Trainer on the reference template with every step measured; the
 *     measurements' own time (one inference forward of the batch + the per-layer sums) against the
 *     steps' time, so the share at every N batches is (cost per measurement / N) / step time.
 *  2. Through the service (worker, 2 gradient threads, SQLite): the same run with healthEvery 0 and
 *     the default, alternated, its stored training seconds compared (noisy on a shared machine:
 *     printed as a ratio with the spread of the repeats).
 *
 *   npx tsx tools/bench-health.ts [--limit 4500 --repeats 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, resolveKernels, Trainer } from '../src-engine/index.js';
import { measureHealth } from '../src-engine/inspect/index.js';
import { openStudio } from '../src-main/composition.js';
import { DEFAULT_HYPERPARAMETERS, mergeHyperparameters } from '../src-main/contract/index.js';
import { SAMPLE_DATASET_NAME } from '../src-main/service/service.js';
import { toTrainConfig } from '../src-main/service/hyperparameters.js';
import { TEMPLATES } from '../src-main/service/templates.js';
import { loadSplit } from '../src-main/training/run-job.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const limit = arg('limit', 4500);
const repeats = arg('repeats', 3);
const every = DEFAULT_HYPERPARAMETERS.healthEvery;
const dir = mkdtempSync(join(tmpdir(), 'bench-health-'));
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const service = await openStudio(join(dir, 'studio.sqlite'), {}, dir);
try {
  const d = service.datasets.find(SAMPLE_DATASET_NAME);
  const spec = TEMPLATES.find((t) => t.name === 'reference')!.build(d.shape, d.classNames.length);
  const hyper = mergeHyperparameters(DEFAULT_HYPERPARAMETERS, { epochs: 1, trainLimit: limit, batchSize: 32, seed: 1 });

  // 1. in process
  const data = loadSplit({ cacheFile: service.datasets.row(d.id).cacheFile, validationSplit: hyper.validationSplit, splitSeed: 1, trainLimit: limit });
  const model = buildModel(spec, { seed: 1, kernels: resolveKernels('fast') });
  const measureTimes: number[] = [];
  const trainer = new Trainer(model, data.train, { ...toTrainConfig(hyper), epochs: 2 }, undefined, {
    afterStep: (s) => {
      const t0 = performance.now();
      measureHealth(model, s.x, s.n, s.before);
      measureTimes.push(performance.now() - t0);
    },
  });
  const stepTimes: number[] = [];
  while (!trainer.done) {
    const t0 = performance.now();
    trainer.step();
    stepTimes.push(performance.now() - t0 - (measureTimes.at(-1) ?? 0));
  }
  // medians: a shared machine's spikes land in either
  const stepMs = median(stepTimes);
  const perMeasurement = median(measureTimes);
  console.log(`in process (reference template, batch 32, ${resolveKernels('fast').name}, ${stepTimes.length} steps, medians): a step ${stepMs.toFixed(2)} ms, a health measurement ${perMeasurement.toFixed(2)} ms`);
  console.log(`  share of training time: every batch ${pct(perMeasurement / (stepMs + perMeasurement))}, every ${every} (the default) ${pct(perMeasurement / every / (stepMs + perMeasurement / every))}`);

  // 2. through the service
  const seconds: Record<'off' | 'on', number[]> = { off: [], on: [] };
  for (let r = 0; r < repeats; r++) {
    for (const mode of ['off', 'on'] as const) {
      const run = service.runs.start({ datasetId: d.id, spec, hyperparameters: { epochs: 2, trainLimit: limit, batchSize: 32, seed: 1, healthEvery: mode === 'on' ? every : 0 } });
      const done = await service.runs.waitFor(run.id);
      if (done.status !== 'completed') throw new Error(`run ${run.id} ended ${done.status}: ${done.error}`);
      seconds[mode].push(done.trainSeconds);
    }
  }
  const ratios = seconds.on.map((s, i) => s / seconds.off[i]!);
  console.log(`through the service (${limit} images × 2 epochs, ${repeats} pairs): training seconds with healthEvery ${every} / with 0 = ${ratios.map((x) => x.toFixed(3)).join(', ')}`);
  console.log(`  off ${seconds.off.map((s) => s.toFixed(1)).join(', ')} s; on ${seconds.on.map((s) => s.toFixed(1)).join(', ')} s`);
} finally {
  await service.close();
  rmSync(dir, { recursive: true, force: true });
}
