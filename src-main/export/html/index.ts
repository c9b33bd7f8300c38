/**
 * "Share it": a run's snapshot as one self-contained HTML file that classifies images in any
 * browser, offline — the weights, the engine's reference forward path and the dataset's training
 * preprocessing inlined (./page). The page's script comes from ./page-script.ts (bundled from the
 * sources in a checkout, at build time in the built app); this module only assembles the file.
 */
import type { ModelSpec } from '../../../src-engine/spec.js';
import { checkedLayout, ExportError } from '../layout.js';
import { floatsToBase64, SHARE_FORMAT, SHARE_VERSION, type ShareData } from './page/data.js';
import { pageHtml } from './page/markup.js';

/**
 * The largest page written: 32 MiB. The weights travel as base64 (5⅓ bytes per float32 value), so
 * this is about 6 million values — far beyond what the studio's templates train (the largest has
 * ~0.4 M) — and a page this size still opens in a few seconds in a browser, which must parse and
 * decode all of it before it can classify anything. Bigger models belong in ONNX or model JSON.
 */
export const HTML_EXPORT_MAX_BYTES = 32 * 1024 * 1024;

/** Bytes of the base64 text of `count` float32 values. */
const base64Length = (count: number) => Math.ceil((count * 4) / 3) * 4;

export class HtmlExportTooLarge extends ExportError {
  constructor(readonly bytes: number, readonly values: number) {
    super(`the page would be ${(bytes / 1048576).toFixed(1)} MiB (${values} weights as base64), more than the ${HTML_EXPORT_MAX_BYTES / 1048576} MiB a self-contained page may be: a browser must parse all of it before it classifies anything. Export ONNX or model JSON instead`);
    this.name = 'HtmlExportTooLarge';
  }
}

export interface HtmlExportInput {
  spec: ModelSpec;
  /** The snapshot's values: parameters, then statistics. */
  weights: Float32Array;
  run: ShareData['run'];
  dataset: ShareData['dataset'];
  producer: string;
  summary?: string;
  /** The page's bundled script (./page-script.ts). */
  script: string;
}

export function exportHtml(input: HtmlExportInput, toBase64: (bytes: Uint8Array) => string): Uint8Array {
  checkedLayout(input.spec, input.weights);
  // refused before the base64 is made: the bound is on what would be written
  const estimate = base64Length(input.weights.length) + input.script.length + 20_000;
  if (estimate > HTML_EXPORT_MAX_BYTES) throw new HtmlExportTooLarge(estimate, input.weights.length);
  const data: ShareData = {
    format: SHARE_FORMAT, version: SHARE_VERSION, run: input.run, dataset: input.dataset, spec: input.spec,
    values: { count: input.weights.length, base64: floatsToBase64(input.weights, toBase64) }, producer: input.producer,
  };
  const bytes = new TextEncoder().encode(pageHtml({ data, script: input.script, summary: input.summary ?? '' }));
  if (bytes.length > HTML_EXPORT_MAX_BYTES) throw new HtmlExportTooLarge(bytes.length, input.weights.length);
  return bytes;
}
