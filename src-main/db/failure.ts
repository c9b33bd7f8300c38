/**
 * What went wrong when the library (or a file beside it) could not be read or written, in words a
 * user can act on. SQLite's result codes and Node's errno codes both land here, so every write path
 * — epoch commits, metric flushes, import and evaluation bookkeeping, startup — says the same thing
 * for the same fault.
 */

export type StorageFaultKind = 'full' | 'io' | 'damaged' | 'read-only' | 'busy' | 'too-big';

export interface StorageFault {
  kind: StorageFaultKind;
  /** "the disk is full", "the library file is damaged (SQLITE_CORRUPT: …)". */
  words: string;
}

const codeOf = (e: unknown): string => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
};

const messageOf = (e: unknown): string => (e as Error | null)?.message ?? String(e);

/** The fault, or null when the error is not about storage (then it is a bug, reported as one). */
export function storageFault(e: unknown): StorageFault | null {
  const code = codeOf(e);
  const detail = `${code}: ${messageOf(e)}`;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') return { kind: 'full', words: 'the disk is full' };
  if (code === 'EDQUOT') return { kind: 'full', words: 'your disk quota is used up' };
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return { kind: 'damaged', words: `the library file is damaged (${detail})` };
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return { kind: 'read-only', words: `the library cannot be written (${detail})` };
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return { kind: 'busy', words: 'another process kept the library locked for more than 5 seconds' };
  }
  if (code === 'SQLITE_TOOBIG') return { kind: 'too-big', words: 'a value is larger than SQLite stores (1,000,000,000 bytes)' };
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN' || code === 'EIO') return { kind: 'io', words: `the disk could not be read or written (${detail})` };
  return null;
}

/** What a user does about a fault, given what to do once it is fixed ("resume", "import again"). */
export function remedy(fault: StorageFault, then: string): string {
  switch (fault.kind) {
    case 'full': return `free space and ${then}`;
    case 'busy': return `${then} when the other process is done`;
    case 'read-only': return `make the library's folder writable and ${then}`;
    case 'damaged': return `close CNN Studio everywhere, keep a copy of the library file, then run "cnn-studio check" for what to do`;
    case 'too-big': return 'make the model smaller';
    case 'io': return `check the disk, then ${then}`;
  }
}

/** "the disk is full: free space and resume" — or null when the error is not about storage. */
export function describeStorageFailure(e: unknown, then: string): string | null {
  const fault = storageFault(e);
  return fault && `${fault.words}: ${remedy(fault, then)}`;
}
