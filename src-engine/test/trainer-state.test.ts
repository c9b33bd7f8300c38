/**
 * Trainer-state bytes, read in one place: readTrainerState gives what the trainer saved (and
 * writing it back gives the same bytes), isFinished says whether a resume has anything left to do,
 * and Trainer.restore refuses exactly what the reader refuses, because it reads through it.
 */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../model.js';
import { decodeContainer, encodeContainer, ModelFormatError, saveModel, STATE_MAGIC } from '../serialize.js';
import type { ModelSpec } from '../spec.js';
import { Trainer, type TrainConfig } from '../train.js';
import { isFinished, readTrainerState, writeTrainerState } from '../trainer-state.js';
import { loadSample } from './sample.js';

const SPEC: ModelSpec = {
  inputShape: [28, 28, 1],
  layers: [{ type: 'conv2d', filters: 3, kernelSize: 5, stride: 3 }, { type: 'flatten' }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 10 }],
};
const train = loadSample('train', 120);
const val = loadSample('t10k', 40);
const CONFIG: TrainConfig = { epochs: 2, batchSize: 25, optimizer: { type: 'adam', learningRate: 0.01 }, seed: 4 };

const sameBits = (a: Float32Array | Uint32Array, b: Float32Array | Uint32Array) =>
  a.length === b.length && new Uint32Array(a.buffer, a.byteOffset, a.length).every((v, i) => v === new Uint32Array(b.buffer, b.byteOffset, b.length)[i]);

/** The state's container with some header fields or blobs replaced, re-sealed with a valid CRC. */
function tampered(bytes: Uint8Array, header: Record<string, unknown>, blobs: Record<string, Float32Array | Uint32Array> = {}): Uint8Array {
  const decoded = decodeContainer(bytes, STATE_MAGIC, 'trainer state');
  return encodeContainer(STATE_MAGIC, { ...decoded.header, ...header }, { ...decoded.blobs, ...blobs });
}

describe('readTrainerState', () => {
  it('mid-epoch (epoch 1, batch 2 of 5): every field and blob is what the trainer holds; writing it back gives the same bytes', () => {
    const t = new Trainer(buildModel(SPEC, { seed: 2 }), train, CONFIG, val);
    t.runEpoch();
    t.step();
    t.step();
    const bytes = t.saveState();
    const s = readTrainerState(bytes);
    expect({ epoch: s.epoch, batch: s.batch, step: s.step, done: s.done, stopReason: s.stopReason, trainN: s.trainN, bestEpoch: s.bestEpoch })
      .toEqual({ epoch: 1, batch: 2, step: 7, done: false, stopReason: null, trainN: 120, bestEpoch: 0 });
    expect(s.spec).toEqual(SPEC);
    expect(s.config).toEqual(CONFIG);
    expect(s.history).toEqual(t.history);
    expect(sameBits(s.weights, t.model.values)).toBe(true);
    expect(s.order.length).toBe(120);
    expect(Object.keys(s.optimizer).sort()).toEqual(['m', 'v']);
    expect(isFinished(bytes)).toBe(false);
    expect(writeTrainerState(s)).toEqual(bytes);
  });

  it('isFinished: false before the last epoch ends, true once completed or early-stopped', () => {
    const t = new Trainer(buildModel(SPEC, { seed: 2 }), train, CONFIG, val);
    t.runEpoch();
    expect(isFinished(t.saveState())).toBe(false);
    t.runEpoch();
    expect(t.stopReason).toBe('completed');
    expect(isFinished(t.saveState())).toBe(true);
    const es = new Trainer(buildModel(SPEC, { seed: 2 }), train, { ...CONFIG, epochs: 40, optimizer: { type: 'adam', learningRate: 0.2 }, earlyStopping: { patience: 1 } }, val);
    es.run();
    expect(es.stopReason).toBe('early-stopped');
    const s = readTrainerState(es.saveState());
    expect([s.done, s.stopReason, s.epoch]).toEqual([true, 'early-stopped', es.history.length]);
  });

  it('refuses a bad header field, a short blob or a foreign file, and Trainer.restore refuses the same with the same words', () => {
    const t = new Trainer(buildModel(SPEC, { seed: 2 }), train, CONFIG, val);
    t.runEpoch();
    const bytes = t.saveState();
    const params = t.model.values.length;
    const cases: Array<[Uint8Array, string]> = [
      [tampered(bytes, { epoch: 'one' }), 'trainer state is corrupt: header field epoch is "one", expected an integer'],
      [tampered(bytes, { done: 1 }), 'trainer state is corrupt: header field done is 1, expected a boolean'],
      [tampered(bytes, { stopReason: 'paused' }), 'trainer state is corrupt: header field stopReason is "paused"'],
      [tampered(bytes, { spec: { ...SPEC, inputShape: [28, 28, 3] } }), 'trainer state is corrupt: the spec does not match its hash'],
      [tampered(bytes, {}, { weights: new Float32Array(5) }), `trainer state is corrupt: 5 weights, the spec needs ${params}`],
      [tampered(bytes, {}, { prevWeights: new Float32Array(params - 1) }), `trainer state is corrupt: blob prevWeights has ${params - 1} values, expected ${params}`],
      [tampered(bytes, {}, { order: new Float32Array(120) }), 'trainer state is corrupt: blob order is missing or not uint32'],
      [saveModel(t.model), 'not a CNN Studio trainer state: magic number is "CNNM", expected "CNNT"'],
    ];
    for (const [bad, message] of cases) {
      expect(() => readTrainerState(bad)).toThrow(new ModelFormatError(message));
      expect(() => isFinished(bad)).toThrow(message);
      expect(() => Trainer.restore(bad, train, val)).toThrow(message);
    }
    // and the untouched bytes still restore
    expect(Trainer.restore(bytes, train, val).epoch).toBe(1);
  });
});
