/**
 * Learning-rate schedules. The main schedules are per epoch (0-based), after an optional linear
 * warm-up that rises per step:
 *   warm-up   epoch e < W:   lr · (e·B + b + 1) / (W·B)      (B batches per epoch, b the batch)
 *   then, with e' = e − W and E' = epochs − W:
 *   constant  lr
 *   step      lr · gamma^floor(e' / stepSize)
 *   cosine    minLr + (lr − minLr)·(1 + cos(π·e'/E'))/2
 *   plateau   max(lr · scale, minLr): scale ×= factor when the validation loss has not improved —
 *             by more than `threshold` relative, as PyTorch's ReduceLROnPlateau (mode 'min',
 *             threshold_mode 'rel', cooldown 0) — for more than `patience` epochs after warm-up.
 * The plateau bookkeeping (best, bad epochs, scale) is trainer state: it is saved and resumed.
 */
export type ScheduleConfig = (
  | { type: 'constant' }
  | { type: 'step'; stepSize: number; gamma: number }
  | { type: 'cosine'; minLearningRate?: number }
  | { type: 'plateau'; factor: number; patience: number; threshold?: number; minLearningRate?: number }
) & {
  /** Epochs of linear warm-up before the schedule starts; default 0. */
  warmupEpochs?: number;
};

/** Where training is, as a schedule sees it. */
export interface SchedulePosition {
  /** 0-based epoch. */
  epoch: number;
  epochs: number;
  /** 0-based batch within the epoch, and the batches of one epoch (the warm-up rises per step). */
  batch: number;
  batchesPerEpoch: number;
  /** Reduce-on-plateau's factor so far (PlateauState.scale); 1 for the other schedules. */
  plateauScale?: number;
}

export interface PlateauState {
  /** The best validation loss seen after warm-up; null before the first. */
  best: number | null;
  /** Epochs since it improved. */
  bad: number;
  /** The product of the reductions so far. */
  scale: number;
}

export const initialPlateau = (): PlateauState => ({ best: null, bad: 0, scale: 1 });

const PLATEAU_THRESHOLD = 1e-4;

export function learningRateAt(schedule: ScheduleConfig | undefined, baseLr: number, at: SchedulePosition): number {
  if (!schedule) return baseLr;
  const warmup = schedule.warmupEpochs ?? 0;
  if (at.epoch < warmup) return (baseLr * (at.epoch * at.batchesPerEpoch + at.batch + 1)) / (warmup * at.batchesPerEpoch);
  const epoch = at.epoch - warmup;
  switch (schedule.type) {
    case 'constant':
      return baseLr;
    case 'step':
      return baseLr * Math.pow(schedule.gamma, Math.floor(epoch / schedule.stepSize));
    case 'cosine': {
      const min = schedule.minLearningRate ?? 0;
      return min + ((baseLr - min) * (1 + Math.cos((Math.PI * epoch) / (at.epochs - warmup)))) / 2;
    }
    case 'plateau':
      return Math.max(baseLr * (at.plateauScale ?? 1), schedule.minLearningRate ?? 0);
  }
}

/** Reduce-on-plateau's bookkeeping after epoch `epoch` ended with validation loss `valLoss`; the
 *  state unchanged for other schedules and during warm-up. */
export function plateauAfterEpoch(schedule: ScheduleConfig | undefined, state: PlateauState, epoch: number, valLoss: number): PlateauState {
  if (schedule?.type !== 'plateau' || epoch < (schedule.warmupEpochs ?? 0)) return state;
  const threshold = schedule.threshold ?? PLATEAU_THRESHOLD;
  let { best, bad, scale } = state;
  if (best === null || valLoss < best * (1 - threshold)) {
    best = valLoss;
    bad = 0;
  } else {
    bad++;
  }
  if (bad > schedule.patience) {
    scale *= schedule.factor;
    bad = 0;
  }
  return { best, bad, scale };
}

export function checkSchedule(schedule: ScheduleConfig | undefined): string | null {
  if (!schedule) return null;
  const warmup = schedule.warmupEpochs ?? 0;
  if (!Number.isInteger(warmup) || warmup < 0) return `warm-up must be a whole number of epochs ≥ 0, got ${schedule.warmupEpochs}`;
  switch (schedule.type) {
    case 'constant':
      return null;
    case 'step':
      if (!Number.isInteger(schedule.stepSize) || schedule.stepSize < 1) return `step schedule: stepSize must be a positive integer (epochs), got ${schedule.stepSize}`;
      if (!(schedule.gamma > 0 && schedule.gamma <= 1)) return `step schedule: gamma must be in (0, 1], got ${schedule.gamma}`;
      return null;
    case 'cosine':
    case 'plateau': {
      const min = schedule.minLearningRate ?? 0;
      if (!Number.isFinite(min) || min < 0) return `${schedule.type} schedule: minLearningRate must be ≥ 0, got ${min}`;
      if (schedule.type === 'cosine') return null;
      if (!(schedule.factor > 0 && schedule.factor < 1)) return `plateau schedule: factor must be in (0, 1), got ${schedule.factor}`;
      if (!Number.isInteger(schedule.patience) || schedule.patience < 0) return `plateau schedule: patience must be an integer ≥ 0 (epochs), got ${schedule.patience}`;
      const t = schedule.threshold ?? PLATEAU_THRESHOLD;
      if (!(t >= 0 && t < 1)) return `plateau schedule: threshold must be in [0, 1), got ${t}`;
      return null;
    }
  }
  return `schedule must be 'constant', 'step', 'cosine' or 'plateau', got ${JSON.stringify((schedule as { type?: unknown }).type)}`;
}
