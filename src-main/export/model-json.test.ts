import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src-engine/model.js';
import { Rng } from '../../src-engine/rng.js';
import type { ModelSpec } from '../../src-engine/spec.js';
import { loadModelJsonFiles, readModelJsonFiles, writeModelJsonFiles } from './files.js';
import { ExportError } from './layout.js';
import { exportModelJson, importModelJson, modelFromJson, type ModelJson } from './model-json.js';

const SPEC: ModelSpec = {
  inputShape: [10, 9, 2],
  layers: [
    { type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', stride: 2 },
    { type: 'maxpool2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dropout', rate: 0.2 },
    { type: 'dense', units: 6 },
    { type: 'dense', units: 3 },
  ],
};
const CLASSES = ['cat, small', 'dog "big"', 'bird'];

function trainedLikeModel() {
  const model = buildModel(SPEC, { seed: 3 });
  // Every bit pattern matters for the round trip, including biases and subnormals.
  const rng = new Rng(8);
  for (let i = 0; i < model.values.length; i++) model.values[i] = (rng.next() - 0.5) * 0.6;
  model.values[model.values.length - 1] = 1e-40;
  return model;
}

function images(n: number): Float32Array {
  const rng = new Rng(21);
  return Float32Array.from({ length: n * 10 * 9 * 2 }, () => rng.next());
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('model JSON + .bin', () => {
  it('10×9×2 net: export → import gives bit-identical weights and identical predictions', () => {
    const model = trainedLikeModel();
    const { json, bin } = exportModelJson(SPEC, model.values, { name: 'pets', classNames: CLASSES, producerVersion: '0.1.0' });
    expect(bin.length).toBe(model.values.length * 4);
    const doc = JSON.parse(json) as ModelJson;
    expect(doc.format).toBe('cnn-studio-model');
    expect(doc.version).toBe(1);
    expect(doc.weights).toMatchObject({ dtype: 'float32', byteLength: bin.length });
    expect(doc.weights.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(doc.parameters.map((p) => `${p.name} ${p.shape.join('×')} @${p.offset}+${p.length}`)).toEqual([
      'conv2d1.weight 3×3×2×4 @0+72', 'conv2d1.bias 4 @72+4',
      'dense5.weight 16×6 @76+96', 'dense5.bias 6 @172+6',
      'dense6.weight 6×3 @178+18', 'dense6.bias 3 @196+3',
    ]);

    const back = importModelJson(json, bin);
    expect(back.spec).toEqual(SPEC);
    expect(back.classNames).toEqual(CLASSES);
    expect(back.name).toBe('pets');
    expect(new Uint32Array(back.weights.buffer)).toEqual(new Uint32Array(model.values.slice().buffer));

    const loaded = modelFromJson(json, bin);
    const x = images(4);
    const expected = model.predict(x, 4);
    const got = loaded.predict(x, 4);
    expect(new Uint32Array(got.buffer)).toEqual(new Uint32Array(expected.buffer));
  });

  it('batch norm: the running statistics travel in the .bin after every parameter, marked trainable: false, and predict the same', () => {
    const spec: ModelSpec = { inputShape: [10, 9, 2], layers: [{ type: 'conv2d', filters: 4, kernelSize: 3, activation: 'linear' }, { type: 'batchnorm' }, { type: 'globalavgpool2d' }, { type: 'dense', units: 3 }] };
    const model = buildModel(spec, { seed: 1 });
    const rng = new Rng(4);
    for (let i = 0; i < model.values.length; i++) model.values[i] = 0.2 + rng.next();
    const { json, bin } = exportModelJson(spec, model.values);
    const doc = JSON.parse(json) as ModelJson;
    expect(doc.parameters.slice(-2)).toEqual([
      { name: 'batchnorm2.runningMean', shape: [4], offset: 99, length: 4, trainable: false },
      { name: 'batchnorm2.runningVar', shape: [4], offset: 103, length: 4, trainable: false },
    ]);
    expect(doc.parameters[0]).not.toHaveProperty('trainable');
    const loaded = modelFromJson(json, bin);
    expect(Array.from(loaded.values)).toEqual(Array.from(model.values));
    expect(Array.from(loaded.predict(images(2), 2))).toEqual(Array.from(model.predict(images(2), 2)));
  });

  it('the .bin is plain little-endian float32 at the listed offsets', () => {
    const model = trainedLikeModel();
    const { json, bin } = exportModelJson(SPEC, model.values);
    const doc = JSON.parse(json) as ModelJson;
    const dense = doc.parameters.find((p) => p.name === 'dense5.bias')!;
    const view = new DataView(bin.buffer, bin.byteOffset);
    const bias = model.parameters().find((p) => p.name === 'dense5.bias')!.value;
    for (let i = 0; i < dense.length; i++) expect(view.getFloat32((dense.offset + i) * 4, true)).toBe(bias[i]);
  });

  it('refuses a .bin from another export, a truncated .bin, a foreign format and a bad spec, naming the problem', () => {
    const model = trainedLikeModel();
    const { json, bin } = exportModelJson(SPEC, model.values);
    const other = bin.slice();
    other[5] ^= 1;
    expect(() => importModelJson(json, other)).toThrow(/sha256 [0-9a-f]{64} does not match the model file's [0-9a-f]{64}/);
    expect(() => importModelJson(json, bin.subarray(0, bin.length - 4))).toThrow(`weights file has ${bin.length - 4} bytes but the model file says ${bin.length}`);
    expect(() => importModelJson('{"format":"keras"}', bin)).toThrow('format is "keras"');
    expect(() => importModelJson('not json', bin)).toThrow(ExportError);
    const doc = JSON.parse(json) as ModelJson;
    expect(() => importModelJson(JSON.stringify({ ...doc, version: 2 }), bin)).toThrow('model file version 2 is not supported');
    const badSpec = { ...doc, spec: { ...SPEC, layers: [...SPEC.layers.slice(0, 5), { type: 'dense', units: 3, activation: 'relu' }] } };
    expect(() => importModelJson(JSON.stringify(badSpec), bin)).toThrow(/invalid spec: the last layer must be a dense layer with softmax/);
    const renamed = { ...doc, parameters: doc.parameters.map((p, i) => (i === 2 ? { ...p, name: 'fc.weight' } : p)) };
    expect(() => importModelJson(JSON.stringify(renamed), bin)).toThrow(/parameter #3 is .*fc\.weight.*but the spec gives .*dense5\.weight/);
  });

  it('files: FILE and FILE.bin written and read back; the JSON names its .bin', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnn-export-'));
    dirs.push(dir);
    const model = trainedLikeModel();
    const path = join(dir, 'pets.json');
    const { binPath } = writeModelJsonFiles(path, SPEC, model.values, { classNames: CLASSES, provenance: { run: 7, epoch: 3 } });
    expect(binPath).toBe(`${path}.bin`);
    const doc = JSON.parse(readFileSync(path, 'utf8')) as ModelJson;
    expect(doc.weights.file).toBe('pets.json.bin');
    expect(doc.provenance).toEqual({ run: 7, epoch: 3 });
    expect(readFileSync(binPath).length).toBe(model.values.length * 4);
    const back = readModelJsonFiles(path);
    expect(new Uint32Array(back.weights.buffer)).toEqual(new Uint32Array(model.values.slice().buffer));
    const x = images(2);
    expect(loadModelJsonFiles(path).predict(x, 2)).toEqual(model.predict(x, 2));
    writeFileSync(binPath, new Uint8Array(8));
    expect(() => readModelJsonFiles(path)).toThrow(`weights file has 8 bytes but the model file says ${model.values.length * 4}`);
    rmSync(binPath);
    expect(() => readModelJsonFiles(path)).toThrow(`cannot read the weights file ${binPath}`);
  });
});
