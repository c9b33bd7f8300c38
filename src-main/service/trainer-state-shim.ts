// TEMPORARY until the engine's readTrainerState/isFinished land (seams-engine branch).
import { decodeContainer } from '../../src-engine/index.js';
import { STATE_MAGIC } from '../../src-engine/serialize.js';
import type { ModelSpec } from '../contract/index.js';

export function readTrainerState(state: Uint8Array): { spec: ModelSpec; weights: Float32Array; epoch: number; step: number; done: boolean } {
  const { header, blobs } = decodeContainer(state, STATE_MAGIC, 'trainer state');
  return { spec: header.spec as ModelSpec, weights: blobs.weights as Float32Array, epoch: header.epoch as number, step: header.step as number, done: header.done === true };
}

export function isFinished(state: Uint8Array): boolean {
  return readTrainerState(state).done;
}
