/**
 * What an exported page carries: the run's ModelSpec, its snapshot's values (parameters, then
 * statistics) as base64 of little-endian float32, and the words the page shows. Written by
 * ../index.ts into a `<script type="application/json">`, read by ./main.ts: one shape, both sides.
 */
import type { ModelSpec } from '../../../../src-engine/spec.js';

export const SHARE_DATA_ID = 'cnn-studio-model';
export const SHARE_FORMAT = 'cnn-studio-share-page';
export const SHARE_VERSION = 1;

export interface ShareData {
  format: typeof SHARE_FORMAT;
  version: typeof SHARE_VERSION;
  run: { id: number; name: string; snapshotId: number; epoch: number };
  dataset: { name: string; classNames: string[] };
  spec: ModelSpec;
  /** Count of float32 values, and their little-endian bytes in base64. */
  values: { count: number; base64: string };
  /** The studio's version that wrote the page. */
  producer: string;
}

/** Float32 values ↔ base64 of their little-endian bytes (DataView: the same on any machine's byte order). */
export function floatsToBase64(values: Float32Array, toBase64: (bytes: Uint8Array) => string): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i]!, true);
  return toBase64(bytes);
}

export function floatsFromBase64(base64: string, count: number): Float32Array {
  const text = atob(base64);
  if (text.length !== count * 4) throw new Error(`the page's weights are ${text.length} bytes, not the ${count * 4} of ${count} float32 values: the file is damaged`);
  const view = new DataView(new ArrayBuffer(text.length));
  for (let i = 0; i < text.length; i++) view.setUint8(i, text.charCodeAt(i));
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}
