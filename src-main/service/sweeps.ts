/**
 * Sweeps: from a run, a grid or a seeded random search over the learning rate, batch size,
 * optimizer, dropout rate and epochs, queued as ordinary runs (tagged with the sweep) on the run's
 * dataset and model. "One after another" gives each run two gradient threads, "two at a time" one
 * each: the pool's thread budget (2) then runs them in that rhythm. Every run is checked before
 * the first is written, so a bad value queues nothing.
 */
import { Rng } from '../../src-engine/rng.js';
import type { LayerSpec, ModelSpec } from '../../src-engine/spec.js';
import {
  mergeHyperparameters, SWEEP_PARAMETERS, type HyperparameterInput, type Hyperparameters, type RunSummary, type StartSweepRequest, type SweepDetail,
  type SweepParameter, type SweepSpace,
} from '../contract/index.js';
import type { ServiceContext } from './context.js';
import type { DatasetLibrary } from './datasets.js';
import { ServiceError } from './errors.js';
import { checkHyperparameters } from './hyperparameters.js';
import type { RunManager } from './runs.js';
import { checkSpec } from './specs.js';

export type SweepValues = Partial<Record<SweepParameter, number | string>>;

const WORDS: Record<SweepParameter, string> = { learningRate: 'lr', batchSize: 'batch', optimizer: '', dropoutRate: 'dropout', epochs: 'epochs' };

const round = (x: number, digits: number) => Number(x.toPrecision(digits));

/** Every combination of the listed values (ranges are for random search only). */
export function gridOf(space: SweepSpace): SweepValues[] {
  let out: SweepValues[] = [{}];
  for (const p of SWEEP_PARAMETERS) {
    const v = space[p];
    if (v === undefined) continue;
    if (!Array.isArray(v)) throw new ServiceError('bad_request', `a grid needs a list of ${p} values, not a range (ranges are for random search)`, { field: `space.${p}` });
    out = out.flatMap((combo) => (v as (number | string)[]).map((x) => ({ ...combo, [p]: x })));
  }
  return out;
}

/** `count` seeded draws: a value of each list, log-uniform in a learning-rate range, uniform in a dropout range. */
export function randomOf(space: SweepSpace, count: number, seed: number): SweepValues[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const values: SweepValues = {};
    for (const p of SWEEP_PARAMETERS) {
      const v = space[p];
      if (v === undefined) continue;
      if (Array.isArray(v)) values[p] = v[rng.int(v.length)]!;
      else if (p === 'learningRate') values[p] = round(Math.exp(Math.log(v.min) + rng.next() * (Math.log(v.max) - Math.log(v.min))), 3);
      else values[p] = round(v.min + rng.next() * (v.max - v.min), 3);
    }
    return values;
  });
}

function withDropout(spec: ModelSpec, rate: number): ModelSpec {
  return { ...spec, layers: spec.layers.map((l): LayerSpec => (l.type === 'dropout' ? { ...l, rate } : l)) };
}

/** The values a sweep gave a run, read back from what it trained with. */
export function valuesOf(space: SweepSpace, h: Hyperparameters, spec: ModelSpec): SweepValues {
  const out: SweepValues = {};
  if (space.learningRate) out.learningRate = h.optimizer.learningRate;
  if (space.batchSize) out.batchSize = h.batchSize;
  if (space.optimizer) out.optimizer = h.optimizer.type;
  if (space.epochs) out.epochs = h.epochs;
  const dropout = spec.layers.find((l) => l.type === 'dropout');
  if (space.dropoutRate && dropout?.type === 'dropout') out.dropoutRate = dropout.rate;
  return out;
}

export function describeValues(values: SweepValues): string {
  return SWEEP_PARAMETERS.filter((p) => values[p] !== undefined).map((p) => `${WORDS[p]}${WORDS[p] ? ' ' : ''}${values[p]}`).join(' · ');
}

export class Sweeps {
  constructor(private readonly ctx: ServiceContext, private readonly runs: RunManager, private readonly datasets: DatasetLibrary) {}

  start(req: StartSweepRequest): SweepDetail {
    const base = this.runs.row(req.runId);
    const d = this.datasets.row(base.datasetId);
    this.datasets.checkCache(d, `start a sweep of run ${base.id}`);
    const seed = req.seed ?? 0;
    const parallel = req.parallel ?? 1;
    const used = SWEEP_PARAMETERS.filter((p) => req.space[p] !== undefined);
    if (used.length === 0) throw new ServiceError('bad_request', 'a sweep needs at least one hyperparameter to vary', { field: 'space' });
    if (req.space.dropoutRate && !base.spec.layers.some((l) => l.type === 'dropout')) {
      throw new ServiceError('bad_request', `run ${base.id}'s model has no dropout layer to vary the rate of; add one in the builder first`, { field: 'space.dropoutRate' });
    }
    for (const p of ['learningRate', 'dropoutRate'] as const) {
      const v = req.space[p];
      if (v && !Array.isArray(v) && v.min > v.max) throw new ServiceError('bad_request', `space.${p}: min ${v.min} is above max ${v.max}`, { field: `space.${p}` });
    }
    let combos: SweepValues[];
    if (req.kind === 'grid') {
      combos = gridOf(req.space);
      if (combos.length > req.maxRuns) {
        throw new ServiceError('bad_request', `the grid has ${combos.length} combinations, more than the cap of ${req.maxRuns} runs; list fewer values or raise the cap`, { field: 'maxRuns' });
      }
    } else combos = randomOf(req.space, req.maxRuns, seed);

    // Everything is checked before the first row is written.
    const plans = combos.map((values) => {
      const input: HyperparameterInput = { threads: parallel === 2 ? 1 : Math.max(2, base.hyperparameters.threads) };
      if (values.batchSize !== undefined) input.batchSize = values.batchSize as number;
      if (values.epochs !== undefined) input.epochs = values.epochs as number;
      if (values.optimizer !== undefined || values.learningRate !== undefined) {
        input.optimizer = {};
        if (values.optimizer !== undefined) input.optimizer.type = values.optimizer as 'sgd' | 'adam';
        if (values.learningRate !== undefined) input.optimizer.learningRate = values.learningRate as number;
      }
      const hyperparameters = mergeHyperparameters(base.hyperparameters, input);
      const spec = values.dropoutRate !== undefined ? withDropout(base.spec, values.dropoutRate as number) : base.spec;
      checkHyperparameters(hyperparameters, d);
      checkSpec(spec, d);
      return { values, hyperparameters, spec };
    });
    const name = req.name ?? `sweep of #${base.id} (${req.kind}, ${used.join(', ')})`;
    const sweepId = this.ctx.store.insertSweep({
      name, datasetId: d.id, baseRunId: base.id, kind: req.kind, space: req.space, maxRuns: req.maxRuns, seed, parallel,
    });
    plans.forEach((plan, i) => {
      this.runs.start({
        datasetId: d.id, spec: plan.spec, hyperparameters: plan.hyperparameters,
        name: `sweep ${sweepId} #${i + 1}: ${describeValues(plan.values)}`, tags: [...new Set([...base.tags, `sweep ${sweepId}`])],
      }, { sweepId });
    });
    this.ctx.events.emit('libraryChanged', { kind: 'sweep', id: sweepId, change: 'created' });
    return this.get(sweepId);
  }

  get(id: number): SweepDetail {
    const sweep = this.ctx.store.getSweep(id);
    if (!sweep) throw new ServiceError('not_found', `no sweep with id ${id}`);
    const runs = this.runs.list({ sweepId: id, sort: 'created', order: 'asc' });
    let best: RunSummary | null = null;
    for (const r of runs) if (r.bestValAccuracy !== null && (best === null || r.bestValAccuracy > best.bestValAccuracy!)) best = r;
    return {
      ...sweep,
      runs: runs.map((run) => ({ run, values: valuesOf(sweep.space, run.hyperparameters, this.runs.row(run.id).spec) })),
      bestRunId: best?.id ?? null,
    };
  }

  list() {
    return this.ctx.store.listSweeps();
  }

  /** Stops every run of the sweep that is queued or running (running ones snapshot first). */
  async cancel(id: number): Promise<SweepDetail> {
    const sweep = this.get(id);
    await Promise.all(sweep.runs.filter(({ run }) => run.status === 'queued' || run.status === 'running').map(({ run }) => this.runs.stop(run.id)));
    return this.get(id);
  }
}
