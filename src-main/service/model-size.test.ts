/**
 * Model sizes are bounded before anything is allocated, one class of too-big at a time: too many
 * parameters, activations too big for a batch (wide conv layers, a big batch size, a big input), a
 * snapshot SQLite could never store. Each refusal says the number and the limit; a user can raise
 * the limit on purpose; and the web server that refuses a 9.5 GB model stays small and keeps serving.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferShapes } from '../../src-engine/index.js';
import { DEFAULT_HYPERPARAMETERS, mergeHyperparameters, type HyperparameterInput, type ModelSpec } from '../contract/index.js';
import { runCli } from '../cli/index.js';
import { DEFAULT_MODEL_LIMITS, modelSizeProblem, snapshotBytes, type ModelLimits } from './model-size.js';
import { SAMPLE_DATASET_NAME, type Service } from './service.js';
import { countRows, exited, MLP_SPEC, openService, QUICK, spawnTs, tempDir } from './testing.js';

const flatDense = (...units: number[]): ModelSpec => ({
  inputShape: [28, 28, 1],
  layers: [{ type: 'flatten' }, ...units.map((u, i) => ({ type: 'dense' as const, units: u, ...(i < units.length - 1 ? { activation: 'relu' as const } : {}) }))],
});
const TWO_BIG_DENSE = flatDense(10_000, 10_000, 10);
/** 100,000 filters, pooled away: 2,000,010 parameters (under the limit), 26×26×100,000 activations per image. */
const WIDE_CONV: ModelSpec = {
  inputShape: [28, 28, 1],
  layers: [{ type: 'conv2d', filters: 100_000, kernelSize: 3 }, { type: 'maxpool2d', poolSize: 26 }, { type: 'flatten' }, { type: 'dense', units: 10 }],
};
const REFERENCE: ModelSpec = {
  inputShape: [28, 28, 1],
  layers: [
    { type: 'conv2d', filters: 16, kernelSize: 3 }, { type: 'maxpool2d', poolSize: 2 }, { type: 'conv2d', filters: 32, kernelSize: 3 },
    { type: 'maxpool2d', poolSize: 2 }, { type: 'flatten' }, { type: 'dense', units: 10 },
  ],
};

function problem(spec: ModelSpec, h: HyperparameterInput = {}, limits: ModelLimits = DEFAULT_MODEL_LIMITS, trainCount = 5000) {
  const report = inferShapes(spec);
  expect(report.ok).toBe(true);
  return modelSizeProblem(spec, report, mergeHyperparameters(DEFAULT_HYPERPARAMETERS, h), trainCount, limits);
}

describe('each class of too-big, from the spec alone', () => {
  it('too many parameters: two 10,000-unit dense layers (107,960,010 parameters), naming the biggest layer and how to raise the limit', () => {
    expect(problem(TWO_BIG_DENSE)).toEqual({
      message: 'the model has 107,960,010 parameters (dense #3: 100,010,000); the limit is 10,000,000. Make it smaller, or raise the limit on purpose: cnn-studio limits --max-parameters 107960010',
      layerIndex: 2,
    });
  });

  it('activations too big for one step: a conv with 100,000 filters (2,000,010 parameters, under the limit)', () => {
    expect(inferShapes(WIDE_CONV).totalParams).toBe(2_000_010);
    const p = problem(WIDE_CONV)!;
    expect(p.layerIndex).toBe(0);
    expect(p.message).toMatch(/^256 images at a time \(batch size 32; evaluation runs 256 at a time\) need about 69\.4 GB of activations \(conv2d #1 outputs 26×26×100000 per image\); the limit is 1 GB\. Make the layers smaller, or raise the limit on purpose: cnn-studio limits --max-activation-mb 69\d{3}$/);
  });

  it('activations too big for one step: a small net with batch size 65,536', () => {
    expect(problem(REFERENCE)).toBeNull();
    expect(problem(REFERENCE, { batchSize: 65_536 })!.message).toMatch(/^65536 images at a time \(batch size 65536; .*\) need about 5\.2 GB of activations \(conv2d #1 outputs 26×26×16 per image\); the limit is 1 GB/);
  });

  it('activations too big for one step: a big input with few layers', () => {
    const spec: ModelSpec = { inputShape: [2048, 2048, 3], layers: [{ type: 'maxpool2d', poolSize: 64 }, { type: 'flatten' }, { type: 'dense', units: 10 }] };
    expect(problem(spec)!.message).toMatch(/need about 12\.9 GB of activations \(maxpool2d #1 outputs 32×32×3 per image\)/);
  });

  it('a snapshot SQLite could never store: 60,000,000 parameters with Adam, even with the parameter limit raised', () => {
    const spec = flatDense(60_000, 216, 10);
    const raised = { ...DEFAULT_MODEL_LIMITS, maxParameters: 1_000_000_000 };
    expect(problem(spec, { optimizer: { type: 'adam' } }, raised)!.message).toBe(
      'a snapshot of this model would take 1.2 GB (60,062,386 parameters with adam state); SQLite stores at most 1 GB in one value, so it could never be saved. Make the model smaller');
    // without moment buffers the same model's snapshots fit
    expect(problem(spec, { optimizer: { type: 'sgd', momentum: 0 } }, raised)).toBeNull();
  });

  it('the limits are the library\'s: lower them and a small model is refused, raise them and a big one passes', () => {
    expect(problem(MLP_SPEC)).toBeNull();
    expect(problem(MLP_SPEC, {}, { ...DEFAULT_MODEL_LIMITS, maxParameters: 1000 })!.message).toMatch(/^the model has 12,730 parameters \(dense #2: 12,560\); the limit is 1,000\./);
    const big = flatDense(20_000, 10); // 15,900,010 parameters
    expect(problem(big)!.message).toMatch(/^the model has 15,900,010 parameters/);
    expect(problem(big, {}, { ...DEFAULT_MODEL_LIMITS, maxParameters: 20_000_000 })).toBeNull();
    // the two 10,000-unit layers stay refused however high the limit: their snapshots could never be stored
    expect(problem(TWO_BIG_DENSE, {}, { ...DEFAULT_MODEL_LIMITS, maxParameters: 1_000_000_000 })!.message).toMatch(/^a snapshot of this model would take 1\.7 GB/);
  });
});

describe('in the service: refused before any row, and raised on purpose', () => {
  let dir: ReturnType<typeof tempDir>;
  let service: Service;
  let datasetId: number;
  beforeAll(async () => {
    dir = tempDir();
    service = await openService(dir.path);
    datasetId = service.datasets.find(SAMPLE_DATASET_NAME).id;
  });
  afterAll(async () => {
    await service?.close();
    dir?.remove();
  });

  it('startRun, forkRun and validateSpec refuse each class with the numbers; nothing is written', async () => {
    const runs = countRows(service, 'runs');
    for (const [spec, h] of [[TWO_BIG_DENSE, {}], [WIDE_CONV, {}], [REFERENCE, { batchSize: 65_536 }]] as const) {
      const r = await service.call('startRun', { datasetId, spec, hyperparameters: h });
      expect(r.ok ? null : [r.error.code, r.error.message]).toEqual(['invalid_spec', problem(spec, h)!.message]);
    }
    for (const spec of [TWO_BIG_DENSE, WIDE_CONV]) {
      const v = await service.call('validateSpec', { datasetId, spec });
      expect(v.ok && [v.value.ok, v.value.error]).toEqual([false, problem(spec)]);
    }
    expect(countRows(service, 'runs')).toBe(runs);
    const parent = service.runs.start({ datasetId, spec: REFERENCE, hyperparameters: { ...QUICK, epochs: 1 } });
    await service.runs.waitFor(parent.id);
    const fork = await service.call('forkRun', { runId: parent.id, hyperparameters: { batchSize: 65_536 } });
    expect(fork.ok ? null : fork.error.code).toBe('invalid_spec');
    expect(countRows(service, 'runs')).toBe(runs + 1);
  });

  it('cnn-studio limits lowers and raises the library\'s limits, and every new run is checked against them', async () => {
    const db = join(dir.path, 'studio.sqlite');
    const cli = async (...argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(['--db', db, ...argv], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), isTTY: false });
      return { code, stdout, stderr };
    };
    expect((await cli('limits', '--max-parameters', '5000')).stdout).toMatch(/parameters per model +5,000\n/);
    const refused = await service.call('startRun', { datasetId, spec: MLP_SPEC, hyperparameters: QUICK });
    expect(refused.ok ? null : refused.error.message).toMatch(/^the model has 12,730 parameters .* the limit is 5,000\. .*cnn-studio limits --max-parameters 12730$/);
    const t = await cli('train', '--dataset', SAMPLE_DATASET_NAME, '--model', 'mlp', '--epochs', '1', '--limit', '100');
    expect([t.code, t.stderr]).toEqual([2, expect.stringMatching(/the limit is 5,000/)]);
    expect((await cli('limits', '--max-parameters', '12730')).code).toBe(0);
    const accepted = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 1 } });
    expect((await service.runs.waitFor(accepted.id)).status).toBe('completed');
    const reset = await cli('limits', '--max-parameters', 'default', '--max-activation-mb', 'default');
    expect(reset.stdout).toMatch(/parameters per model +10,000,000 \(default\)\n +activations per batch +1 GB \(default\)/);
    expect((await cli('limits', '--max-parameters', '-3')).code).toBe(2);
  });

  it('a snapshot is no larger than its estimate (SGD with and without momentum, Adam)', async () => {
    for (const optimizer of [{ type: 'sgd' as const }, { type: 'sgd' as const, momentum: 0 }, { type: 'adam' as const }]) {
      const run = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 1, optimizer } });
      await service.runs.waitFor(run.id);
      const actual = service.runs.detail(run.id, false).snapshots[0]!.bytes;
      const estimate = snapshotBytes(12_730, service.runs.summary(run.id).hyperparameters, 5000);
      expect(actual).toBeLessThanOrEqual(estimate);
      // the estimate counts one uint32 per dataset image (5,000) where the state holds the run's 300, and a 64 KB header allowance
      expect(estimate - actual).toBeLessThan(4 * 5000 + 64 * 1024 + 1000);
    }
  });
});

describe('the web server refusing a 9.5 GB model', () => {
  it('stays small (peak RSS from /proc) and keeps serving', async (ctx) => {
    if (!existsSync('/proc/self/status')) {
      console.log('skipped: no /proc here to read a process\'s peak RSS from');
      ctx.skip();
    }
    const dir = tempDir();
    const child = spawnTs('src-main/web/main.ts', ['--db', join(dir.path, 'studio.sqlite'), '--port', '0']);
    child.stdin.end();
    try {
      let stdout = '';
      const url = new URL(await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          stdout += d;
          const m = /serving on (\S+)/.exec(stdout);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`the web server exited (${code})`)));
      }));
      const call = async (command: string, body: unknown) => (await fetch(`${url.origin}/api/${command}?token=${url.searchParams.get('token')}`, { method: 'POST', body: JSON.stringify(body) })).json() as Promise<{ ok: boolean; value?: unknown; error?: { code: string; message: string } }>;
      const datasets = (await call('listDatasets', {})).value as { id: number }[];
      for (const spec of [TWO_BIG_DENSE, WIDE_CONV]) {
        for (let i = 0; i < 3; i++) {
          const r = await call('startRun', { datasetId: datasets[0]!.id, spec });
          expect([r.ok, r.error?.code]).toEqual([false, 'invalid_spec']);
        }
        const v = (await call('validateSpec', { spec })).value as { ok: boolean };
        expect(v.ok).toBe(false);
      }
      expect(((await call('listRuns', {})).value as unknown[]).length).toBe(0);
      const peakKb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'latin1'))![1]);
      console.log(`web server peak RSS after refusing both models 3 times: ${Math.round(peakKb / 1024)} MB`);
      expect(peakKb).toBeLessThan(400 * 1024);
    } finally {
      child.kill('SIGTERM');
      await exited(child);
      dir.remove();
    }
  });
});
