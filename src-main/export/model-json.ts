/**
 * The model as two files: FILE (JSON: the spec, class names, where each parameter sits) and FILE.bin
 * (the raw little-endian float32 weights, the engine's flat buffer as is).
 *
 * Why two files and not one JSON with base64 weights: the .bin is the weight buffer byte for byte,
 * so numpy reads it with `np.fromfile(path, '<f4')` and each parameter is a slice at its offset; base64
 * would grow it by a third and make every reader parse a multi-megabyte string. The JSON stays small
 * enough to read and diff. The pair is tied by the sha256 of the .bin, checked on import. (The
 * TensorFlow.js model.json + weights.bin convention, for the same reasons.) For a single file, export
 * ONNX.
 */
import { createHash } from 'node:crypto';
import type { Kernels } from '../../src-engine/kernels/types.js';
import { buildModel, type Model } from '../../src-engine/model.js';
import { SpecError } from '../../src-engine/shapes.js';
import type { ModelSpec } from '../../src-engine/spec.js';
import { checkedLayout, ExportError, parameterLayout } from './layout.js';
import { checkClassNames, type ExportMeta } from './onnx.js';

export const MODEL_JSON_FORMAT = 'cnn-studio-model';
export const MODEL_JSON_VERSION = 1;

export interface ModelJsonMeta extends ExportMeta {
  /** File name of the .bin as the JSON should name it (relative to the JSON), e.g. "model.json.bin". */
  weightsFile?: string;
  /** Where the model came from (run id, dataset, epoch, accuracy…); stored as is, never read back. */
  provenance?: Record<string, unknown>;
}

export interface ModelJson {
  format: typeof MODEL_JSON_FORMAT;
  version: number;
  name?: string;
  producer: { name: 'cnn-studio'; version?: string };
  description?: string;
  spec: ModelSpec;
  classNames?: string[];
  input: { layout: 'NHWC'; shape: [number, number, number]; range: string };
  weights: { file?: string; dtype: 'float32'; byteOrder: 'little-endian'; byteLength: number; sha256: string };
  /** offset and length in float32 elements; conv weight (KH, KW, Cin, Cout), dense weight (in, out). */
  /** Every value of the .bin in order; statistics (batch norm running mean/variance) carry trainable: false. */
  parameters: Array<{ name: string; shape: number[]; offset: number; length: number; trainable?: false }>;
  provenance?: Record<string, unknown>;
}

export interface ImportedModel {
  spec: ModelSpec;
  weights: Float32Array;
  classNames?: string[];
  name?: string;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function weightsToBytes(weights: Float32Array): Uint8Array {
  const bytes = new Uint8Array(weights.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < weights.length; i++) view.setFloat32(i * 4, weights[i]!, true);
  return bytes;
}

export function exportModelJson(spec: ModelSpec, weights: Float32Array, meta: ModelJsonMeta = {}): { json: string; bin: Uint8Array } {
  const layout = checkedLayout(spec, weights);
  checkClassNames(meta.classNames, layout.shapes.classes!);
  const bin = weightsToBytes(weights);
  const doc: ModelJson = {
    format: MODEL_JSON_FORMAT,
    version: MODEL_JSON_VERSION,
    ...(meta.name !== undefined && { name: meta.name }),
    producer: { name: 'cnn-studio', ...(meta.producerVersion !== undefined && { version: meta.producerVersion }) },
    ...(meta.description !== undefined && { description: meta.description }),
    spec: structuredClone(spec),
    ...(meta.classNames !== undefined && { classNames: [...meta.classNames] }),
    input: { layout: 'NHWC', shape: [...spec.inputShape], range: '[0, 1] (uint8 pixels / 255)' },
    weights: {
      ...(meta.weightsFile !== undefined && { file: meta.weightsFile }),
      dtype: 'float32',
      byteOrder: 'little-endian',
      byteLength: bin.length,
      sha256: sha256Hex(bin),
    },
    // statistics (batch norm's running mean and variance) come after every parameter, marked
    parameters: layout.parameters.map(({ name, shape, offset, length, trainable }) => ({ name, shape, offset, length, ...(!trainable && { trainable: false }) })),
    ...(meta.provenance !== undefined && { provenance: meta.provenance }),
  };
  return { json: JSON.stringify(doc, null, 2) + '\n', bin };
}

/** Reads a model JSON and its .bin back; checks the format, the spec, the byte count, the sha256 and
 *  the parameter table, and throws ExportError naming the first mismatch. */
export function importModelJson(json: string, bin: Uint8Array): ImportedModel {
  let doc: Partial<ModelJson>;
  try {
    doc = JSON.parse(json) as Partial<ModelJson>;
  } catch (e) {
    throw new ExportError(`model JSON does not parse: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || doc.format !== MODEL_JSON_FORMAT) {
    throw new ExportError(`not a CNN Studio model file: format is ${JSON.stringify(doc?.format)}, expected "${MODEL_JSON_FORMAT}"`);
  }
  if (doc.version !== MODEL_JSON_VERSION) {
    throw new ExportError(`model file version ${JSON.stringify(doc.version)} is not supported (this build reads version ${MODEL_JSON_VERSION})`);
  }
  let layout;
  try {
    layout = parameterLayout(doc.spec as ModelSpec);
  } catch (e) {
    if (e instanceof SpecError) throw new ExportError(`model file has an invalid spec: ${e.message}`);
    throw e;
  }
  const w = doc.weights;
  if (!w || w.dtype !== 'float32') throw new ExportError(`model file weights dtype is ${JSON.stringify(w?.dtype)}; only "float32" is supported`);
  if (w.byteOrder !== undefined && w.byteOrder !== 'little-endian') throw new ExportError(`model file weights byte order is ${JSON.stringify(w.byteOrder)}; only "little-endian" is supported`);
  if (bin.length !== w.byteLength) throw new ExportError(`weights file has ${bin.length} bytes but the model file says ${w.byteLength}`);
  if (bin.length !== layout.totalValues * 4) {
    throw new ExportError(`weights file has ${bin.length} bytes but the spec's ${layout.totalValues} values need ${layout.totalValues * 4}`);
  }
  const digest = sha256Hex(bin);
  if (digest !== w.sha256) throw new ExportError(`weights file sha256 ${digest} does not match the model file's ${w.sha256}: the .bin belongs to another export`);
  const listed = doc.parameters ?? [];
  if (listed.length !== layout.parameters.length) {
    throw new ExportError(`model file lists ${listed.length} parameters but its spec has ${layout.parameters.length}`);
  }
  layout.parameters.forEach((p, i) => {
    const q = listed[i]!;
    if (q.name !== p.name || q.offset !== p.offset || q.length !== p.length || JSON.stringify(q.shape) !== JSON.stringify(p.shape)) {
      throw new ExportError(`model file parameter #${i + 1} is ${JSON.stringify(q)}, but the spec gives ${JSON.stringify({ name: p.name, shape: p.shape, offset: p.offset, length: p.length })}`);
    }
  });
  checkClassNames(doc.classNames, layout.shapes.classes!);
  const weights = new Float32Array(layout.totalValues);
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  for (let i = 0; i < weights.length; i++) weights[i] = view.getFloat32(i * 4, true);
  return {
    spec: doc.spec as ModelSpec,
    weights,
    ...(doc.classNames !== undefined && { classNames: doc.classNames }),
    ...(doc.name !== undefined && { name: doc.name }),
  };
}

/** An engine Model with the imported weights, ready for predict/evaluate/training. */
export function modelFromJson(json: string, bin: Uint8Array, options: { kernels?: Kernels } = {}): Model {
  const { spec, weights } = importModelJson(json, bin);
  const model = buildModel(spec, options.kernels ? { kernels: options.kernels } : {});
  model.values.set(weights);
  return model;
}
