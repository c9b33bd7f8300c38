import { describe, expect, test } from 'vitest';
import { FakeService, settle } from '../../test/fake-client.js';
import { detail, evaluation, run } from '../../test/fixtures.js';
import type { SnapshotInfo } from '../lib/api.js';
import { CellGalleryState } from './cell-gallery.svelte.js';
import { InspectState } from './inspect.svelte.js';
import { RunsState } from './runs.svelte.js';
import { epochStops, TimeTravelState } from './time-travel.svelte.js';

const snap = (id: number, epoch: number, over: Partial<SnapshotInfo> = {}): SnapshotInfo =>
  ({ id, runId: 1, epoch, batch: 0, step: epoch * 10, kind: 'epoch', isBest: false, bytes: 100, createdAt: '2025-01-01T00:00:00.000Z', ...over });
const epochRow = (epoch: number, valAccuracy: number | null) =>
  ({ epoch, step: epoch * 10, trainLoss: 1, trainAccuracy: 0.5, valLoss: 1, valAccuracy, learningRate: 0.01, imagesPerSecond: 100, seconds: 1, wallTime: epoch });

async function started() {
  const service = new FakeService();
  service.answer('listRuns', [run({ id: 1, status: 'completed', epochsDone: 3 })]);
  service.answer('getRun', (r) => detail({
    id: r.id, status: 'completed',
    snapshots: [snap(11, 1), snap(12, 1, { kind: 'interval', batch: 4 }), snap(13, 2), snap(14, 3)],
    epochs: [epochRow(1, 0.5), epochRow(2, 0.6), epochRow(3, 0.7)],
  }));
  service.answer('inspectFilters', (r) => ({ runId: r.runId, snapshotId: r.snapshotId ?? 14, epoch: 3, layers: [], unsupported: [] }));
  const runs = new RunsState(service.client);
  await runs.refresh();
  await runs.select(1);
  const inspect = new InspectState(service.client, runs);
  return { service, runs, inspect, travel: new TimeTravelState(service.client, runs, inspect) };
}

describe('time travel', () => {
  test('one stop per completed epoch (interval snapshots skipped), each with its validation accuracy', async () => {
    const { runs, travel } = await started();
    expect(epochStops(runs.detail).map((s) => [s.snapshot.id, s.epoch, s.valAccuracy])).toEqual([[11, 1, 0.5], [13, 2, 0.6], [14, 3, 0.7]]);
    expect(travel.position).toBe(2);
  });

  test('a stop shows that snapshot\'s filters and evaluation (reuse); coming back asks no evaluation again', async () => {
    const { service, inspect, travel } = await started();
    service.answer('evaluateRun', (r) => evaluation({ id: 100 + (r.snapshotId ?? 14), snapshotId: r.snapshotId ?? 14 }));
    await travel.travel(11);
    expect(travel.position).toBe(0);
    expect(inspect.filters!.snapshotId).toBe(11);
    expect(travel.evaluation!.snapshotId).toBe(11);
    expect(service.requestsOf('evaluateRun')).toEqual([{ runId: 1, snapshotId: 11, reuse: true }]);
    await travel.travel(13);
    await travel.travel(11);
    expect(travel.evaluation!.snapshotId).toBe(11);
    expect(service.requestsOf('evaluateRun').map((r) => r.snapshotId)).toEqual([11, 13]);
  });

  test('moves faster than the answers: the newest wins, one stop at a time in flight', async () => {
    const { service, inspect, travel } = await started();
    const held = service.hold('evaluateRun');
    const first = travel.travel(11);
    await settle();
    void travel.travel(13);
    void travel.travel(14);
    await settle();
    expect(held.pending).toBe(1); // 13 and 14 wait for 11's answers; 13 is never asked
    held.resolve(evaluation({ id: 111, snapshotId: 11 }));
    await settle();
    expect(held.request).toEqual({ runId: 1, snapshotId: 14, reuse: true });
    held.resolve(evaluation({ id: 114, snapshotId: 14 }));
    await first;
    expect(travel.evaluation!.snapshotId).toBe(14);
    expect(inspect.filters!.snapshotId).toBe(14);
    expect(service.requestsOf('inspectFilters').map((r) => r.snapshotId)).toEqual([11, 14]);
    expect(travel.evaluating).toBe(false);
  });
});

describe('a confusion cell\'s gallery', () => {
  test('pages through the cell from the service, loading the thumbnails of each page; closing forgets it', async () => {
    const service = new FakeService();
    const e = evaluation({ id: 7, runId: 1 });
    service.answer('evaluationImages', (r) => ({
      evaluationId: r.evaluationId, datasetId: 1, imageSplit: 'test', label: r.label, predicted: r.predicted, total: 30, offset: r.offset,
      images: Array.from({ length: Math.min(r.limit, 30 - r.offset) }, (_, i) => ({ index: 500 + r.offset + i, label: r.label, predicted: r.predicted, top: [] })),
    }));
    service.answer('getThumbnails', (r) => r.indices.map((index) => ({ index, label: 2, className: 'x', width: 84, height: 84, channels: 1, format: 'png' as const, base64: btoa(String(index)) })));
    const cells = new CellGalleryState(service.client);
    await cells.open(e, 2, 5);
    expect(cells.of(e)).toEqual({ runId: 1, evaluationId: 7, label: 2, predicted: 5 });
    expect(cells.of(evaluation({ id: 8 }))).toBeNull();
    expect([cells.page, cells.pageCount, cells.shown!.images.length]).toEqual([0, 2, 24]);
    await cells.showPage(1);
    expect(cells.shown!.images.map((m) => m.index)).toEqual([524, 525, 526, 527, 528, 529]);
    expect(service.requestsOf('evaluationImages').map((r) => [r.label, r.predicted, r.offset, r.limit])).toEqual([[2, 5, 0, 24], [2, 5, 24, 24]]);
    expect(service.requestsOf('getThumbnails').map((r) => r.indices.length)).toEqual([24, 6]);
    expect(cells.thumbnailOf(cells.shown!, 529)!.base64).toBe(btoa('529'));
    await cells.showPage(2); // past the end: nothing asked
    expect(service.requestsOf('evaluationImages')).toHaveLength(2);
    cells.close();
    expect(cells.of(e)).toBeNull();
  });
});
