/**
 * CSV in the MNIST-CSV layout: one image per row, the integer label first, then the pixels
 * (0..255, or 0..1 floats which are scaled by 255), H, W, C order with the channel fastest. A first
 * row whose first cell is not a number is a header. The parser walks bytes (no split/regex per
 * cell) because MNIST-sized files have ~50 million cells.
 */
import { basename, dirname } from 'node:path';
import type { TensorSplit } from './cache.js';
import { type DecodedDataset, type ProgressSink, defaultClassNames } from './decoded.js';
import { readClassNames } from './idx.js';
import { formatBytes, formatCount, limitError, type ImportLimits } from './limits.js';
import { readRegularFileSync } from './regular-file.js';
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

/**
 * Parses one CSV file. Memory is bounded before it is allocated: the first data row fixes the pixels
 * per row P; a row takes at least 2P+2 bytes (a digit and a separator per cell, the line end), so the
 * file can hold no more rows than that, and the tensor never grows past `budgetBytes`. Cells are
 * parsed as they are found, so a line of millions of cells costs no array of their offsets.
 */
function parse(bytes: Buffer, path: string, scale: number, progress: ProgressSink, limits: ImportLimits, budgetBytes: number): ParsedCsv {
  const name = basename(path);
  // Separator: comma unless the first line has semicolons and no commas.
  const firstLineEnd = bytes.indexOf(LF) === -1 ? bytes.length : bytes.indexOf(LF);
  const firstLine = bytes.subarray(0, firstLineEnd);
  const separator = firstLine.includes(COMMA) || !firstLine.includes(SEMICOLON) ? COMMA : SEMICOLON;

  let lineCount = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === LF) lineCount++;
  lineCount++;

  let pixelsPerRow = -1;
  let capacity = 0;
  let labels = new Uint8Array(0);
  let pixels = new Uint8Array(0);
  let n = 0;
  let sawFraction = false;
  let maxValue = 0;
  let lineNumber = 0;
  let position = 0;
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
    let cells = 1;
    for (let i = position; i < end; i++) if (bytes[i] === separator) cells++;
    const cellEnd = (from: number): number => {
      let i = from;
      while (i < end && bytes[i] !== separator) i++;
      return i;
    };

    const labelEnd = cellEnd(position);
    const label = parseCell(bytes, position, labelEnd);
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
      if (pixelsPerRow > 3 * limits.maxImagePixels) {
        throw limitError('maxImagePixels', `${name} line ${lineNumber}: ${formatCount(pixelsPerRow)} pixel columns, more than an image of the limit of ${formatCount(limits.maxImagePixels)} pixels holds (×3 for RGB)`, pixelsPerRow, 3 * limits.maxImagePixels, path);
      }
      const rowsThatFit = Math.max(1, Math.floor((bytes.length - position + 1) / (2 * pixelsPerRow + 2)));
      capacity = Math.min(lineCount - lineNumber + 1, rowsThatFit, Math.floor(budgetBytes / pixelsPerRow));
      labels = new Uint8Array(capacity);
      pixels = new Uint8Array(capacity * pixelsPerRow);
    }
    if (cells !== pixelsPerRow + 1) {
      throw new DatasetImportError('bad_csv', `${name} line ${lineNumber}: ${cells} columns, expected ${pixelsPerRow + 1} like the first data row (ragged rows)`, path);
    }
    if (Number.isNaN(label)) {
      throw new DatasetImportError('bad_csv', `${name} line ${lineNumber}, column 1: label '${cellText(bytes, position, labelEnd)}' is not a number`, path);
    }
    if (!Number.isInteger(label) || label < 0) {
      throw new DatasetImportError('bad_csv', `${name} line ${lineNumber}: label '${cellText(bytes, position, labelEnd)}' is not a non-negative integer`, path);
    }
    if (label > 255) throw new DatasetImportError('unsupported', `${name} line ${lineNumber}: label ${label}; at most 256 classes (labels 0..255) are supported`, path);
    if (n === capacity) {
      // only the dataset budget can stop the rows before the file does
      const limit = limits.maxDatasetBytes;
      throw limitError('maxDatasetBytes', `${name} line ${lineNumber}: more than ${formatCount(n)} rows of ${formatCount(pixelsPerRow)} pixels, more than the limit of ${formatBytes(limit)} per dataset`, (n + 1) * pixelsPerRow, limit, path);
    }
    labels[n] = label;
    const base = n * pixelsPerRow;
    let cursor = labelEnd + 1;
    for (let k = 1; k < cells; k++) {
      const cellStop = cellEnd(cursor);
      const value = parseCell(bytes, cursor, cellStop);
      if (Number.isNaN(value)) {
        throw new DatasetImportError('bad_csv', `${name} line ${lineNumber}, column ${k + 1}: '${cellText(bytes, cursor, cellStop)}' is not a number`, path);
      }
      if (value < 0 || value > 255) {
        throw new DatasetImportError('bad_csv', `${name} line ${lineNumber}, column ${k + 1}: pixel value ${value} outside 0..255`, path);
      }
      if (value > maxValue) maxValue = value;
      if (!Number.isInteger(value)) sawFraction = true;
      pixels[base + k - 1] = Math.min(255, Math.round(value * scale));
      cursor = cellStop + 1;
    }
    n++;
    if ((n & 4095) === 0) progress('decoding', lineNumber, lineCount, name);
    position = next;
  }
  if (n === 0) throw new DatasetImportError('empty', `${name}: no data rows`, path);
  return { pixelsPerRow, n, labels: labels.subarray(0, n), pixels: pixels.subarray(0, n * pixelsPerRow), sawFraction, maxValue };
}

function parseFile(path: string, progress: ProgressSink, limits: ImportLimits, budgetBytes: number): ParsedCsv {
  const bytes = readRegularFileSync(path, limits);
  const parsed = parse(bytes, path, 1, progress, limits, budgetBytes);
  // Floats in 0..1 are intensities: parse again scaled, rather than holding 50M floats in memory.
  if (parsed.sawFraction && parsed.maxValue <= 1) return parse(bytes, path, 255, progress, limits, budgetBytes);
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

export function decodeCsv(paths: string[], limits: ImportLimits, progress: ProgressSink, shapeOption?: [number, number, number]): DecodedDataset {
  const trainParts: { parsed: ParsedCsv; path: string }[] = [];
  const testParts: { parsed: ParsedCsv; path: string }[] = [];
  let used = 0;
  for (const path of paths) {
    const parsed = parseFile(path, progress, limits, limits.maxDatasetBytes - used);
    used += parsed.pixels.length;
    (isTestCsv(path) && paths.length > 1 ? testParts : trainParts).push({ parsed, path });
  }
  if (trainParts.length === 0) trainParts.push(...testParts.splice(0));
  const first = trainParts[0]!;
  const shape = inferShape(first.parsed.pixelsPerRow, first.path, shapeOption);
  if (shape[0] * shape[1] > limits.maxImagePixels) {
    throw limitError('maxImagePixels', `${basename(first.path)}: images of ${shape[0]}×${shape[1]} pixels (${formatCount(shape[0] * shape[1])}), more than the limit of ${formatCount(limits.maxImagePixels)} pixels per image`, shape[0] * shape[1], limits.maxImagePixels, first.path);
  }
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
