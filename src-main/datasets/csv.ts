/**
 * CSV in the MNIST-CSV layout: one image per row, the integer label first, then the pixels
 * (0..255, or 0..1 floats which are scaled by 255), H, W, C order with the channel fastest. A first
 * row whose first cell is not a number is a header. The parser walks bytes (no split/regex per
 * cell) because MNIST-sized files have ~50 million cells.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { TensorSplit } from './cache.js';
import { type DecodedDataset, type ProgressSink, defaultClassNames } from './decoded.js';
import { readClassNames } from './idx.js';
import { DatasetImportError } from './types.js';

const COMMA = 0x2c, LF = 0x0a, CR = 0x0d, QUOTE = 0x22, SPACE = 0x20, TAB = 0x09, SEMICOLON = 0x3b;

interface ParsedCsv {
  pixelsPerRow: number;
  n: number;
  labels: Uint8Array;
  pixels: Uint8Array;
  sawFraction: boolean;
  maxValue: number;
}

function cellText(bytes: Buffer, start: number, end: number): string {
  return bytes.toString('utf8', start, end).trim().replace(/^"(.*)"$/, '$1');
}

/** Parses a cell as a number; NaN when it is not one. Fast path for plain unsigned integers. */
function parseCell(bytes: Buffer, start: number, end: number): number {
  while (start < end && (bytes[start] === SPACE || bytes[start] === TAB)) start++;
  while (end > start && (bytes[end - 1] === SPACE || bytes[end - 1] === TAB)) end--;
  if (end - start >= 2 && bytes[start] === QUOTE && bytes[end - 1] === QUOTE) {
    start++;
    end--;
  }
  if (start === end) return NaN;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = bytes[i]! - 48;
    if (digit < 0 || digit > 9) {
      const text = bytes.toString('latin1', start, end);
      return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : NaN;
    }
    value = value * 10 + digit;
  }
  return value;
}

function parse(bytes: Buffer, path: string, scale: number, progress: ProgressSink): ParsedCsv {
  const name = basename(path);
  // Separator: comma unless the first line has semicolons and no commas.
  const firstLineEnd = bytes.indexOf(LF) === -1 ? bytes.length : bytes.indexOf(LF);
  const firstLine = bytes.subarray(0, firstLineEnd);
  const separator = firstLine.includes(COMMA) || !firstLine.includes(SEMICOLON) ? COMMA : SEMICOLON;

  let lineCount = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === LF) lineCount++;
  lineCount++;

  let pixelsPerRow = -1;
  let labels = new Uint8Array(0);
  let pixels = new Uint8Array(0);
  let n = 0;
  let sawFraction = false;
  let maxValue = 0;
  let lineNumber = 0;
  let position = 0;
  const cellStarts: number[] = [];
  while (position < bytes.length) {
    lineNumber++;
    let lineEnd = bytes.indexOf(LF, position);
    if (lineEnd === -1) lineEnd = bytes.length;
    const next = lineEnd + 1;
    let end = lineEnd;
    if (end > position && bytes[end - 1] === CR) end--;
    let blank = true;
    for (let i = position; i < end; i++) if (bytes[i] !== SPACE && bytes[i] !== TAB) { blank = false; break; }
    if (blank) {
      position = next;
      continue;
    }
    // Cell boundaries of this line.
    cellStarts.length = 0;
    cellStarts.push(position);
    for (let i = position; i < end; i++) if (bytes[i] === separator) cellStarts.push(i + 1);
    const cells = cellStarts.length;
    const cellEnd = (k: number): number => (k + 1 < cells ? cellStarts[k + 1]! - 1 : end);

    const label = parseCell(bytes, cellStarts[0]!, cellEnd(0));
    if (pixelsPerRow === -1) {
      if (Number.isNaN(label)) {
        // header row
        position = next;
        pixelsPerRow = -2;
        continue;
      }
    }
    if (pixelsPerRow < 0) {
      pixelsPerRow = cells - 1;
      if (pixelsPerRow < 1) throw new DatasetImportError('bad_csv', `${name} line ${lineNumber}: only one column; expected the label then the pixel columns`, path);
      labels = new Uint8Array(lineCount);
      pixels = new Uint8Array(lineCount * pixelsPerRow);
    }
    if (cells !== pixelsPerRow + 1) {
      throw new DatasetImportError('bad_csv', `${name} line ${lineNumber}: ${cells} columns, expected ${pixelsPerRow + 1} like the first data row (ragged rows)`, path);
    }
    if (Number.isNaN(label)) {
      throw new DatasetImportError('bad_csv', `${name} line ${lineNumber}, column 1: label '${cellText(bytes, cellStarts[0]!, cellEnd(0))}' is not a number`, path);
    }
    if (!Number.isInteger(label) || label < 0) {
      throw new DatasetImportError('bad_csv', `${name} line ${lineNumber}: label '${cellText(bytes, cellStarts[0]!, cellEnd(0))}' is not a non-negative integer`, path);
    }
    if (label > 255) throw new DatasetImportError('unsupported', `${name} line ${lineNumber}: label ${label}; at most 256 classes (labels 0..255) are supported`, path);
    labels[n] = label;
    const base = n * pixelsPerRow;
    for (let k = 1; k < cells; k++) {
      const value = parseCell(bytes, cellStarts[k]!, cellEnd(k));
      if (Number.isNaN(value)) {
        throw new DatasetImportError('bad_csv', `${name} line ${lineNumber}, column ${k + 1}: '${cellText(bytes, cellStarts[k]!, cellEnd(k))}' is not a number`, path);
      }
      if (value < 0 || value > 255) {
        throw new DatasetImportError('bad_csv', `${name} line ${lineNumber}, column ${k + 1}: pixel value ${value} outside 0..255`, path);
      }
      if (value > maxValue) maxValue = value;
      if (!Number.isInteger(value)) sawFraction = true;
      pixels[base + k - 1] = Math.min(255, Math.round(value * scale));
    }
    n++;
    if ((n & 4095) === 0) progress('decoding', lineNumber, lineCount, name);
    position = next;
  }
  if (n === 0) throw new DatasetImportError('empty', `${name}: no data rows`, path);
  return { pixelsPerRow, n, labels: labels.subarray(0, n), pixels: pixels.subarray(0, n * pixelsPerRow), sawFraction, maxValue };
}

function parseFile(path: string, progress: ProgressSink): ParsedCsv {
  const bytes = readFileSync(path);
  const parsed = parse(bytes, path, 1, progress);
  // Floats in 0..1 are intensities: parse again scaled, rather than holding 50M floats in memory.
  if (parsed.sawFraction && parsed.maxValue <= 1) return parse(bytes, path, 255, progress);
  return parsed;
}

function inferShape(pixelsPerRow: number, path: string, given?: [number, number, number]): [number, number, number] {
  const name = basename(path);
  if (given) {
    if (given[0] * given[1] * given[2] !== pixelsPerRow) {
      throw new DatasetImportError('bad_csv', `${name}: ${pixelsPerRow} pixel columns do not fit the given shape ${given.join('×')} (${given[0] * given[1] * given[2]})`, path);
    }
    return given;
  }
  const side = Math.round(Math.sqrt(pixelsPerRow));
  if (side * side === pixelsPerRow) return [side, side, 1];
  const rgbSide = Math.round(Math.sqrt(pixelsPerRow / 3));
  if (3 * rgbSide * rgbSide === pixelsPerRow) return [rgbSide, rgbSide, 3];
  throw new DatasetImportError('bad_csv', `${name}: ${pixelsPerRow} pixel columns are neither a square grayscale (s²) nor a square RGB (3·s²) image; give the shape option`, path);
}

export function isTestCsv(path: string): boolean {
  return /(^|[^a-z])(t10k|test)([^a-z]|$)/i.test(basename(path));
}

export function decodeCsv(paths: string[], progress: ProgressSink, shapeOption?: [number, number, number]): DecodedDataset {
  const trainParts: { parsed: ParsedCsv; path: string }[] = [];
  const testParts: { parsed: ParsedCsv; path: string }[] = [];
  for (const path of paths) {
    const parsed = parseFile(path, progress);
    (isTestCsv(path) && paths.length > 1 ? testParts : trainParts).push({ parsed, path });
  }
  if (trainParts.length === 0) trainParts.push(...testParts.splice(0));
  const first = trainParts[0]!;
  const shape = inferShape(first.parsed.pixelsPerRow, first.path, shapeOption);
  for (const part of [...trainParts, ...testParts]) {
    if (part.parsed.pixelsPerRow !== first.parsed.pixelsPerRow) {
      throw new DatasetImportError('bad_csv', `${basename(part.path)}: ${part.parsed.pixelsPerRow} pixel columns but ${basename(first.path)} has ${first.parsed.pixelsPerRow}`, part.path);
    }
  }
  const join = (parts: { parsed: ParsedCsv }[]): TensorSplit => {
    if (parts.length === 1) return { images: parts[0]!.parsed.pixels, labels: parts[0]!.parsed.labels, n: parts[0]!.parsed.n };
    const n = parts.reduce((s, p) => s + p.parsed.n, 0);
    const images = new Uint8Array(n * first.parsed.pixelsPerRow);
    const labels = new Uint8Array(n);
    let offset = 0;
    for (const p of parts) {
      images.set(p.parsed.pixels, offset * first.parsed.pixelsPerRow);
      labels.set(p.parsed.labels, offset);
      offset += p.parsed.n;
    }
    return { images, labels, n };
  };
  const train = join(trainParts);
  const test = testParts.length > 0 ? join(testParts) : null;
  let maxLabel = 0;
  for (const s of [train, test]) if (s) for (let i = 0; i < s.n; i++) if (s.labels[i]! > maxLabel) maxLabel = s.labels[i]!;
  const names = readClassNames(dirname(first.path));
  if (names && names.length <= maxLabel) {
    throw new DatasetImportError('bad_csv', `classes.txt: ${names.length} class names but the labels in ${basename(first.path)} go up to ${maxLabel}`, first.path);
  }
  return {
    format: 'csv',
    shape,
    classNames: names ?? defaultClassNames(maxLabel + 1),
    train,
    test,
    corrupt: [],
    mixedSizes: { majority: [shape[0], shape[1]], files: [], action: 'skipped' },
  };
}
