/**
 * Test-time generators for dataset sources: images with sharp, IDX/CSV bytes, zip and tar.gz
 * archives, all written into fresh temp folders (nothing binary is committed).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32, deflateRawSync, deflateSync, gunzipSync, gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { Rng } from '../../../src-engine/rng.js';
import { bundledSamplePath } from '../index.js';

const made: string[] = [];

export function tempDir(prefix = 'cnn-datasets-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every temp folder made so far (call in afterAll). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Seeded random pixels, H×W×C. */
export function randomPixels(rng: Rng, h: number, w: number, c: number): Buffer {
  const data = Buffer.alloc(h * w * c);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  return data;
}

export async function encodeImage(pixels: Buffer, h: number, w: number, c: 1 | 3 | 4, format: 'png' | 'jpeg'): Promise<Buffer> {
  const image = sharp(pixels, { raw: { width: w, height: h, channels: c } });
  if (c === 1) image.toColourspace('b-w');
  return format === 'png' ? image.png().toBuffer() : image.jpeg({ quality: 95 }).toBuffer();
}

export async function writeImage(path: string, pixels: Buffer, h: number, w: number, c: 1 | 3 | 4, format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  mkdirSync(dirname(path), { recursive: true });
  const bytes = await encodeImage(pixels, h, w, c, format);
  writeFileSync(path, bytes);
  return bytes;
}

export function idxBytes(dims: number[], data: Uint8Array, magicType = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = magicType;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

/** The bundled sample's first `count` training images and labels, gunzipped. */
export function sampleSubset(count: number): { images: Uint8Array; labels: Uint8Array } {
  const dir = bundledSamplePath();
  const images = gunzipSync(readFileSync(join(dir, 'train-images-idx3-ubyte.gz')));
  const labels = gunzipSync(readFileSync(join(dir, 'train-labels-idx1-ubyte.gz')));
  return { images: images.subarray(16, 16 + count * 784), labels: labels.subarray(8, 8 + count) };
}

export function writeIdxPair(dir: string, prefix: string, images: Uint8Array, labels: Uint8Array, gz = false): { images: string; labels: string } {
  mkdirSync(dir, { recursive: true });
  const n = labels.length;
  const suffix = gz ? '.gz' : '';
  const imagesPath = join(dir, `${prefix}-images-idx3-ubyte${suffix}`);
  const labelsPath = join(dir, `${prefix}-labels-idx1-ubyte${suffix}`);
  const imageBytes = idxBytes([n, 28, 28], images);
  const labelBytes = idxBytes([n], labels);
  writeFileSync(imagesPath, gz ? gzipSync(imageBytes) : imageBytes);
  writeFileSync(labelsPath, gz ? gzipSync(labelBytes) : labelBytes);
  return { images: imagesPath, labels: labelsPath };
}

export interface ArchiveEntry {
  name: string;
  data: Uint8Array;
}

/** A minimal zip writer: deflate entries with a central directory (what `zip -r` produces, minus extras). */
export function zipBytes(entries: ArchiveEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const compressed = deflateRawSync(entry.data);
    const crc = crc32(entry.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** A minimal ustar writer, gzipped. */
export function tarGzBytes(entries: ArchiveEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const header = Buffer.alloc(512);
    header.write(entry.name, 0, 100, 'utf8');
    header.write('0000644\0', 100, 'latin1');
    header.write('0000000\0', 108, 'latin1');
    header.write('0000000\0', 116, 'latin1');
    header.write(entry.data.length.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
    header.write('00000000000\0', 136, 'latin1');
    header.write('        ', 148, 'latin1');
    header[156] = 0x30;
    header.write('ustar\0' + '00', 257, 'latin1');
    let sum = 0;
    for (const b of header) sum += b;
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    blocks.push(header, Buffer.from(entry.data), Buffer.alloc((512 - (entry.data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A valid 8-bit grayscale PNG of width×height black pixels, made by hand (no encoder holds it in
 * memory): 16000×16000 is 256 MB of pixels in ~250 KB of file.
 */
export function blackPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  const rows = deflateSync(Buffer.alloc((width + 1) * height), { level: 9 }); // filter byte 0 + zeros per row
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', rows), pngChunk('IEND', Buffer.alloc(0))]);
}

/** `mib` MiB of zeros as a gzip stream, cheaply: one gzipped MiB repeated (gzip members concatenate). */
export function gzippedZeros(mib: number, prefix?: Buffer): Buffer {
  const member = gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
  return Buffer.concat([...(prefix ? [gzipSync(prefix)] : []), ...Array.from({ length: mib }, () => member)]);
}

/** One ustar header block for an entry of `size` bytes (the size field written as given, octal text). */
export function tarHeader(name: string, sizeField: string | Buffer, type = '0'): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  if (typeof sizeField === 'string') header.write(sizeField, 124, 12, 'latin1');
  else sizeField.copy(header, 124);
  header.write('00000000000\0', 136, 'latin1');
  header.write('        ', 148, 'latin1');
  header.write(type, 156, 'latin1');
  header.write('ustar\0' + '00', 257, 'latin1');
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return header;
}

/** A zip (deflate) whose central directory and local header declare `declaredSize` for an entry that inflates to `data`. */
export function zipWithDeclaredSize(name: string, data: Buffer, declaredSize: number): Buffer {
  const zip = zipBytes([{ name, data }]);
  const nameLength = Buffer.byteLength(name);
  const compressedLength = zip.readUInt32LE(18);
  zip.writeUInt32LE(declaredSize, 22); // local header
  const central = 30 + nameLength + compressedLength;
  zip.writeUInt32LE(declaredSize, central + 24);
  return zip;
}

/** The repository root (where node_modules/tsx lives), for child processes. */
export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript file of this folder in a child `node --import tsx` process and collects its output. */
/**
 * Runs a test script of this folder in a child process. `withoutRootBypass`: when we are root, the
 * child loses the capabilities that let root read any file whatever its mode bits (setpriv drops
 * them from the bounding set before exec), so a test can see EACCES — it stays root, so it can still
 * read the checkout wherever that lives (a `nobody` child cannot, under a private temp folder).
 */
export function runChild(script: string, args: string[], options: { withoutRootBypass?: boolean } = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, '--import', 'tsx', join(import.meta.dirname, script), ...args];
    const dropBypass = options.withoutRootBypass === true && process.getuid?.() === 0;
    const [file, ...argv] = dropBypass ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--', ...command] : command;
    const child = spawn(file!, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
