/**
 * Optimizer trajectories against PyTorch: each fixture in fixtures/trajectories/ (written by
 * tools/make-golden.py) is a small conv net with batch norm trained 10 steps — 5 epochs of 2
 * batches, no shuffle — by torch.optim.SGD (momentum, Nesterov, weight decay), Adam (L2 weight
 * decay) or AdamW, each with a schedule driven as the Trainer drives ours (LinearLR warm-up per
 * step, then StepLR / CosineAnnealingLR / ReduceLROnPlateau on the validation loss per epoch). The
 * engine's Trainer runs the same config from the same weights; after every step every parameter and
 * every running statistic must be within 1e-5 (max|ours − torch| / max|torch| per tensor) and the
 * learning rate the same.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildModel } from '../model.js';
import type { ModelSpec } from '../spec.js';
import { Trainer, type TrainConfig } from '../train.js';
import { relativeError } from './compare.js';

interface Values { name: string; value: number[] }
interface TrajectoryFixture {
  name: string;
  description: string;
  spec: ModelSpec;
  config: TrainConfig;
  train: { x: number[]; labels: number[]; n: number };
  validation: { x: number[]; labels: number[]; n: number };
  initial: Values[];
  /** PyTorch's own float32 run against the float64 one, by the same measure: float32's floor. */
  torchFloat32Error: number;
  steps: { learningRate: number; loss: number; values: Values[] }[];
}

const TOLERANCE = 1e-5;
const dir = new URL('./fixtures/trajectories/', import.meta.url);
const fixtures: TrajectoryFixture[] = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  .map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as TrajectoryFixture);

/** The model's named views: its parameters, then its statistics. */
const named = (model: ReturnType<typeof buildModel>) => [...model.parameters(), ...model.statistics()];

const table: Record<string, string | number>[] = [];
afterAll(() => {
  if (table.length) console.table(table); // the README's trajectory table comes from here
});

describe('optimizer trajectories: 10 steps, every value after every step within 1e-5 of PyTorch', () => {
  it('has the fixtures: SGD momentum, Nesterov and weight decay, Adam with L2, AdamW, each with a schedule, warm-up and plateau among them', () => {
    const opts = fixtures.map((f) => f.config.optimizer);
    expect(opts.some((o) => o.type === 'sgd' && o.momentum && !o.nesterov)).toBe(true);
    expect(opts.some((o) => o.type === 'sgd' && o.nesterov && o.weightDecay)).toBe(true);
    expect(opts.some((o) => o.type === 'adam' && o.weightDecay)).toBe(true);
    expect(opts.some((o) => o.type === 'adamw')).toBe(true);
    expect(fixtures.every((f) => f.config.schedule && f.config.schedule.type !== 'constant')).toBe(true);
    expect(fixtures.some((f) => f.config.schedule?.warmupEpochs)).toBe(true);
    expect(fixtures.some((f) => f.config.schedule?.type === 'plateau')).toBe(true);
    expect(fixtures.every((f) => f.steps.length === 10)).toBe(true);
  });

  for (const f of fixtures) {
    it(`${f.name}: ${f.description}`, () => {
      const model = buildModel(f.spec);
      const views = named(model);
      expect(views.map((v) => v.name)).toEqual(f.initial.map((v) => v.name));
      views.forEach((v, i) => v.value.set(f.initial[i]!.value));
      const data = (d: TrajectoryFixture['train']) => ({ images: Float32Array.from(d.x), labels: d.labels, n: d.n });
      const trainer = new Trainer(model, data(f.train), f.config, data(f.validation));
      let worst = 0;
      let worstAt = '';
      f.steps.forEach((golden, step) => {
        const event = trainer.step()!;
        expect(event.learningRate, `step ${step + 1} learning rate`).toBeCloseTo(golden.learningRate, 12);
        expect(Math.abs(event.loss - golden.loss) / golden.loss, `step ${step + 1} loss`).toBeLessThan(TOLERANCE);
        views.forEach((v, i) => {
          const err = relativeError(v.value, golden.values[i]!.value);
          if (err > worst) { worst = err; worstAt = `${v.name} after step ${step + 1}`; }
          expect(err, `${v.name} after step ${step + 1}`).toBeLessThanOrEqual(TOLERANCE);
        });
      });
      // the trajectory went somewhere: the last step's values are far from the first ones
      expect(relativeError(views[0]!.value, f.initial[0]!.value)).toBeGreaterThan(1e-2);
      table.push({ trajectory: f.name, 'worst error': worst.toExponential(1), where: worstAt, 'torch float32': f.torchFloat32Error.toExponential(1), 'learning rates': f.steps.map((s) => +s.learningRate.toPrecision(3)).join(' ') });
    });
  }
});
