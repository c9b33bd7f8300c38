import { describe, expect, test } from 'vitest';
import { FakeService } from '../../test/fake-client.js';
import { detail, run } from '../../test/fixtures.js';
import type { PredictResponse } from '../lib/api.js';
import { base64Of, bytesOf, floatsOf, InspectState } from './inspect.svelte.js';
import { RunsState } from './runs.svelte.js';

const prediction = (over: Partial<PredictResponse>): PredictResponse => ({
  runId: 1, snapshotId: 5, epoch: 1, probabilities: [0.75, 0.25], ranked: [{ classIndex: 0, className: 'a', probability: 0.75 }, { classIndex: 1, className: 'b', probability: 0.25 }],
  image: { width: 2, height: 1, channels: 1, base64: base64Of(new Uint8Array([0, 255])), steps: ['drawn 2×1, gray'], label: null }, ...over,
});

async function started() {
  const service = new FakeService();
  service.answer('listRuns', [run({ id: 1, status: 'completed' })]);
  service.answer('getRun', (r) => detail({ id: r.id, status: 'completed' }));
  service.answer('featureMaps', (r) => ({ runId: r.runId, snapshotId: 5, epoch: 1, image: prediction({}).image, probabilities: [1, 0], layers: [], unsupported: [] }));
  const runs = new RunsState(service.client);
  await runs.refresh();
  await runs.select(1);
  return { service, inspect: new InspectState(service.client, runs) };
}

const drawn = { type: 'pixels' as const, width: 2, height: 1, channels: 1 as const, base64: base64Of(new Uint8Array([0, 255])) };

describe('inspect state', () => {
  test('trying an image asks for its probabilities and feature maps on the chosen snapshot', async () => {
    const { service, inspect } = await started();
    service.answer('predict', () => prediction({}));
    inspect.reset(5);
    await inspect.tryImage(drawn, 'drawn');
    expect(service.requestsOf('predict')).toEqual([{ runId: 1, snapshotId: 5, image: drawn }]);
    expect(service.requestsOf('featureMaps')).toEqual([{ runId: 1, snapshotId: 5, image: drawn }]);
    expect(inspect.prediction!.ranked[0]!.className).toBe('a');
    expect(inspect.busy.predict).toBe(false);
  });

  test('an older, slower answer does not replace a newer image\'s', async () => {
    const { service, inspect } = await started();
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    service.answer('predict', async (r) => {
      if (r.image.type === 'pixels') await slow;
      return prediction({ probabilities: r.image.type === 'pixels' ? [0.1, 0.9] : [0.6, 0.4] });
    });
    const first = inspect.tryImage(drawn, 'drawn');
    await inspect.tryImage({ type: 'dataset', datasetId: 1, split: 'test', index: 3 }, 'test image 3');
    release();
    await first;
    expect(inspect.prediction!.probabilities).toEqual([0.6, 0.4]);
    expect(inspect.imageName).toBe('test image 3');
  });

  test('a refusal is shown in words; the step-through is asked only when wanted, with the chosen unit', async () => {
    const { service, inspect } = await started();
    service.refuse('predict', { code: 'bad_request', message: 'notes.txt is not an image this studio can read' });
    await inspect.tryImage({ type: 'file', base64: 'aGVsbG8=', name: 'notes.txt' }, 'notes.txt');
    expect(inspect.error).toBe('notes.txt is not an image this studio can read');
    expect(service.requestsOf('stepThrough')).toEqual([]);
    service.answer('stepThrough', (r) => ({ runId: r.runId, snapshotId: 5, epoch: 1, image: prediction({}).image, classNames: ['a', 'b'], labelFrom: 'predicted', steps: {} as never }));
    await inspect.stepThrough([{ layer: 0, unit: [1, 2, 0] }]);
    expect(service.requestsOf('stepThrough')[0]).toMatchObject({ runId: 1, units: [{ layer: 0, unit: [1, 2, 0] }] });
  });

  test('base64 helpers: bytes and little-endian float32 round-trip', () => {
    expect(Array.from(bytesOf(base64Of(new Uint8Array([0, 1, 254, 255]))))).toEqual([0, 1, 254, 255]);
    const f = new Float32Array([1.5, -2, 0.125]);
    expect(Array.from(floatsOf(base64Of(new Uint8Array(f.buffer))))).toEqual([1.5, -2, 0.125]);
  });
});
