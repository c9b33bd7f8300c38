/**
 * Looking inside a run through the service: predict, feature maps, filters and the step-through,
 * each computed in an inspection worker from a stored snapshot. The numbers are checked against
 * the engine run here in the test on the same snapshot; a dropped file is prepared exactly as a
 * folder import prepares it (the cached pixels of an imported folder equal what predict saw).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, readTrainerState, resolveKernels } from '../../src-engine/index.js';
import { featureMaps } from '../../src-engine/inspect/index.js';
import { readCache } from '../datasets/index.js';
import { workerFactories } from '../worker-factories/index.js';
import { ServiceError } from './errors.js';
import { SAMPLE_DATASET_NAME, type Service } from './service.js';
import { openService, QUICK, tempDir, SMALL_CONV_SPEC } from './testing.js';

let dir: ReturnType<typeof tempDir>;
let service: Service;
let inspectionWorkers = 0;
let runId: number;
let snapshot: { id: number; epoch: number };
let sample: ReturnType<typeof readCache>;
let sampleId: number;

const f32 = (b64: string) => {
  const b = Buffer.from(b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};
const u8 = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));
/** The snapshot's model, built here in the test, outside any worker, with the run's kernels. */
const engineModel = () => {
  const { spec, weights } = readTrainerState(service.store.snapshot(snapshot.id)!.state);
  // the kernels the run trained with, as the worker uses them (fast and reference differ in the last bits)
  const model = buildModel(spec, { kernels: resolveKernels(service.runs.row(runId).hyperparameters.kernels) });
  model.values.set(weights);
  return model;
};
const testImage = (i: number) => Float32Array.from(sample.test!.images.subarray(i * 784, (i + 1) * 784), (v) => v / 255);

/** A colour photo-like PNG with an alpha channel, not the model's size. */
const colourPng = (width: number, height: number) => {
  const raw = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const p = (y * width + x) * 4;
    raw[p] = (x * 255) / width; raw[p + 1] = (y * 255) / height; raw[p + 2] = ((x + y) * 97) % 256; raw[p + 3] = 255 - ((x * 3) % 128);
  }
  return sharp(raw, { raw: { width, height, channels: 4 } }).png().toBuffer();
};

const expectRefusal = async (p: Promise<unknown>, code: string, pattern: RegExp) => {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(ServiceError);
  expect((e as ServiceError).code).toBe(code);
  expect((e as ServiceError).message).toMatch(pattern);
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
  snapshot = service.runs.detail(runId, false).snapshots[0]!;
}, 120_000);

afterAll(async () => {
  await service?.close();
  dir?.remove();
});

describe('predict', () => {
  it('a test image of the dataset: the probabilities are the engine\'s on that snapshot, in a worker; the label and steps are said', async () => {
    const before = inspectionWorkers;
    const r = await service.exec('predict', { runId, image: { type: 'dataset', datasetId: sampleId, split: 'test', index: 3 } });
    expect(inspectionWorkers - before).toBe(1);
    expect([r.runId, r.snapshotId, r.epoch]).toEqual([runId, snapshot.id, snapshot.epoch]);
    expect(Float32Array.from(r.probabilities)).toEqual(engineModel().predict(testImage(3), 1));
    expect(r.image.label).toBe(sample.test!.labels[3]);
    expect(r.image.steps[0]).toMatch(/^image 3 of the test split/);
    expect(u8(r.image.base64)).toEqual(sample.test!.images.subarray(3 * 784, 4 * 784));
    expect(r.ranked.map((c) => c.probability)).toEqual([...r.probabilities].sort((a, b) => b - a));
    expect(r.ranked[0]!.className).toBe(service.datasets.find(sampleId).classNames[r.ranked[0]!.classIndex]);
  });

  it('the same image as a PNG file and as drawn pixels: the same probabilities, kept at 28×28', async () => {
    const pixels = Buffer.from(sample.test!.images.subarray(3 * 784, 4 * 784));
    const png = await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    const fromFile = await service.exec('predict', { runId, image: { type: 'file', base64: png.toString('base64'), name: 'three.png' } });
    const drawn = await service.exec('predict', { runId, image: { type: 'pixels', width: 28, height: 28, channels: 1, base64: pixels.toString('base64') } });
    const engine = Array.from(engineModel().predict(testImage(3), 1));
    expect(fromFile.probabilities).toEqual(engine);
    expect(drawn.probabilities).toEqual(engine);
    expect(fromFile.image.steps).toEqual(['decoded PNG 28×28, gray', "kept at 28×28 (the model's input size)", 'scaled 0–255 → 0–1 (÷ 255), as in training']);
    expect(drawn.image.steps[0]).toBe('drawn 28×28, gray');
    expect(fromFile.image.label).toBeNull();
  });

  it('a 60×45 colour PNG with alpha is prepared exactly as a folder import prepares it, and the view is told each step', async () => {
    const png = await colourPng(60, 45);
    const root = join(dir.path, 'folder');
    for (const c of ['a', 'b']) mkdirSync(join(root, c), { recursive: true });
    writeFileSync(join(root, 'a', 'photo.png'), png);
    writeFileSync(join(root, 'b', 'other.png'), await colourPng(30, 30));
    const imported = await service.exec('importDataset', { path: root, name: 'two photos', resizeTo: [28, 28], channels: 1 });
    const cache = readCache(service.datasets.row(imported.dataset.id).cacheFile);
    const at = Array.from(cache.train.labels).indexOf(0);
    const r = await service.exec('predict', { runId, image: { type: 'file', base64: png.toString('base64'), name: 'photo.png' } });
    expect(u8(r.image.base64)).toEqual(cache.train.images.subarray(at * 784, (at + 1) * 784));
    expect(r.image.steps).toEqual([
      'decoded PNG 60×45, colour with alpha',
      'flattened the alpha onto black',
      'resized 60×45 → 28×28 (stretched, as the import resizes)',
      'converted to grayscale (Rec. 601 luma: 0.299 R + 0.587 G + 0.114 B)',
      'scaled 0–255 → 0–1 (÷ 255), as in training',
    ]);
    expect(r.probabilities).toEqual(Array.from(engineModel().predict(Float32Array.from(u8(r.image.base64), (v) => v / 255), 1)));
  });

  it('refusals name the problem: not an image, an index past the split, drawn bytes of the wrong size, a snapshot of another run', async () => {
    await expectRefusal(service.exec('predict', { runId, image: { type: 'file', base64: Buffer.from('hello, not a picture').toString('base64'), name: 'notes.txt' } }),
      'bad_request', /notes\.txt is not an image/);
    await expectRefusal(service.exec('predict', { runId, image: { type: 'dataset', datasetId: sampleId, split: 'test', index: sample.test!.n } }),
      'bad_request', new RegExp(`has ${sample.test!.n} test images; there is no image ${sample.test!.n}`));
    await expectRefusal(service.exec('predict', { runId, image: { type: 'pixels', width: 28, height: 28, channels: 1, base64: Buffer.alloc(700).toString('base64') } }),
      'bad_request', /700 bytes, expected 28×28×1 = 784/);
    await expectRefusal(service.exec('predict', { runId, snapshotId: 999_999, image: { type: 'dataset', datasetId: sampleId, split: 'test', index: 0 } }), 'not_found', /no snapshot 999999/);
  });

  it('cancelInspection stops a computing inspection: it rejects with cancelled', async () => {
    const pending = service.exec('featureMaps', { runId, inspectionId: 'look-1', image: { type: 'dataset', datasetId: sampleId, split: 'test', index: 0 } });
    expect(await service.exec('cancelInspection', { inspectionId: 'look-1' })).toEqual({ cancelled: true });
    await expectRefusal(pending, 'cancelled', /featureMaps of run \d+ cancelled/);
    expect(await service.exec('cancelInspection', { inspectionId: 'look-1' })).toEqual({ cancelled: false });
  });
});

describe('filters and feature maps', () => {
  it('inspectFilters: the conv layer\'s 4 filters 3×3×1, its weights (Cout, Cin, KH, KW) as the snapshot holds them, tiles 0..255 per filter', async () => {
    const r = await service.exec('inspectFilters', { runId });
    expect(r.unsupported).toEqual([]);
    expect(r.layers).toHaveLength(1);
    const l = r.layers[0]!;
    expect([l.index, l.kh, l.kw, l.cin, l.cout, l.mode]).toEqual([0, 3, 3, 1, 4, 'channels']);
    const model = engineModel();
    const w = model.layers[0]!.params[0]!.value; // (KH, KW, Cin, Cout)
    const weights = f32(l.weights);
    for (let k = 0; k < 4; k++) for (let u = 0; u < 3; u++) for (let v = 0; v < 3; v++) expect(weights[(k * 3 + u) * 3 + v]).toBe(w[(u * 3 + v) * 4 + k]);
    const tiles = u8(l.tiles);
    for (let k = 0; k < 4; k++) {
      const tile = Array.from(tiles.subarray(k * 9, (k + 1) * 9));
      expect([Math.min(...tile), Math.max(...tile)]).toEqual([0, 255]);
      expect(l.min[k]).toBe(Math.min(...weights.subarray(k * 9, (k + 1) * 9)));
    }
  });

  it('featureMaps: the conv and pool outputs equal the engine\'s on that image, with shapes and receptive fields', async () => {
    const r = await service.exec('featureMaps', { runId, image: { type: 'dataset', datasetId: sampleId, split: 'test', index: 5 } });
    const expected = featureMaps(engineModel(), testImage(5));
    expect(r.layers.map((l) => [l.label, l.shape])).toEqual([['conv2d #1', [26, 26, 4]], ['maxpool2d #2', [13, 13, 4]]]);
    r.layers.forEach((l, i) => {
      expect(f32(l.values)).toEqual(Float32Array.from(expected.maps[i]!.values));
      expect([l.min, l.max]).toEqual([expected.maps[i]!.min, expected.maps[i]!.max]);
    });
    // a pool unit reads a 4×4 patch of the image: rows 2o..2o+3
    expect(r.layers[1]!.receptiveField!.rows[5]).toEqual(expected.maps[1]!.receptiveField!.rows[5]);
    expect(r.probabilities).toEqual(Array.from(expected.probabilities));
  });
});

describe('stepThrough', () => {
  it('its loss, probabilities and input gradient equal lossAndGradients on that sample; the label is the dataset\'s', async () => {
    const r = await service.exec('stepThrough', { runId, image: { type: 'dataset', datasetId: sampleId, split: 'test', index: 7 } });
    const label = sample.test!.labels[7]!;
    expect([r.labelFrom, r.steps.label]).toEqual(['dataset', label]);
    const model = engineModel();
    const engine = model.lossAndGradients(testImage(7), [label], 1, { training: false, inputGradient: true });
    expect(r.steps.loss).toBe(engine.loss);
    expect(r.steps.inputGradient).toEqual(Array.from(engine.inputGradient!));
    // predict's batched inference forward may round differently from the training forward in the fast kernels' last bits
    const predicted = model.predict(testImage(7), 1);
    r.steps.probabilities.forEach((p, j) => expect(p).toBeCloseTo(predicted[j]!, 6));
    expect(r.steps.layers.map((l) => l.forward?.kind)).toEqual(['conv', 'maxpool', 'reshape', 'dense']);
    // the conv unit's dot + bias is its pre-activation and the ReLU's output (the fast kernels sum in another order: 6 digits)
    const conv = r.steps.layers[0]!.forward as Extract<NonNullable<typeof r.steps.layers[0]['forward']>, { kind: 'conv' }>;
    expect(conv.z).toBeCloseTo(conv.dot + conv.bias, 6);
    expect(conv.a).toBeCloseTo(Math.max(0, conv.z), 6);
  });

  it('a drawn image without a label: the loss is taken against the predicted class, or the one asked for; a unit outside the layer is refused', async () => {
    const pixels = Buffer.from(sample.test!.images.subarray(0, 784)).toString('base64');
    const image = { type: 'pixels' as const, width: 28, height: 28, channels: 1 as const, base64: pixels };
    const predicted = await service.exec('stepThrough', { runId, image });
    expect(predicted.labelFrom).toBe('predicted');
    expect(predicted.steps.label).toBe(predicted.steps.predicted);
    const asked = await service.exec('stepThrough', { runId, image, label: 2, units: [{ layer: 0, unit: [4, 5, 1] }] });
    expect([asked.labelFrom, asked.steps.label, asked.steps.layers[0]!.unit]).toEqual(['request', 2, [4, 5, 1]]);
    await expectRefusal(service.exec('stepThrough', { runId, image, units: [{ layer: 0, unit: [26, 0, 0] }] }), 'bad_request', /conv2d #1 has no unit \[26, 0, 0\]; its output is 26×26×4/);
  });
});
