/**
 * Why did it say that, and the gradient check on demand, through the service: each computed in an
 * inspection worker (counted in the same limit as the others, cancellable) from a run's stored
 * snapshot on the real sample dataset; the numbers are the engine's, run here in the test on the
 * same snapshot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, readTrainerState, resolveKernels } from '../../src-engine/index.js';
import { gradientCheck, saliency } from '../../src-engine/inspect/index.js';
import { REQUEST_LIMITS, type InspectionProgressEvent } from '../contract/index.js';
import { readCache } from '../datasets/index.js';
import { workerFactories } from '../worker-factories/index.js';
import { ServiceError } from './errors.js';
import { SAMPLE_DATASET_NAME, type Service } from './service.js';
import { openService, QUICK, tempDir, SMALL_CONV_SPEC } from './testing.js';

let dir: ReturnType<typeof tempDir>;
let service: Service;
let inspectionWorkers = 0;
let runId: number;
let snapshotId: number;
let sample: ReturnType<typeof readCache>;
let sampleId: number;

const f32 = (b64: string) => {
  const b = Buffer.from(b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};
const state = () => service.store.snapshot(snapshotId)!.state;
/** The snapshot's model, built here in the test with the run's kernels. */
const engineModel = () => {
  const { spec, weights } = readTrainerState(state());
  const model = buildModel(spec, { kernels: resolveKernels(service.runs.row(runId).hyperparameters.kernels) });
  model.values.set(weights);
  return model;
};
const testImage = (i: number) => Float32Array.from(sample.test!.images.subarray(i * 784, (i + 1) * 784), (v) => v / 255);
const testImageInput = (index: number) => ({ type: 'dataset' as const, datasetId: sampleId, split: 'test' as const, index });

const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(ServiceError);
  return e as ServiceError;
};

beforeAll(async () => {
  dir = tempDir();
  service = await openService(dir.path, { workers: { ...workerFactories, inspection: () => (inspectionWorkers++, workerFactories.inspection()) } });
  const d = service.datasets.find(SAMPLE_DATASET_NAME);
  sampleId = d.id;
  sample = readCache(service.datasets.row(d.id).cacheFile);
  const run = service.runs.start({ datasetId: d.id, spec: SMALL_CONV_SPEC, hyperparameters: { ...QUICK, epochs: 1 } });
  await service.runs.waitFor(run.id);
  runId = run.id;
  snapshotId = service.runs.detail(runId, false).snapshots[0]!.id;
}, 120_000);

afterAll(async () => {
  await service?.close();
  dir?.remove();
});

describe('saliency', () => {
  it('test image 3: the map is the engine\'s |∂z_predicted/∂x| on that snapshot, in a worker, with the top-3 probabilities', async () => {
    const before = inspectionWorkers;
    const r = await service.exec('saliency', { runId, image: testImageInput(3) });
    expect(inspectionWorkers - before).toBe(1);
    expect([r.runId, r.snapshotId]).toEqual([runId, snapshotId]);
    const engine = saliency(engineModel(), testImage(3));
    expect([r.classIndex, r.predicted]).toEqual([engine.predicted, engine.predicted]);
    expect(f32(r.map)).toEqual(engine.map);
    expect(r.max).toBe(engine.max);
    expect(r.max).toBeGreaterThan(0);
    expect(r.probabilities).toEqual(Array.from(engine.probabilities));
    const sorted = [...r.probabilities].map((p, i) => ({ p, i })).sort((a, b) => b.p - a.p).slice(0, 3);
    expect(r.top.map((c) => [c.classIndex, c.probability])).toEqual(sorted.map((s) => [s.i, s.p]));
    expect(r.top[0]!.className).toBe(service.datasets.find(sampleId).classNames[r.top[0]!.classIndex]);
    expect([r.image.width, r.image.height, r.image.label]).toEqual([28, 28, sample.test!.labels[3]]);
  });

  it('a chosen class: its own gradient, not the predicted one\'s; a class the model lacks is refused', async () => {
    const predicted = await service.exec('saliency', { runId, image: testImageInput(5) });
    const other = (predicted.predicted + 1) % 10;
    const r = await service.exec('saliency', { runId, image: testImageInput(5), classIndex: other });
    expect([r.classIndex, r.predicted]).toEqual([other, predicted.predicted]);
    expect(f32(r.map)).toEqual(saliency(engineModel(), testImage(5), other).map);
    expect(f32(r.map)).not.toEqual(f32(predicted.map));
    const e = await refusal(service.exec('saliency', { runId, image: testImageInput(5), classIndex: 10 }));
    expect([e.code, e.message]).toEqual(['bad_request', 'class 10 is not a class of this model (it has 10)']);
  });
});

describe('gradientCheck', () => {
  it('equals the engine\'s float64 check of the snapshot on the first 4 test images; every layer passes; progress events count up to the end', async () => {
    const progress: InspectionProgressEvent[] = [];
    const off = service.on('inspectionProgress', (p) => progress.push(p));
    const r = await service.exec('gradientCheck', { runId, inspectionId: 'check-1' });
    off();
    const { spec, weights } = readTrainerState(state());
    const x = Float64Array.from(sample.test!.images.subarray(0, 4 * 784), (v) => v / 255);
    const engine = gradientCheck(spec, weights, x, Array.from(sample.test!.labels.subarray(0, 4)), 4, { entriesPerParameter: 16 });
    expect([r.split, r.indices, r.h, r.loss]).toEqual(['test', [0, 1, 2, 3], engine.h, engine.loss]);
    expect(r.layers.map((l) => [l.label, l.parameters.map((p) => [p.name, p.checked, p.total, p.maxRelError, p.medianRelError])]))
      .toEqual(engine.layers.map((l) => [l.label, l.parameters.map((p) => [p.name, p.checked, p.total, p.maxRelError, p.medianRelError])]));
    expect(r.input.maxRelError).toBe(engine.input.maxRelError);
    expect(r.evaluations).toBe(engine.evaluations);
    // conv weights 3×3×1×4 and bias, dense weights 676×10 and bias: 16 entries of each larger one
    expect(r.layers.map((l) => l.parameters.map((p) => `${p.checked}/${p.total}`))).toEqual([['16/36', '4/4'], [], [], ['16/6760', '10/10']]);
    expect(r.layers.map((l) => l.passed)).toEqual([true, null, null, true]);
    expect(r.passed).toBe(true);
    expect(r.input).toEqual(engine.input);
    for (const l of r.layers) for (const p of l.parameters) expect(p.medianRelError).toBeLessThanOrEqual(r.tolerance.median);
    // four parameters, then the input
    expect(progress.map((p) => [p.inspectionId, p.runId, p.kind, p.done, p.total])).toEqual([1, 2, 3, 4, 5].map((done) => ['check-1', runId, 'gradientCheck', done, 5]));
  });

  it('cancelInspection stops a long check after its first progress event: it rejects with cancelled, no progress follows', async () => {
    let cancelled = false;
    let after = 0;
    let first: () => void;
    const started = new Promise<void>((resolve) => (first = resolve));
    const off = service.on('inspectionProgress', (p) => {
      if (p.inspectionId !== 'check-long') return;
      if (cancelled) after++;
      first();
    });
    // every entry of the dense weights on 16 images: far longer than one progress event
    const pending = service.exec('gradientCheck', { runId, inspectionId: 'check-long', samples: 16, entriesPerParameter: 256 });
    const outcome = pending.then(() => null, (e: unknown) => e);
    await started;
    expect(await service.exec('cancelInspection', { inspectionId: 'check-long' })).toEqual({ cancelled: true });
    cancelled = true;
    const e = await outcome;
    off();
    expect(e).toBeInstanceOf(ServiceError);
    expect([(e as ServiceError).code, (e as ServiceError).message]).toEqual(['cancelled', `gradientCheck of run ${runId} cancelled`]);
    expect(after).toBe(0);
  });

  it('counted in the inspections limit with the others: one more than the limit is refused with conflict', async () => {
    const ids = Array.from({ length: REQUEST_LIMITS.inspectionsRunning }, (_, i) => `busy-${i}`);
    const running = ids.map((inspectionId) => service.exec('gradientCheck', { runId, inspectionId, samples: 16, entriesPerParameter: 256 }).then(() => null, (e: unknown) => e));
    const e = await refusal(service.exec('saliency', { runId, image: testImageInput(0) }));
    expect(e.code).toBe('conflict');
    expect(e.message).toBe(`${REQUEST_LIMITS.inspectionsRunning} inspections are computing, the most at once; wait for one to finish or cancel one`);
    for (const inspectionId of ids) await service.exec('cancelInspection', { inspectionId });
    for (const r of await Promise.all(running)) expect((r as ServiceError).code).toBe('cancelled');
    // and a slot is free again
    expect((await service.exec('saliency', { runId, image: testImageInput(0) })).top).toHaveLength(3);
  });
});
