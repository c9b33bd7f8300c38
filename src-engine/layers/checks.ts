/**
 * What every layer module's validation shares: the error type and the small checks whose messages
 * the builder shows next to a layer ("conv2d #2: kernel 5×5 does not fit input 3×3×16").
 */
import { pair } from '../spec.js';

export class SpecError extends Error {
  constructor(message: string, readonly layerIndex: number | null = null) {
    super(message);
    this.name = 'SpecError';
  }
}

export const dims = (s: readonly [number, number, number]): string => `${s[0]}×${s[1]}×${s[2]}`;

export const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** A kernel/pool/stride size: n or [h, w] of positive integers. */
export function checkPair(label: string, name: string, v: unknown): [number, number] {
  const ok = isPosInt(v) || (Array.isArray(v) && v.length === 2 && isPosInt(v[0]) && isPosInt(v[1]));
  if (!ok) throw new SpecError(`${label}: ${name} must be a positive integer or [h, w] of positive integers, got ${JSON.stringify(v)}`);
  return pair(v as number | [number, number]);
}
