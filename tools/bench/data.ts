/** Fashion-MNIST for the benchmark: Debian's full set when installed, else the bundled sample. Uint8 NHWC. */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export const DEBIAN_DIR = '/usr/share/datasets/fashion-mnist/';
export const SAMPLE_DIR = new URL('../../resources/datasets/fashion-mnist-sample/', import.meta.url).pathname;

export interface ImageSet {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

export function datasetDir(): { dir: string; source: 'debian' | 'sample' } {
  return existsSync(`${DEBIAN_DIR}train-images-idx3-ubyte.gz`) ? { dir: DEBIAN_DIR, source: 'debian' } : { dir: SAMPLE_DIR, source: 'sample' };
}

function readIdx(path: string, magic: number): Buffer {
  const bytes = gunzipSync(readFileSync(path));
  if (bytes.readUInt32BE(0) !== magic) throw new Error(`${path}: IDX magic ${bytes.readUInt32BE(0).toString(16)}, expected ${magic.toString(16)}`);
  return bytes;
}

export function loadSplit(dir: string, split: 'train' | 't10k', limit = Infinity): ImageSet {
  const img = readIdx(`${dir}${split}-images-idx3-ubyte.gz`, 0x803);
  const lab = readIdx(`${dir}${split}-labels-idx1-ubyte.gz`, 0x801);
  const n = Math.min(img.readUInt32BE(4), limit);
  const size = img.readUInt32BE(8) * img.readUInt32BE(12);
  if (size !== 784) throw new Error(`${dir}${split}: images are ${size} pixels, expected 28×28 = 784`);
  // copies, so the decompressed buffers can be freed
  return { images: new Uint8Array(img.subarray(16, 16 + n * size)), labels: new Uint8Array(lab.subarray(8, 8 + n)), n };
}

/** images [start, start+m) scaled to [0,1] into x (m·784) — what every contender does per batch. */
export function scaleBatch(set: ImageSet, start: number, m: number, x: Float32Array): Float32Array {
  const from = start * 784;
  const len = m * 784;
  for (let i = 0; i < len; i++) x[i] = set.images[from + i]! / 255;
  return len === x.length ? x : x.subarray(0, len);
}
