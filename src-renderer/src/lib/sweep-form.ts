/**
 * The sweep form, as text fields a person types ("0.01, 0.03, 0.1") turned into the contract's
 * SweepSpace, with the number of runs it will queue — shown before anything is queued. The service
 * checks it all again (src-main/service/sweeps.ts); this is what the form can say at once.
 */
import { SWEEP_PARAMETERS, type SweepParameter, type SweepSpace } from '../../../src-main/contract/index.js';
import type { Hyperparameters, ModelSpec } from './api.js';

export type SweepKind = 'grid' | 'random';

export interface ParameterField {
  on: boolean;
  /** Comma-separated values (learning rate, batch size, dropout rate, epochs). */
  values: string;
  /** Random search only: draw from min…max instead of the list (learning rate log-uniformly). */
  range: boolean;
  min: number | null;
  max: number | null;
  /** The optimizer's choices. */
  choices: ('sgd' | 'adam')[];
}

export interface SweepForm {
  kind: SweepKind;
  fields: Record<SweepParameter, ParameterField>;
  maxRuns: number | null;
  seed: number | null;
  parallel: 1 | 2;
  name: string;
}

export const PARAMETER_WORDS: Record<SweepParameter, string> = {
  learningRate: 'learning rate', batchSize: 'batch size', optimizer: 'optimizer', dropoutRate: 'dropout rate', epochs: 'epochs',
};

/** Parameters that may be drawn from a range in a random search. */
export const RANGED: ReadonlySet<SweepParameter> = new Set(['learningRate', 'dropoutRate']);

const short = (x: number) => Number(x.toPrecision(3));

/** A form around a run: its learning rate a third and three times, the rest as it trained (off). */
export function sweepFormFor(h: Hyperparameters, spec: ModelSpec): SweepForm {
  const lr = h.optimizer.learningRate;
  const dropout = spec.layers.find((l) => l.type === 'dropout');
  const rate = dropout && 'rate' in dropout ? (dropout.rate as number) : 0.25;
  const field = (values: string, extra: Partial<ParameterField> = {}): ParameterField => ({ on: false, values, range: false, min: null, max: null, choices: [], ...extra });
  return {
    kind: 'grid',
    fields: {
      learningRate: field([short(lr / 3), lr, short(lr * 3)].join(', '), { on: true, min: short(lr / 10), max: short(lr * 10) }),
      batchSize: field([h.batchSize, h.batchSize * 2].join(', ')),
      optimizer: field('', { choices: ['sgd', 'adam'] }),
      dropoutRate: field([0.1, rate === 0.1 ? 0.25 : rate, 0.5].join(', '), { min: 0, max: 0.5 }),
      epochs: field(String(h.epochs)),
    },
    maxRuns: 12,
    seed: 1,
    parallel: 1,
    name: '',
  };
}

export interface SweepPlan {
  space: SweepSpace;
  /** Runs it would queue (a grid's combinations, a random search's cap); null while the form says nothing runnable. */
  runs: number | null;
  problem: { field: string; message: string } | null;
}

const numbers = (text: string) => text.split(/[,\s]+/).filter(Boolean).map(Number);

export function planSweep(form: SweepForm): SweepPlan {
  const space: SweepSpace = {};
  const fail = (field: string, message: string): SweepPlan => ({ space, runs: null, problem: { field, message } });
  for (const p of SWEEP_PARAMETERS) {
    const f = form.fields[p];
    if (!f.on) continue;
    if (p === 'optimizer') {
      if (f.choices.length === 0) return fail(p, 'tick at least one optimizer');
      space.optimizer = [...f.choices];
      continue;
    }
    if (form.kind === 'random' && f.range && RANGED.has(p)) {
      if (f.min === null || f.max === null || !Number.isFinite(f.min) || !Number.isFinite(f.max)) return fail(p, `${PARAMETER_WORDS[p]}: give a min and a max`);
      if (f.min > f.max) return fail(p, `${PARAMETER_WORDS[p]}: min ${f.min} is above max ${f.max}`);
      if (p === 'learningRate' && f.min <= 0) return fail(p, 'learning rate: the range must be above 0 (it is drawn log-uniformly)');
      (space as Record<string, unknown>)[p] = { min: f.min, max: f.max };
      continue;
    }
    const values = numbers(f.values);
    if (values.length === 0) return fail(p, `${PARAMETER_WORDS[p]}: list at least one value`);
    const bad = values.find((v) => !Number.isFinite(v) || ((p === 'batchSize' || p === 'epochs') && (!Number.isInteger(v) || v < 1)) || (p === 'learningRate' && v <= 0) || (p === 'dropoutRate' && (v < 0 || v > 0.95)));
    if (bad !== undefined) return fail(p, `${PARAMETER_WORDS[p]}: ${Number.isNaN(bad) ? 'that is not a number' : `${bad} is not a valid value`}`);
    if (values.length > 20) return fail(p, `${PARAMETER_WORDS[p]}: at most 20 values`);
    (space as Record<string, unknown>)[p] = [...new Set(values)];
  }
  if (Object.keys(space).length === 0) return fail('space', 'tick at least one hyperparameter to vary');
  const cap = form.maxRuns;
  if (cap === null || !Number.isInteger(cap) || cap < 1 || cap > 100) return fail('maxRuns', 'the cap is a whole number of runs from 1 to 100');
  if (form.kind === 'random') return { space, runs: cap, problem: null };
  const combinations = SWEEP_PARAMETERS.reduce((n, p) => n * (Array.isArray(space[p]) ? (space[p] as unknown[]).length : 1), 1);
  if (combinations > cap) return { space, runs: combinations, problem: { field: 'maxRuns', message: `the grid has ${combinations} combinations, more than the cap of ${cap}: list fewer values or raise the cap` } };
  return { space, runs: combinations, problem: null };
}
