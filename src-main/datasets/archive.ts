/**
 * A single .zip, .tar or .tar.gz holding one of the other layouts, extracted to a private folder
 * first. Small self-contained readers (zip: stored + deflate; tar: ustar + GNU/pax long names) so no
 * package is needed. Entries that would land outside the target are refused.
 *
 * Archives are streamed, never read whole: memory stays at a few chunks whatever the archive holds.
 * Archive headers can lie, so every size is checked twice against the limits (limits.ts): as declared
 * (the zip central directory up front, each tar header as it comes) and as really inflated, byte by
 * byte, stopping the moment a limit is passed — a zip bomb costs at most its limit in disk, not memory.
 */
import { closeSync, constants as fsConstants, mkdirSync, openSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, resolve, sep } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { constants, createGunzip, createInflateRaw, gunzipSync } from 'node:zlib';
import { diskFullError } from './cache.js';
import {
  COMPRESSION_RATIO_FLOOR_BYTES, MAX_TAR_META_BYTES, MAX_ZIP_DIRECTORY_BYTES, formatBytes, formatCount, limitError, type ImportLimits,
} from './limits.js';
import { readHead } from './regular-file.js';
import { DatasetImportError } from './types.js';

export function sniffArchive(path: string): 'zip' | 'tar' | 'tar.gz' | null {
  const bytes = readHead(path, 4096);
  if (bytes.length >= 4 && bytes.readUInt32LE(0) === 0x04034b50) return 'zip';
  if (bytes.length >= 4 && bytes.readUInt32LE(0) === 0x06054b50) return 'zip'; // empty zip
  const isTar = (b: Buffer): boolean => b.length >= 262 && b.toString('latin1', 257, 262) === 'ustar';
  if (isTar(bytes)) return 'tar';
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      // 4 KiB of gzip inflate to at most ~4 MiB: the sniff is bounded by its input
      if (isTar(gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH }))) return 'tar.gz';
    } catch {
      return null;
    }
  }
  return null;
}

function safeTarget(root: string, entryName: string, archive: string): string | null {
  const name = entryName.replace(/\\/g, '/');
  if (name.endsWith('/')) return null;
  const target = resolve(root, name);
  if (!target.startsWith(resolve(root) + sep)) {
    throw new DatasetImportError('unsupported', `${basename(archive)}: entry '${entryName}' points outside the archive folder`, archive);
  }
  return target;
}

/**
 * The limits of one archive: entries, bytes per entry and in total, and the expansion ratio,
 * applied to what headers declare and to what really comes out of the decompressor.
 */
class ArchiveBudget {
  private entryCount = 0;
  private declaredTotal = 0;
  private realTotal = 0;

  constructor(private readonly archive: string, private readonly archiveBytes: number, private readonly limits: ImportLimits) {}

  private refuse(name: keyof ImportLimits, what: string, actual: number, limit: number): DatasetImportError {
    return limitError(name, `${basename(this.archive)}: ${what}`, actual, limit, this.archive);
  }

  entry(): void {
    this.entries(1);
  }

  entries(count: number): void {
    this.entryCount += count;
    if (this.entryCount > this.limits.maxArchiveEntries) {
      throw this.refuse('maxArchiveEntries', `more than ${formatCount(this.limits.maxArchiveEntries)} entries, the limit per archive`, this.entryCount, this.limits.maxArchiveEntries);
    }
  }

  /** An entry's size as its header declares it. */
  declare(name: string, size: number): void {
    if (size > this.limits.maxArchiveEntryBytes) {
      throw this.refuse('maxArchiveEntryBytes', `entry '${name}' declares ${formatBytes(size)} uncompressed, more than the limit of ${formatBytes(this.limits.maxArchiveEntryBytes)} per entry`, size, this.limits.maxArchiveEntryBytes);
    }
    this.declaredTotal += size;
    this.checkTotal(this.declaredTotal, 'declare');
  }

  /** Bytes that really came out of the decompressor (all of them, including tar headers and skipped entries). */
  inflated(bytes: number): void {
    this.realTotal += bytes;
    this.checkTotal(this.realTotal, 'inflate to');
  }

  private checkTotal(total: number, verb: string): void {
    if (total > this.limits.maxArchiveTotalBytes) {
      throw this.refuse('maxArchiveTotalBytes', `the entries ${verb} more than ${formatBytes(this.limits.maxArchiveTotalBytes)} uncompressed, the limit per archive`, total, this.limits.maxArchiveTotalBytes);
    }
    const ratio = total / Math.max(1, this.archiveBytes);
    if (total > COMPRESSION_RATIO_FLOOR_BYTES && ratio > this.limits.maxCompressionRatio) {
      throw this.refuse('maxCompressionRatio', `the entries ${verb} ${formatBytes(total)} from ${formatBytes(this.archiveBytes)}, ${Math.floor(ratio)}× compressed, more than the limit of ${this.limits.maxCompressionRatio}× (a zip bomb?)`, Math.floor(ratio), this.limits.maxCompressionRatio);
    }
  }
}

/** Writes one entry's data as it streams in; `chunk` returns the bytes so far. */
class EntryWriter {
  private readonly fd: number;
  private closed = false;
  written = 0;

  constructor(readonly target: string) {
    try {
      mkdirSync(dirname(target), { recursive: true });
      this.fd = openSync(target, 'w');
    } catch (error) {
      throw writeError(error, target);
    }
  }

  write(chunk: Uint8Array): void {
    try {
      let offset = 0;
      while (offset < chunk.length) offset += writeSync(this.fd, chunk, offset, chunk.length - offset);
    } catch (error) {
      throw writeError(error, this.target);
    }
    this.written += chunk.length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

function writeError(error: unknown, target: string): Error {
  return diskFullError(error, target) ?? new DatasetImportError('unsupported', `cannot extract '${basename(target)}': ${(error as Error).message}`, target);
}

async function readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const bytes = Buffer.alloc(length);
  let offset = 0;
  while (offset < length) {
    const { bytesRead } = await file.read(bytes, offset, length - offset, position + offset);
    if (bytesRead === 0) break;
    offset += bytesRead;
  }
  return bytes.subarray(0, offset);
}

/**
 * Bytes [start, end) of the archive as a stream, read through the one descriptor that was checked to
 * be a regular file (an fs stream would close it when destroyed, and reopening the path could meet
 * something else).
 */
function streamRange(file: FileHandle, start: number, end: number): Readable {
  const CHUNK = 256 * 1024;
  return Readable.from((async function* () {
    for (let at = start; at < end; ) {
      const chunk = await readAt(file, at, Math.min(CHUNK, end - at));
      if (chunk.length === 0) return;
      at += chunk.length;
      yield chunk;
    }
  })(), { objectMode: false });
}

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** The central directory: every entry's name and declared sizes, checked against the budget before anything is extracted. */
async function readZipDirectory(file: FileHandle, fileSize: number, path: string, budget: ArchiveBudget): Promise<ZipEntry[]> {
  const bad = (why: string): DatasetImportError => new DatasetImportError('unsupported', `${basename(path)}: ${why}`, path);
  // End of central directory: the last 22+ bytes (a trailing comment of up to 64 KiB may follow it).
  const tailStart = Math.max(0, fileSize - 65557);
  const tail = await readAt(file, tailStart, fileSize - tailStart);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('truncated or corrupt zip (no end of central directory)');
  const count = tail.readUInt16LE(eocd + 10);
  const directoryBytes = tail.readUInt32LE(eocd + 12);
  const directoryOffset = tail.readUInt32LE(eocd + 16);
  if (directoryOffset === 0xffffffff || count === 0xffff) throw bad('ZIP64 archives are not supported');
  budget.entries(count);
  if (directoryBytes > MAX_ZIP_DIRECTORY_BYTES || directoryOffset + directoryBytes > fileSize) throw bad('corrupt zip central directory');
  const directory = await readAt(file, directoryOffset, directoryBytes);
  const entries: ZipEntry[] = [];
  let offset = 0;
  for (let e = 0; e < count; e++) {
    if (offset + 46 > directory.length || directory.readUInt32LE(offset) !== 0x02014b50) throw bad('corrupt zip central directory');
    const nameLength = directory.readUInt16LE(offset + 28);
    const entry: ZipEntry = {
      flags: directory.readUInt16LE(offset + 8),
      method: directory.readUInt16LE(offset + 10),
      compressedSize: directory.readUInt32LE(offset + 20),
      size: directory.readUInt32LE(offset + 24),
      localOffset: directory.readUInt32LE(offset + 42),
      name: directory.toString('utf8', offset + 46, offset + 46 + nameLength),
    };
    offset += 46 + nameLength + directory.readUInt16LE(offset + 30) + directory.readUInt16LE(offset + 32);
    budget.declare(entry.name, entry.size);
    entries.push(entry);
  }
  return entries;
}

async function extractZip(path: string, root: string, budget: ArchiveBudget, file: FileHandle, fileSize: number): Promise<number> {
  const bad = (why: string): DatasetImportError => new DatasetImportError('unsupported', `${basename(path)}: ${why}`, path);
  const entries = await readZipDirectory(file, fileSize, path, budget);
  let written = 0;
  for (const entry of entries) {
    const { name, size, compressedSize } = entry;
    const target = safeTarget(root, name, path);
    if (!target) continue;
    if (entry.flags & 1) throw bad(`entry '${name}' is encrypted`);
    if (entry.method !== 0 && entry.method !== 8) throw bad(`entry '${name}' uses compression method ${entry.method}; only stored (0) and deflate (8) are supported`);
    const local = await readAt(file, entry.localOffset, 30);
    if (local.length < 30 || local.readUInt32LE(0) !== 0x04034b50) throw bad(`corrupt local header for '${name}'`);
    const dataStart = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    if (dataStart + compressedSize > fileSize) throw bad(`entry '${name}' is truncated`);
    if (entry.method === 0 && compressedSize !== size) throw bad(`entry '${name}': stored with ${compressedSize} bytes, the directory says ${size}`);

    const writer = new EntryWriter(target);
    try {
      if (compressedSize > 0) {
        const raw = streamRange(file, dataStart, dataStart + compressedSize);
        // pipeline: an error on either stream ends the iteration below (pipe() would leave it waiting)
        const data: Readable = entry.method === 8 ? pipeline(raw, createInflateRaw(), () => {}) : raw;
        try {
          for await (const chunk of data as AsyncIterable<Buffer>) {
            // the directory declared `size`; more is a lie we stop at once, not after writing it
            if (writer.written + chunk.length > size) {
              throw bad(`entry '${name}' inflates to more than the ${formatBytes(size)} its directory declares (a corrupt or hostile archive)`);
            }
            budget.inflated(chunk.length);
            writer.write(chunk);
          }
        } catch (error) {
          if (error instanceof DatasetImportError) throw error;
          throw bad(`entry '${name}': corrupt deflate data (${(error as Error).message})`);
        } finally {
          raw.destroy();
          data.destroy();
        }
      }
      if (writer.written !== size) throw bad(`entry '${name}': ${writer.written} bytes after decompression, the directory says ${size}`);
    } finally {
      writer.close();
    }
    written++;
  }
  return written;
}

/** A tar size field: octal text, or GNU base-256 (high bit of the first byte set) for sizes of 8 GiB and more. */
function tarSize(field: Buffer): number {
  if (field[0]! & 0x80) {
    let size = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) size = size * 256 + field[i]!;
    return size;
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  return text === '' ? 0 : /^[0-7]+$/.test(text) ? parseInt(text, 8) : NaN;
}

/** The entry of a tar stream whose data is streaming: written to a file, collected (long names) or skipped. */
interface TarEntry {
  name: string;
  type: string;
  remaining: number;
  padding: number;
  writer: EntryWriter | null;
  meta: Buffer[] | null;
}

/** Reads a tar stream header by header; file entries are written as they stream, never held whole. */
class TarExtractor {
  written = 0;
  private header = Buffer.alloc(0);
  private headers = 0;
  private longName: string | null = null;
  private entry: TarEntry | null = null;
  private ended = false;

  constructor(private readonly path: string, private readonly root: string, private readonly budget: ArchiveBudget) {}

  private bad(why: string): DatasetImportError {
    return new DatasetImportError('unsupported', `${basename(this.path)}: ${why}`, this.path);
  }

  /** Consumes one chunk; false once the end-of-archive block has been seen (the rest is not read). */
  push(chunk: Buffer): boolean {
    let offset = 0;
    while (offset < chunk.length && !this.ended) {
      const entry = this.entry;
      if (entry && entry.remaining > 0) {
        const take = Math.min(entry.remaining, chunk.length - offset);
        const piece = chunk.subarray(offset, offset + take);
        if (entry.writer) entry.writer.write(piece);
        else if (entry.meta) entry.meta.push(Buffer.from(piece));
        entry.remaining -= take;
        offset += take;
      } else if (entry && entry.padding > 0) {
        const take = Math.min(entry.padding, chunk.length - offset);
        entry.padding -= take;
        offset += take;
      } else {
        if (entry) this.finishEntry(entry);
        const take = Math.min(512 - this.header.length, chunk.length - offset);
        this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + take)]);
        offset += take;
        if (this.header.length === 512) {
          this.startEntry(this.header);
          this.header = Buffer.alloc(0);
        }
      }
    }
    return !this.ended;
  }

  /** The stream ended (or the end block came): an entry cut short is a truncated archive. */
  finish(): void {
    const entry = this.entry;
    if (entry && entry.remaining > 0) throw this.bad(`entry '${entry.name}' is truncated`);
    if (entry) this.finishEntry(entry);
  }

  /** Closes a file left open by an error. */
  abandon(): void {
    this.entry?.writer?.close();
  }

  private finishEntry(entry: TarEntry): void {
    this.entry = null;
    if (entry.writer) {
      entry.writer.close();
      this.written++;
    }
    if (entry.meta) {
      const data = Buffer.concat(entry.meta).toString('utf8');
      if (entry.type === 'L') this.longName = data.replace(/\0.*$/s, '');
      else {
        const match = /\d+ path=([^\n]*)\n/.exec(data);
        if (match) this.longName = match[1]!;
      }
    }
  }

  private startEntry(block: Buffer): void {
    if (block.every((b) => b === 0)) {
      this.ended = true;
      return;
    }
    this.budget.entry();
    this.headers++;
    const size = tarSize(block.subarray(124, 136));
    if (!Number.isFinite(size)) throw this.bad(`corrupt tar header (entry ${this.headers}: its size field is not a number)`);
    const type = String.fromCharCode(block[156]!);
    const field = (at: number, length: number): string => {
      const raw = block.subarray(at, at + length);
      const end = raw.indexOf(0);
      return raw.toString('utf8', 0, end === -1 ? length : end);
    };
    const prefix = field(345, 155);
    const name = (this.longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100))).replace(/^\.\//, '');
    this.longName = null;
    const entry: TarEntry = { name, type, remaining: size, padding: (512 - (size % 512)) % 512, writer: null, meta: null };
    if (type === 'L' || type === 'x') {
      if (size > MAX_TAR_META_BYTES) throw this.bad(`a long-name header of ${formatBytes(size)} (names are never that long)`);
      entry.meta = [];
    } else if (type === '0' || type === '\0' || type === '7') {
      this.budget.declare(name, size);
      const target = safeTarget(this.root, name, this.path);
      if (target) entry.writer = new EntryWriter(target);
    }
    // directories, links, global headers: their data (if any) is skipped, but still counted as inflated
    this.entry = entry;
  }
}

async function extractTar(stream: Readable, path: string, root: string, budget: ArchiveBudget, compressed: boolean): Promise<number> {
  const tar = new TarExtractor(path, root, budget);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (compressed) budget.inflated(chunk.length);
      if (!tar.push(chunk)) break;
    }
    tar.finish();
  } catch (error) {
    tar.abandon();
    if (error instanceof DatasetImportError) throw error;
    if (compressed) throw new DatasetImportError('unsupported', `${basename(path)}: corrupt or truncated gzip data (${(error as Error).message})`, path);
    throw error;
  } finally {
    stream.destroy();
  }
  return tar.written;
}

/**
 * Extracts `path` into `root` (created); throws 'unsupported' for corrupt archives, 'empty' for empty
 * ones and 'too_large' (naming the limit) for archives over a limit.
 */
export async function extractArchive(path: string, root: string, limits: ImportLimits): Promise<void> {
  const kind = sniffArchive(path);
  if (!kind) throw new DatasetImportError('unsupported', `${basename(path)}: not a .zip, .tar or .tar.gz archive`, path);
  const file = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  let count: number;
  try {
    const stat = await file.stat();
    if (!stat.isFile()) throw new DatasetImportError('unsupported', `${basename(path)}: not a regular file`, path);
    const budget = new ArchiveBudget(path, stat.size, limits);
    mkdirSync(root, { recursive: true });
    if (kind === 'zip') count = await extractZip(path, root, budget, file, stat.size);
    else {
      const raw = streamRange(file, 0, stat.size);
      const data = kind === 'tar.gz' ? pipeline(raw, createGunzip(), () => {}) : raw;
      count = await extractTar(data, path, root, budget, kind === 'tar.gz');
      raw.destroy();
    }
  } finally {
    await file.close();
  }
  if (count === 0) throw new DatasetImportError('empty', `${basename(path)}: the archive holds no files`, path);
}
