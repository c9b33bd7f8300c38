/** Helpers for the service's tests: a temp folder per test file and a small, quick run. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HyperparameterInput, ModelSpec } from '../contract/index.js';
import { openStudio, type StudioOptions } from '../composition.js';
import type { Service } from './service.js';

export function tempDir(prefix = 'cnn-studio-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export async function openService(dir: string, options: StudioOptions = {}): Promise<Service> {
  return openStudio(join(dir, 'studio.sqlite'), options, dir);
}

export const MLP_SPEC: ModelSpec = {
  inputShape: [28, 28, 1],
  layers: [{ type: 'flatten' }, { type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }],
};

/** A few hundred images, a handful of batches per epoch: seconds, not minutes. */
export const QUICK: HyperparameterInput = { epochs: 2, batchSize: 25, trainLimit: 300, validationSplit: 0.1, seed: 7, progressEvery: 1 };

export function countRows(service: Service, table: string): number {
  return service.store.db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
}
