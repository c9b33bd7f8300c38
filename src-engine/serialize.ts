/**
 * Byte formats: a model file (spec + weights) and the trainer state (everything needed to resume,
 * whose header and reader are in trainer-state.ts). Both use one container:
 *   magic (4 ASCII bytes) · format version u32 · header length u32 · header JSON (UTF-8)
 *   · blobs, back to back, as listed in header.blobs · CRC-32 u32 of everything before it
 * All integers little-endian. The spec hash in the header is checked against the spec on load.
 */
import { buildModel, Model, type BuildOptions } from './model.js';
import { specHash, type ModelSpec } from './spec.js';

export class ModelFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFormatError';
  }
}

export const MODEL_MAGIC = 'CNNM';
export const STATE_MAGIC = 'CNNT';
export const FORMAT_VERSION = 1;

type BlobArray = Float32Array | Uint32Array;
type BlobType = 'f32' | 'u32';
interface BlobInfo { name: string; type: BlobType; length: number }

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = 0; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function blobType(a: BlobArray): BlobType {
  return a instanceof Float32Array ? 'f32' : 'u32';
}

export function encodeContainer(magic: string, header: Record<string, unknown>, blobs: Record<string, BlobArray>): Uint8Array {
  const infos: BlobInfo[] = Object.entries(blobs).map(([name, a]) => ({ name, type: blobType(a), length: a.length }));
  const headerBytes = new TextEncoder().encode(JSON.stringify({ ...header, blobs: infos }));
  let size = 12 + headerBytes.length;
  for (const a of Object.values(blobs)) size += a.byteLength;
  const out = new Uint8Array(size + 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = magic.charCodeAt(i);
  view.setUint32(4, FORMAT_VERSION, true);
  view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 12);
  let offset = 12 + headerBytes.length;
  for (const a of Object.values(blobs)) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
    offset += a.byteLength;
  }
  view.setUint32(size, crc32(out, size), true);
  return out;
}

export function decodeContainer(bytes: Uint8Array, magic: string, what: string): { header: Record<string, unknown>; blobs: Record<string, BlobArray> } {
  if (!(bytes instanceof Uint8Array) || bytes.length < 16) throw new ModelFormatError(`not a CNN Studio ${what}: only ${bytes?.length ?? 0} bytes`);
  const got = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!);
  if (got !== magic) throw new ModelFormatError(`not a CNN Studio ${what}: magic number is ${JSON.stringify(got)}, expected ${JSON.stringify(magic)}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== FORMAT_VERSION) throw new ModelFormatError(`${what} format version ${version} is not supported (this engine reads version ${FORMAT_VERSION})`);
  const end = bytes.length - 4;
  const stored = view.getUint32(end, true);
  const actual = crc32(bytes, end);
  if (stored !== actual) throw new ModelFormatError(`${what} is corrupt: checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)})`);
  const headerLen = view.getUint32(8, true);
  if (12 + headerLen > end) throw new ModelFormatError(`${what} is corrupt: header length ${headerLen} exceeds the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLen)));
  } catch {
    throw new ModelFormatError(`${what} is corrupt: header is not valid JSON`);
  }
  const blobs: Record<string, BlobArray> = {};
  let offset = 12 + headerLen;
  if (!header || typeof header !== 'object' || !Array.isArray(header.blobs)) throw new ModelFormatError(`${what} is corrupt: the header has no blob table`);
  for (const info of header.blobs as BlobInfo[]) {
    if (info?.type !== 'f32' && info?.type !== 'u32') throw new ModelFormatError(`${what} is corrupt: blob ${JSON.stringify(info?.name)} has unknown type ${JSON.stringify(info?.type)}`);
    if (!Number.isSafeInteger(info.length) || info.length < 0) throw new ModelFormatError(`${what} is corrupt: blob ${JSON.stringify(info.name)} has length ${JSON.stringify(info.length)}`);
    const byteLength = info.length * 4;
    if (offset + byteLength > end) throw new ModelFormatError(`${what} is corrupt: blob ${info.name} runs past the end`);
    const copy = bytes.slice(offset, offset + byteLength); // copy: aligned, and independent of the input buffer
    blobs[info.name] = info.type === 'f32' ? new Float32Array(copy.buffer) : new Uint32Array(copy.buffer);
    offset += byteLength;
  }
  if (offset !== end) throw new ModelFormatError(`${what} is corrupt: ${end - offset} unexpected bytes after the blobs`);
  return { header, blobs };
}

/** Spec + weights (every value: the parameters, then the statistics) as bytes. */
export function saveModel(model: Model<Float32Array>): Uint8Array {
  return encodeContainer(MODEL_MAGIC, { spec: model.spec, specHash: specHash(model.spec) }, { weights: model.values });
}

/** The spec, the weights and whatever else the header holds (`meta`: a producer's provenance,
 *  such as an exported PyTorch project's `trainedBy`). */
export function readModelFile(bytes: Uint8Array): { spec: ModelSpec; weights: Float32Array; meta: Record<string, unknown> } {
  const { header, blobs } = decodeContainer(bytes, MODEL_MAGIC, 'model file');
  const { spec: rawSpec, specHash: hash, blobs: _table, ...meta } = header;
  const spec = rawSpec as ModelSpec;
  if (!spec || typeof spec !== 'object' || specHash(spec) !== hash) throw new ModelFormatError('model file is corrupt: the spec does not match its hash');
  const weights = blobs.weights;
  if (!(weights instanceof Float32Array)) throw new ModelFormatError('model file is corrupt: no float32 weights');
  return { spec, weights, meta };
}

export function loadModel(bytes: Uint8Array, options: Omit<BuildOptions, 'dtype' | 'seed'> = {}): Model<Float32Array> {
  const { spec, weights } = readModelFile(bytes);
  const model = buildModel(spec, options);
  if (weights.length !== model.values.length) {
    throw new ModelFormatError(`model file is corrupt: ${weights.length} weights, the spec needs ${model.values.length}`);
  }
  model.values.set(weights);
  return model;
}
