import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src-engine/rng.js';

/**
 * Seeded split of n training images into train/validation index lists, each sorted ascending.
 * validation size = round(n · validationFraction); the same (n, fraction, seed) always gives the same lists.
 */
export function seededSplit(n: number, validationFraction: number, seed: number): { train: Uint32Array; validation: Uint32Array } {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`seededSplit: n must be a non-negative integer, got ${n}`);
  if (!(validationFraction >= 0 && validationFraction < 1)) throw new RangeError(`seededSplit: validationFraction must be in [0, 1), got ${validationFraction}`);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  new Rng(seed).shuffle(order);
  const validationCount = Math.round(n * validationFraction);
  const validation = order.slice(0, validationCount).sort();
  const train = order.slice(validationCount).sort();
  return { train, validation };
}

const SAMPLE_RELATIVE = join('resources', 'datasets', 'fashion-mnist-sample');
let sampleOverride: string | null = null;

/** Lets the packaged app point at its resources folder (electron's process.resourcesPath). */
export function setBundledSamplePath(path: string | null): void {
  sampleOverride = path;
}

/**
 * The bundled Fashion-MNIST sample folder: an explicit override, else $CNN_STUDIO_SAMPLE, else the
 * first `resources/datasets/fashion-mnist-sample` found walking up from this file (source tree and
 * the built out/main/ both work), else Electron's resources folder.
 */
export function bundledSamplePath(): string {
  if (sampleOverride) return sampleOverride;
  const fromEnv = process.env['CNN_STUDIO_SAMPLE'];
  if (fromEnv) return resolve(fromEnv);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++) {
    const candidate = join(dir, SAMPLE_RELATIVE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath;
  if (resourcesPath) {
    for (const candidate of [join(resourcesPath, SAMPLE_RELATIVE), join(resourcesPath, 'datasets', 'fashion-mnist-sample')]) {
      if (existsSync(candidate)) return candidate;
    }
  }
  throw new Error(`bundled sample dataset not found (looked for ${SAMPLE_RELATIVE} above ${fileURLToPath(import.meta.url)})`);
}
