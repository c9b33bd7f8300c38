/**
 * Whether the process that owns a run is still alive, without trusting process ids. Every process
 * that opens a library holds an exclusive SQLite lock on a small file of its own,
 * `<database>-owners/<token>.lock` (an empty database in a transaction that never ends). The
 * operating system releases that lock the moment the process ends — exit, crash or SIGKILL — and
 * no other process can hold it meanwhile, so:
 *   - a killed owner is seen as gone at once (no lease to wait out);
 *   - a new process that happens to get a dead owner's pid has no lock on the dead owner's file,
 *     so pid reuse cannot make a dead owner look alive;
 *   - it works wherever SQLite locks work (Linux, macOS, Windows), which is everywhere a WAL
 *     library works at all (WAL needs every process on one machine).
 * SQLite's own lock bookkeeping also makes this right within one process (two services in one
 * test process see each other as alive; probing never releases the prober's own lock).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const LOCK_EXTENSION = '.lock';

/** The folder of a library's lock files: beside the database, like its -wal and -shm files. */
export function ownerLockDir(dbPath: string): string {
  return `${dbPath}-owners`;
}

function lockPath(dir: string, token: string): string {
  return join(dir, `${token}${LOCK_EXTENSION}`);
}

/** Opens a lock file and takes its exclusive lock; null when another process holds it. */
function lockFile(path: string, create: boolean): Database.Database | null {
  const db = new Database(path, { timeout: 0, fileMustExist: !create });
  try {
    // No journal file and no pages: the lock is all this file is for.
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY')) return null;
    throw e;
  }
}

export class OwnerLock {
  private constructor(readonly dir: string, readonly token: string, private readonly db: Database.Database) {}

  /** Creates and locks this process's file; throws (with the OS's or SQLite's words) when it cannot. */
  static acquire(dir: string): OwnerLock {
    mkdirSync(dir, { recursive: true });
    for (;;) {
      const token = randomBytes(12).toString('hex');
      const path = lockPath(dir, token);
      const db = lockFile(path, true);
      // Between creating the file and locking it, another process's clean-up may have taken it
      // for a dead owner's and removed it; once locked, nobody can. So: locked and still there.
      if (db && existsSync(path)) return new OwnerLock(dir, token, db);
      db?.close();
    }
  }

  /** Ends the lock and removes the file (a process that dies leaves it for the next start to remove). */
  release(): void {
    if (!this.db.open) return;
    rmSync(lockPath(this.dir, this.token), { force: true });
    this.db.close();
  }
}

/**
 * True while the process holding `token`'s lock lives. A missing file means gone; a file that
 * cannot be probed for another reason (permissions) counts as alive: never take a live run away.
 */
export function ownerAlive(dir: string, token: string): boolean {
  let probe: Database.Database;
  try {
    probe = new Database(lockPath(dir, token), { fileMustExist: true, timeout: 0 });
  } catch (e) {
    return (e as { code?: string }).code !== 'SQLITE_CANTOPEN';
  }
  try {
    probe.prepare('SELECT COUNT(*) FROM sqlite_master').get();
    return false;
  } catch (e) {
    // SQLITE_BUSY: the owner holds its lock. A file nobody holds that is not a database (garbage
    // written over it) is a dead owner's; any other failure counts as alive.
    return (e as { code?: string }).code !== 'SQLITE_NOTADB';
  } finally {
    probe.close();
  }
}

/** Removes the lock files of owners that are gone, except `keep`'s; returns their tokens. */
export function removeDeadLockFiles(dir: string, keep: ReadonlySet<string>): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.endsWith(LOCK_EXTENSION)) continue;
    const token = name.slice(0, -LOCK_EXTENSION.length);
    if (keep.has(token)) continue;
    try {
      // Removed while we hold its lock: a process that is only now creating it sees it gone and
      // picks another token (OwnerLock.acquire).
      const held = lockFile(join(dir, name), false);
      if (!held) continue;
      rmSync(join(dir, name), { force: true });
      held.close();
      removed.push(token);
    } catch {
      // unreadable or already gone: left as it is
    }
  }
  return removed;
}
