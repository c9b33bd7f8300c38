import { describe, expect, test } from 'vitest';
import { DEFAULT_HYPERPARAMETERS } from '../../../src-main/contract/index.js';
import { planSweep, sweepFormFor } from './sweep-form.js';

const spec = { inputShape: [28, 28, 1] as [number, number, number], layers: [{ type: 'flatten' as const }, { type: 'dropout' as const, rate: 0.3 }, { type: 'dense' as const, units: 10 }] };
const base = () => sweepFormFor({ ...structuredClone(DEFAULT_HYPERPARAMETERS), optimizer: { ...DEFAULT_HYPERPARAMETERS.optimizer, learningRate: 0.03 } }, spec);

describe('sweep form', () => {
  test('starts from the run: its learning rate a third, as is and three times, a grid of 3 under the cap of 12', () => {
    const form = base();
    expect(form.fields.learningRate.values).toBe('0.01, 0.03, 0.09');
    expect(form.fields.dropoutRate.values).toBe('0.1, 0.3, 0.5');
    expect(planSweep(form)).toEqual({ space: { learningRate: [0.01, 0.03, 0.09] }, runs: 3, problem: null });
  });

  test('a grid counts every combination; more than the cap is refused before anything is queued', () => {
    const form = base();
    form.fields.batchSize = { ...form.fields.batchSize, on: true, values: '32 64' };
    form.fields.optimizer = { ...form.fields.optimizer, on: true, choices: ['sgd', 'adam'] };
    expect(planSweep(form)).toMatchObject({ runs: 12, problem: null, space: { learningRate: [0.01, 0.03, 0.09], batchSize: [32, 64], optimizer: ['sgd', 'adam'] } });
    form.maxRuns = 8;
    expect(planSweep(form)).toMatchObject({ runs: 12, problem: { field: 'maxRuns', message: 'the grid has 12 combinations, more than the cap of 8: list fewer values or raise the cap' } });
  });

  test('a random search makes the cap\'s number of runs and may draw from ranges', () => {
    const form = base();
    form.kind = 'random';
    form.maxRuns = 5;
    form.fields.learningRate.range = true;
    form.fields.dropoutRate = { ...form.fields.dropoutRate, on: true, range: true, min: 0.6, max: 0.2 };
    expect(planSweep(form).problem).toEqual({ field: 'dropoutRate', message: 'dropout rate: min 0.6 is above max 0.2' });
    form.fields.dropoutRate.min = 0.1;
    form.fields.dropoutRate.max = 0.5;
    expect(planSweep(form)).toEqual({ space: { learningRate: { min: 0.003, max: 0.3 }, dropoutRate: { min: 0.1, max: 0.5 } }, runs: 5, problem: null });
  });

  test('what a person may type wrong is named by the field', () => {
    const form = base();
    form.fields.learningRate.values = '0.01, fast';
    expect(planSweep(form).problem).toEqual({ field: 'learningRate', message: 'learning rate: that is not a number' });
    form.fields.learningRate.values = '0.01';
    form.fields.batchSize = { ...form.fields.batchSize, on: true, values: '32, 12.5' };
    expect(planSweep(form).problem).toEqual({ field: 'batchSize', message: 'batch size: 12.5 is not a valid value' });
    form.fields.batchSize.on = false;
    form.fields.learningRate.on = false;
    expect(planSweep(form).problem).toEqual({ field: 'space', message: 'tick at least one hyperparameter to vary' });
  });
});
