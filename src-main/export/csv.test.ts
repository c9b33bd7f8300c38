import { describe, expect, it } from 'vitest';
import type { BatchEvent, EpochMetrics } from '../../src-engine/train.js';
import { batchMetricsCsv, csvCell, metricsCsv } from './csv.js';

describe('metricsCsv', () => {
  it('writes the epoch header, one row per epoch, null/missing as empty cells', () => {
    const csv = metricsCsv([
      { epoch: 1, train_loss: 0.5, train_accuracy: 0.8125, val_loss: null, val_accuracy: null, learning_rate: 0.01, images_per_second: 1234.5, wall_seconds: 2.25 },
      { epoch: 2, train_loss: 0.1 + 0.2, train_accuracy: 0.9, learning_rate: 1e-7, images_per_second: 1300, wall_seconds: 4.5 },
    ]);
    expect(csv).toBe(
      'epoch,train_loss,train_accuracy,val_loss,val_accuracy,learning_rate,images_per_second,wall_seconds\n' +
      '1,0.5,0.8125,,,0.01,1234.5,2.25\n' +
      '2,0.30000000000000004,0.9,,,1e-7,1300,4.5\n');
  });

  it('takes engine EpochMetrics keys (camelCase) as they are', () => {
    const metrics: EpochMetrics = { epoch: 3, trainLoss: 0.25, trainAccuracy: 0.75, valLoss: 0.3, valAccuracy: null, learningRate: 0.001, imagesPerSecond: 900, seconds: 4, improved: true };
    const csv = metricsCsv([{ ...metrics, wall_seconds: 9 }]);
    expect(csv.split('\n')[1]).toBe('3,0.25,0.75,0.3,,0.001,900,9');
    expect(metricsCsv([metrics], ['epoch', 'improved', 'seconds'])).toBe('epoch,improved,seconds\n3,true,4\n');
    expect(() => metricsCsv([{ epoch: { n: 1 } }], ['epoch'])).toThrow('CSV column epoch: expected a number, string or null, got {"n":1}');
  });

  it('quotes strings with commas, quotes, newlines or edge spaces (RFC 4180)', () => {
    const csv = metricsCsv([{ run: 'conv, wide', note: 'said "hi"', tag: 'two\nlines', plain: 'adam', pad: ' x', n: NaN }], ['run', 'note', 'tag', 'plain', 'pad', 'n']);
    expect(csv).toBe('run,note,tag,plain,pad,n\n"conv, wide","said ""hi""","two\nlines",adam," x",NaN\n');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(-Infinity)).toBe('-Infinity');
  });

  it('batch rows: engine BatchEvents map loss/accuracy to train_loss/train_accuracy', () => {
    const event: BatchEvent = { epoch: 0, batch: 9, batchesPerEpoch: 40, step: 10, loss: 1.5, accuracy: 0.5, learningRate: 0.1 };
    const csv = batchMetricsCsv([
      { ...event, wall_seconds: 0.75 },
      { step: 20, epoch: 0, batch: 19, train_loss: 1.25, train_accuracy: 0.625, learning_rate: 0.1, wall_seconds: null },
    ]);
    expect(csv).toBe('step,epoch,batch,train_loss,train_accuracy,learning_rate,wall_seconds\n10,0,9,1.5,0.5,0.1,0.75\n20,0,19,1.25,0.625,0.1,\n');
  });
});
