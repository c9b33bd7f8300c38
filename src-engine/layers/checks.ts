/**
 * What every layer module's validation shares: the error type and the small checks whose messages
 * the builder shows next to a layer ("conv2d #2: kernel 5×5 does not fit input 3×3×16").
 */
import { pair } from '../spec.js';

export class SpecError extends Error {
  /** `field`: the layer spec's key the problem is in (the builder marks that input), when there is one. */
  constructor(message: string, readonly layerIndex: number | null = null, readonly field: string | null = null) {
    super(message);
    this.name = 'SpecError';
  }
}

/** A field left empty (null from a cleared input, or absent from a JSON file) is said to be required,
 *  not "must be …, got null". */
export function checkPresent(label: string, name: string, v: unknown): void {
  if (v === null || v === undefined) throw new SpecError(`${label}: ${name} is required`, null, name);
}

export const dims = (s: readonly [number, number, number]): string => `${s[0]}×${s[1]}×${s[2]}`;

export const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** A kernel/pool/stride size: n or [h, w] of positive integers. */
export function checkPair(label: string, name: string, v: unknown): [number, number] {
  checkPresent(label, name, v);
  const ok = isPosInt(v) || (Array.isArray(v) && v.length === 2 && isPosInt(v[0]) && isPosInt(v[1]));
  if (!ok) throw new SpecError(`${label}: ${name} must be a positive integer or [h, w] of positive integers, got ${JSON.stringify(v)}`, null, name);
  return pair(v as number | [number, number]);
}
