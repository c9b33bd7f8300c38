/**
 * Keeping a library file safe from outside the studio: a consistent backup while other processes
 * use it, and a check (with the one repair SQLite can do in place: rebuilding indexes) that works
 * on a file the studio refuses to open because it is damaged.
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';

/**
 * Writes a consistent copy of the library to `target` (which must not exist): `VACUUM INTO` reads
 * one snapshot of the file in a read transaction, so a run training in another process meanwhile
 * neither blocks it nor ends up half in it. The copy is written beside the target and renamed.
 */
export function backupLibrary(dbPath: string, target: string): { bytes: number } {
  if (existsSync(target)) throw new Error(`${target} exists already; choose a new file name`);
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  const db = new Database(dbPath, { fileMustExist: true, readonly: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare('VACUUM INTO ?').run(partial);
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  } finally {
    db.close();
  }
  renameSync(partial, target);
  return { bytes: statSync(target).size };
}

export interface CheckResult {
  /** Problems `PRAGMA integrity_check` reports (at most 100); empty when sound. */
  problems: string[];
  /** With repair: whether rebuilding the indexes made the check pass. */
  repaired: boolean;
}

/**
 * Runs the integrity check on the file itself. With `repair`, a damaged file's indexes are rebuilt
 * (REINDEX: they only repeat what the tables hold, so nothing is lost) and the check runs again.
 */
export function checkLibrary(dbPath: string, repair: boolean): CheckResult {
  const db = new Database(dbPath, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const check = () => (db.pragma('integrity_check(100)') as { integrity_check: string }[]).map((r) => r.integrity_check).filter((l) => l !== 'ok');
    const problems = check();
    if (problems.length === 0 || !repair) return { problems, repaired: false };
    try {
      db.transaction(() => db.exec('REINDEX'))();
    } catch {
      return { problems, repaired: false };
    }
    const after = check();
    return { problems: after.length ? after : problems, repaired: after.length === 0 };
  } finally {
    db.close();
  }
}
