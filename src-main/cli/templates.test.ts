/**
 * Templates: every one fits the datasets it is meant for and its recommended hyperparameters are in
 * range; the CLI trains a template with those hyperparameters under its own flags.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferShapes } from '../../src-engine/index.js';
import { DEFAULT_HYPERPARAMETERS, firstRangeProblem, mergeHyperparameters, overlayHyperparameters } from '../contract/index.js';
import { templatesFor } from '../service/specs.js';
import { TEMPLATES } from '../service/templates.js';
import { tempDir } from '../service/testing.js';
import { runCli } from './index.js';

let dir: ReturnType<typeof tempDir>;
beforeAll(() => { dir = tempDir(); });
afterAll(() => dir.remove());

describe('templates', () => {
  it('the seed document\'s network, a LeNet-5-like net and the Fashion-MNIST-strong one are among them', () => {
    expect(TEMPLATES.map((t) => t.name)).toEqual(expect.arrayContaining(['seed', 'lenet5', 'fashion-strong']));
    const strong = TEMPLATES.find((t) => t.name === 'fashion-strong')!;
    expect(strong.build([28, 28, 1], 10).layers.filter((l) => l.type === 'batchnorm').length).toBeGreaterThanOrEqual(2);
    expect(strong.hyperparameters).toMatchObject({ optimizer: { type: 'adamw' }, warmupEpochs: 1, schedule: { type: 'cosine' } });
  });

  for (const shape of [[28, 28, 1], [32, 32, 3]] as [number, number, number][]) {
    it(`every template is a valid spec for ${shape.join('×')} images, 10 classes; recommended hyperparameters are in range`, () => {
      for (const t of templatesFor({ shape, classNames: Array.from({ length: 10 }, (_, i) => String(i)) } as never)) {
        const report = inferShapes(t.spec);
        expect(report.ok, `${t.name}: ${report.error?.message}`).toBe(true);
        expect(report.classes).toBe(10);
        expect(firstRangeProblem(mergeHyperparameters(DEFAULT_HYPERPARAMETERS, t.hyperparameters ?? {})), t.name).toBeNull();
      }
    });
  }

  it('a flag over a template: its field wins, the rest of the group stays; another optimizer type drops the template\'s', () => {
    const base = { epochs: 6, optimizer: { type: 'adamw' as const, learningRate: 0.003, weightDecay: 0.0005 }, augment: { flipHorizontal: true } };
    expect(overlayHyperparameters(base, { optimizer: { learningRate: 0.01 }, epochs: 2 }))
      .toEqual({ epochs: 2, optimizer: { type: 'adamw', learningRate: 0.01, weightDecay: 0.0005 }, augment: { flipHorizontal: true } });
    expect(overlayHyperparameters(base, { optimizer: { type: 'sgd' } }).optimizer).toEqual({ type: 'sgd' });
    expect(overlayHyperparameters(base, { augment: { maxShift: 2 } }).augment).toEqual({ flipHorizontal: true, maxShift: 2 });
  });
});

describe('cnn-studio train --model <template>', () => {
  it('trains the seed template with its recommended hyperparameters under the flags given', async () => {
    let stdout = '';
    const code = await runCli(['--db', join(dir.path, 'studio.sqlite'), '--json', 'train', '--dataset', '1', '--model', 'seed', '--epochs', '1', '--limit', '200', '--lr', '0.02'],
      { stdout: (t) => (stdout += t), stderr: () => {}, isTTY: false });
    expect(code, stdout).toBe(0);
    const last = JSON.parse(stdout.trim().split('\n').pop()!) as { ok: boolean; value: { status: string; hyperparameters: Record<string, unknown>; spec: { layers: { type: string }[] } } };
    expect(last.value.status).toBe('completed');
    // momentum 0 from the template, the learning rate and epochs from the flags
    expect(last.value.hyperparameters).toMatchObject({ epochs: 1, trainLimit: 200, optimizer: { type: 'sgd', momentum: 0, learningRate: 0.02 } });
  });
});
