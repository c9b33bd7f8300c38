/**
 * How the importer opens a file: only regular files, never blocking on one that is not, and never
 * reading more than a limit. Every open is O_NONBLOCK and checked with fstat on the open descriptor,
 * so a named pipe that nobody writes to (or one swapped in after the folder was listed) is refused at
 * once instead of hanging the import, and the size that is checked is the size that is read.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { basename } from 'node:path';
import { formatBytes, limitError, type ImportLimits } from './limits.js';
import { fileErrorReason, specialFileReason } from './reasons.js';
import { DatasetImportError } from './types.js';

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** A regular file's descriptor and size, or why it cannot be read. */
function openRegularSync(path: string): { fd: number; stat: Stats } | { reason: string; error: unknown } {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    return { reason: fileErrorReason(error), error };
  }
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    return { reason: specialFileReason(stat), error: null };
  }
  return { fd, stat };
}

function readFully(fd: number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let offset = 0;
  while (offset < length) {
    const read = readSync(fd, bytes, offset, length - offset, offset);
    if (read === 0) break; // the file shrank since fstat: the decoder will find it truncated
    offset += read;
  }
  return bytes.subarray(0, offset);
}

/** The first bytes of a regular file, for recognising its format; empty for anything else. */
export function readHead(path: string, length = 16): Buffer {
  const opened = openRegularSync(path);
  if ('reason' in opened) return Buffer.alloc(0);
  try {
    return readFully(opened.fd, Math.min(length, opened.stat.size));
  } finally {
    closeSync(opened.fd);
  }
}

/** The size of a regular file (throws 'unreadable' / 'unsupported' otherwise). */
export function regularFileSize(path: string): number {
  const opened = openRegularSync(path);
  if ('reason' in opened) throw openError(path, opened);
  closeSync(opened.fd);
  return opened.stat.size;
}

function openError(path: string, failed: { reason: string; error: unknown }): DatasetImportError {
  return new DatasetImportError(failed.error ? 'unreadable' : 'unsupported', `${basename(path)}: ${failed.reason}`, path);
}

/**
 * A whole regular file (an IDX or CSV file), refused with 'too_large' above `limits.maxFileBytes`
 * before anything is allocated.
 */
export function readRegularFileSync(path: string, limits: ImportLimits): Buffer {
  const opened = openRegularSync(path);
  if ('reason' in opened) throw openError(path, opened);
  try {
    const size = opened.stat.size;
    if (size > limits.maxFileBytes) {
      throw limitError('maxFileBytes', `${basename(path)}: ${formatBytes(size)}, more than the limit of ${formatBytes(limits.maxFileBytes)} per file`, size, limits.maxFileBytes, path);
    }
    return readFully(opened.fd, size);
  } finally {
    closeSync(opened.fd);
  }
}

/**
 * A regular file of at most `maxBytes` (an image) — whole, or only its first `headBytes`; `size` is
 * the whole file's. Problems come back as a reason, not a throw: one bad file is skipped, not the
 * import. Synchronous: for thousands of small files, four thread-pool round trips per file (open,
 * stat, read, close) cost more than the reads, and the pool is sharp's. Cancelling does not need the
 * worker to be interruptible (importDataset settles at once and cleans up after it).
 */
export function readImageBytes(path: string, maxBytes: number, headBytes = Infinity): { bytes: Buffer; size: number } | { reason: string } {
  const opened = openRegularSync(path);
  if ('reason' in opened) return { reason: opened.reason };
  try {
    const size = opened.stat.size;
    if (size > maxBytes) return { reason: `${formatBytes(size)}, more than the limit of ${formatBytes(maxBytes)} per image file` };
    return { bytes: readFully(opened.fd, Math.min(size, headBytes)), size };
  } catch (error) {
    return { reason: fileErrorReason(error) };
  } finally {
    closeSync(opened.fd);
  }
}
