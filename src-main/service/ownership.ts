/**
 * A run has one owner: the process that queued it or trains it. This process registers itself in
 * the library (an `owners` row + the lock file of db/owner-lock.ts) when it opens it, marks the runs
 * it queues with its token, and clears the mark when a run leaves queued/running. A run marked by
 * a process that is gone becomes "interrupted" (resumable) the next time anyone looks at it; a run
 * marked by a live process is left alone, and commands that would train it twice are refused with
 * who has it.
 */
import type { ActiveRunRow, OwnerRow, Store } from '../db/store.js';
import { OwnerLock, ownerAlive, ownerLockDir, removeDeadLockFiles } from '../db/owner-lock.js';

export class Ownership {
  readonly me: OwnerRow;
  private readonly lock: OwnerLock;
  private readonly dir: string;

  constructor(private readonly store: Store, dbPath: string, label: string) {
    this.dir = ownerLockDir(dbPath);
    this.lock = OwnerLock.acquire(this.dir);
    this.me = { token: this.lock.token, pid: process.pid, label, startedAt: new Date().toISOString() };
    try {
      store.insertOwner(this.me);
    } catch (e) {
      this.lock.release();
      throw e;
    }
  }

  isMine(token: string | null): boolean {
    return token === this.me.token;
  }

  /** True while the owner's process lives; a run without an owner (a library from before owners) has none alive. */
  isAlive(token: string | null): boolean {
    if (token === null) return false;
    return this.isMine(token) || ownerAlive(this.dir, token);
  }

  /** "cnn-studio train (pid 4242, since 2025-01-01T10:00:00.000Z)" — who has a run, for refusals. */
  describe(token: string | null): string {
    const o = token === null ? undefined : this.store.getOwner(token);
    if (!o) return 'another CNN Studio process';
    return `${o.label} (pid ${o.pid}, since ${o.startedAt})`;
  }

  /**
   * The runs marked queued/running by a process that is gone (or, for our own token, that this
   * process no longer trains: `isActiveHere`), each with the owner it was marked by.
   */
  orphans(isActiveHere: (id: number) => boolean, only?: number): ActiveRunRow[] {
    const alive = new Map<string, boolean>();
    const aliveCached = (token: string) => {
      let a = alive.get(token);
      if (a === undefined) alive.set(token, (a = this.isAlive(token)));
      return a;
    };
    return this.store.activeRuns().filter((r) => {
      if (only !== undefined && r.id !== only) return false;
      if (this.isMine(r.owner)) return !isActiveHere(r.id);
      return r.owner === null || !aliveCached(r.owner);
    });
  }

  /** Forgets owners that are gone and own no run any more (rows and lock files). */
  forgetDeadOwners(): void {
    const stillMarked = new Set(this.store.activeRuns().map((r) => r.owner));
    for (const token of this.store.ownerTokens()) {
      if (this.isMine(token) || stillMarked.has(token) || this.isAlive(token)) continue;
      this.store.deleteOwner(token);
    }
    removeDeadLockFiles(this.dir, new Set([this.me.token]));
  }

  /** This process closes the library: its row and its lock go (a killed process leaves both for the next start). */
  release(): void {
    try {
      if (this.store.db.open) this.store.deleteOwner(this.me.token);
    } catch {
      // the row of a process that is gone is removed by the next start
    }
    this.lock.release();
  }
}
