/** Test helper: the bundled Fashion-MNIST sample (resources/datasets/fashion-mnist-sample), uint8 NHWC. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Dataset } from '../data.js';
import { referenceNet } from '../reference-net.js';

const DIR = new URL('../../resources/datasets/fashion-mnist-sample/', import.meta.url);

function readIdx(name: string): Buffer {
  return gunzipSync(readFileSync(new URL(name, DIR)));
}

export function loadSample(split: 'train' | 't10k', limit = Infinity): Dataset & { images: Uint8Array; labels: Uint8Array } {
  const img = readIdx(`${split}-images-idx3-ubyte.gz`);
  const lab = readIdx(`${split}-labels-idx1-ubyte.gz`);
  const n = Math.min(img.readUInt32BE(4), limit);
  const size = img.readUInt32BE(8) * img.readUInt32BE(12);
  return { images: new Uint8Array(img.subarray(16, 16 + n * size)), labels: new Uint8Array(lab.subarray(8, 8 + n)), n };
}

export const REFERENCE_SPEC = referenceNet();
