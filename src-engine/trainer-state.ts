/**
 * Trainer-state bytes: everything a Trainer needs to continue, bit-identically, from between two
 * batches — and what the studio stores as a run's snapshot. One typed header, one writer (used by
 * Trainer.saveState) and one reader (used by Trainer.restore and by whoever only needs the weights
 * or the position). Nobody else reads these bytes' offsets. The container is serialize.ts's.
 */
import { parameterLayout } from './parameters.js';
import { decodeContainer, encodeContainer, ModelFormatError, STATE_MAGIC } from './serialize.js';
import { SpecError } from './shapes.js';
import { specHash, type ModelSpec } from './spec.js';
import { initialPlateau, type PlateauState } from './schedules.js';
import type { EpochMetrics, StopReason, TrainConfig } from './train.js';

export const TRAINER_STATE_ENGINE = 'cnn-studio-engine';

/** The JSON header as stored (the container adds the blob table). */
export interface TrainerStateHeader {
  engine: typeof TRAINER_STATE_ENGINE;
  spec: ModelSpec;
  /** specHash(spec), checked on read. */
  specHash: string;
  config: TrainConfig;
  /** Completed epochs. */
  epoch: number;
  /** Next batch within the current epoch. */
  batch: number;
  /** Batches trained so far. */
  step: number;
  /** Training is over (completed, early-stopped or failed): a resume has nothing left to do. */
  done: boolean;
  /** Why it ended; 'stopped' when saved after a stop request; null while it goes on. */
  stopReason: StopReason | null;
  optimizerSteps: number;
  /** The epoch whose shuffle order the `order` blob holds (−1 before the first batch). */
  orderEpoch: number;
  /** Early-stopping bookkeeping: the best epoch (−1 = none yet), its metric, epochs since. */
  bestEpoch: number;
  bestMetric: number | null;
  wait: number;
  /** The running sums of the current epoch. */
  lossSum: number;
  correctSum: number;
  seen: number;
  epochSeconds: number;
  history: EpochMetrics[];
  /** Training images the state was saved for; a resume must be given as many. */
  trainN: number;
  /** Reduce-on-plateau's bookkeeping; written only for that schedule (other states keep the bytes
   *  they always had), read as the initial bookkeeping when absent. */
  plateau?: PlateauState;
}

export interface TrainerStateBlobs {
  /** The model's flat values buffer: the parameters, then the statistics (batch norm's running
   *  mean and variance; parameters.ts says where each is). */
  weights: Float32Array;
  /** The best epoch's values (early stopping restores them). */
  bestWeights: Float32Array;
  /** The values before the last update (a NaN loss falls back to them). */
  prevWeights: Float32Array;
  /** The current epoch's shuffle order. */
  order: Uint32Array;
  /** The three RNG streams' states (Rng.getState()). */
  shuffleRng: Uint32Array;
  augmentRng: Uint32Array;
  dropoutRng: Uint32Array;
  /** The optimizer's moment buffers by name. */
  optimizer: Record<string, Float32Array>;
}

/** A decoded trainer state: the header's fields and the blobs. */
export type TrainerState = Omit<TrainerStateHeader, 'engine' | 'specHash' | 'plateau'> & { plateau: PlateauState } & TrainerStateBlobs;

const WHAT = 'trainer state';
const OPTIMIZER_PREFIX = 'opt.';

export function writeTrainerState(s: TrainerState): Uint8Array {
  // key order is part of the bytes: keep it as it always was
  const header: TrainerStateHeader = {
    engine: TRAINER_STATE_ENGINE,
    spec: s.spec,
    specHash: specHash(s.spec),
    config: s.config,
    epoch: s.epoch, batch: s.batch, step: s.step, done: s.done, stopReason: s.stopReason,
    optimizerSteps: s.optimizerSteps,
    orderEpoch: s.orderEpoch,
    bestEpoch: s.bestEpoch, bestMetric: s.bestMetric, wait: s.wait,
    lossSum: s.lossSum, correctSum: s.correctSum, seen: s.seen, epochSeconds: s.epochSeconds,
    history: s.history,
    trainN: s.trainN,
    plateau: s.config.schedule?.type === 'plateau' ? s.plateau : undefined,
  };
  const blobs: Record<string, Float32Array | Uint32Array> = {
    weights: s.weights,
    bestWeights: s.bestWeights,
    prevWeights: s.prevWeights,
    order: s.order,
    shuffleRng: s.shuffleRng,
    augmentRng: s.augmentRng,
    dropoutRng: s.dropoutRng,
  };
  for (const [name, buf] of Object.entries(s.optimizer)) blobs[OPTIMIZER_PREFIX + name] = buf;
  return encodeContainer(STATE_MAGIC, header as unknown as Record<string, unknown>, blobs);
}

const corrupt = (why: string) => new ModelFormatError(`${WHAT} is corrupt: ${why}`);

type Kind = 'integer' | 'number' | 'boolean';
const HEADER_FIELDS: Record<string, Kind> = {
  epoch: 'integer', batch: 'integer', step: 'integer', done: 'boolean', optimizerSteps: 'integer', orderEpoch: 'integer',
  bestEpoch: 'integer', wait: 'integer', lossSum: 'number', correctSum: 'number', seen: 'integer', epochSeconds: 'number', trainN: 'integer',
};
const STOP_REASONS: ReadonlySet<unknown> = new Set<StopReason | null>(['completed', 'early-stopped', 'stopped', 'failed', null]);

function checkHeader(h: Record<string, unknown>): asserts h is Record<string, unknown> & TrainerStateHeader {
  if (h.engine !== TRAINER_STATE_ENGINE) throw corrupt(`the header names engine ${JSON.stringify(h.engine)}, expected "${TRAINER_STATE_ENGINE}"`);
  for (const [key, kind] of Object.entries(HEADER_FIELDS)) {
    const v = h[key];
    const ok = kind === 'boolean' ? typeof v === 'boolean' : kind === 'integer' ? Number.isSafeInteger(v) : typeof v === 'number';
    if (!ok) throw corrupt(`header field ${key} is ${JSON.stringify(v)}, expected ${kind === 'integer' ? 'an integer' : `a ${kind}`}`);
  }
  if (!STOP_REASONS.has(h.stopReason)) throw corrupt(`header field stopReason is ${JSON.stringify(h.stopReason)}`);
  if (h.bestMetric !== null && typeof h.bestMetric !== 'number') throw corrupt(`header field bestMetric is ${JSON.stringify(h.bestMetric)}`);
  if (!Array.isArray(h.history)) throw corrupt('header field history is not a list');
  if (!h.config || typeof h.config !== 'object') throw corrupt('header field config is missing');
  if (h.plateau !== undefined) {
    const p = h.plateau as Partial<PlateauState> | null;
    if (!p || typeof p !== 'object' || !(p.best === null || typeof p.best === 'number') || !Number.isSafeInteger(p.bad) || typeof p.scale !== 'number') {
      throw corrupt(`header field plateau is ${JSON.stringify(h.plateau)}`);
    }
  }
  if (specHash(h.spec as ModelSpec) !== h.specHash) throw corrupt('the spec does not match its hash');
}

/** Decodes trainer-state bytes: checks the container (magic, version, CRC), the header's fields,
 *  the spec and every blob's type and length. Throws ModelFormatError naming the first problem. */
export function readTrainerState(bytes: Uint8Array): TrainerState {
  const { header, blobs } = decodeContainer(bytes, STATE_MAGIC, WHAT);
  checkHeader(header);
  let params: number;
  try {
    params = parameterLayout(header.spec).totalValues;
  } catch (e) {
    if (e instanceof SpecError) throw corrupt(`its spec is invalid: ${e.message}`);
    throw e;
  }
  const f32 = (name: string, length: number): Float32Array => {
    const b = blobs[name];
    if (!(b instanceof Float32Array)) throw corrupt(`blob ${name} is missing or not float32`);
    if (b.length !== length) throw corrupt(name === 'weights' ? `${b.length} weights, the spec needs ${length}` : `blob ${name} has ${b.length} values, expected ${length}`);
    return b;
  };
  const u32 = (name: string, length: number): Uint32Array => {
    const b = blobs[name];
    if (!(b instanceof Uint32Array)) throw corrupt(`blob ${name} is missing or not uint32`);
    if (b.length !== length) throw corrupt(`blob ${name} has ${b.length} values, expected ${length}`);
    return b;
  };
  const optimizer: Record<string, Float32Array> = {};
  for (const [name, b] of Object.entries(blobs)) {
    if (name.startsWith(OPTIMIZER_PREFIX)) optimizer[name.slice(OPTIMIZER_PREFIX.length)] = f32(name, b.length);
  }
  const h = header;
  return {
    spec: h.spec, config: h.config,
    epoch: h.epoch, batch: h.batch, step: h.step, done: h.done, stopReason: h.stopReason,
    optimizerSteps: h.optimizerSteps, orderEpoch: h.orderEpoch,
    bestEpoch: h.bestEpoch, bestMetric: h.bestMetric, wait: h.wait,
    plateau: h.plateau ?? initialPlateau(),
    lossSum: h.lossSum, correctSum: h.correctSum, seen: h.seen, epochSeconds: h.epochSeconds,
    history: h.history, trainN: h.trainN,
    weights: f32('weights', params),
    bestWeights: f32('bestWeights', params),
    prevWeights: f32('prevWeights', params),
    order: u32('order', header.trainN),
    shuffleRng: u32('shuffleRng', 4),
    augmentRng: u32('augmentRng', 4),
    dropoutRng: u32('dropoutRng', 4),
    optimizer,
  };
}

/** Whether the state is final: training ended (completed, early-stopped or failed) and a resume
 *  would have nothing to do. Throws ModelFormatError for bytes that are not a valid state. */
export function isFinished(bytes: Uint8Array): boolean {
  return readTrainerState(bytes).done;
}
