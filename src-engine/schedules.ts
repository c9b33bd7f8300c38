/** Learning-rate schedules, evaluated per epoch (0-based). */
export type ScheduleConfig =
  | { type: 'constant' }
  /** lr · gamma^floor(epoch / stepSize) */
  | { type: 'step'; stepSize: number; gamma: number }
  /** minLr + (lr − minLr)·(1 + cos(π·epoch/epochs))/2 */
  | { type: 'cosine'; minLearningRate?: number };

export function learningRateAt(schedule: ScheduleConfig | undefined, baseLr: number, epoch: number, epochs: number): number {
  if (!schedule || schedule.type === 'constant') return baseLr;
  if (schedule.type === 'step') return baseLr * Math.pow(schedule.gamma, Math.floor(epoch / schedule.stepSize));
  const min = schedule.minLearningRate ?? 0;
  return min + ((baseLr - min) * (1 + Math.cos((Math.PI * epoch) / epochs))) / 2;
}

export function checkSchedule(schedule: ScheduleConfig | undefined): string | null {
  if (!schedule || schedule.type === 'constant') return null;
  if (schedule.type === 'step') {
    if (!Number.isInteger(schedule.stepSize) || schedule.stepSize < 1) return `step schedule: stepSize must be a positive integer (epochs), got ${schedule.stepSize}`;
    if (!(schedule.gamma > 0 && schedule.gamma <= 1)) return `step schedule: gamma must be in (0, 1], got ${schedule.gamma}`;
    return null;
  }
  if (schedule.type === 'cosine') {
    const min = schedule.minLearningRate ?? 0;
    if (!Number.isFinite(min) || min < 0) return `cosine schedule: minLearningRate must be ≥ 0, got ${min}`;
    return null;
  }
  return `schedule must be 'constant', 'step' or 'cosine', got ${JSON.stringify((schedule as { type?: unknown }).type)}`;
}
