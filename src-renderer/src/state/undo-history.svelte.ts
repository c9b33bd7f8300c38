/**
 * Undo and redo over snapshots: before each edit the editor records what it had; undo swaps the
 * current state for the last recorded one (and keeps the current one for redo). A run of edits to
 * one field (typing "128" is three input events) is one step: edits that name the same `run` key
 * coalesce until `settle()` (the field's change event) or any other edit ends the run.
 */
export class UndoHistory<T> {
  private past = $state.raw<T[]>([]);
  private future = $state.raw<T[]>([]);
  /** The field being typed into, while its edits coalesce. */
  private openRun: string | null = null;

  constructor(private readonly limit = 200) {}

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  /** What undo would go back to (the editor may keep more of the current state when it holds more). */
  get nextUndo(): T | undefined {
    return this.past.at(-1);
  }

  get nextRedo(): T | undefined {
    return this.future.at(-1);
  }

  /** Called before an edit with the state it changes; `run` names a field whose next edits join this one. */
  record(before: T, run: string | null = null): void {
    if (run !== null && run === this.openRun) return;
    this.openRun = run;
    this.past = [...this.past.slice(-(this.limit - 1)), before];
    this.future = [];
  }

  /** Ends a run of edits to one field: the next edit of it is a step of its own. */
  settle(): void {
    this.openRun = null;
  }

  /** The state to go back to (given the current one, kept for redo), or null when there is none. */
  undo(current: T): T | null {
    const before = this.past.at(-1);
    if (before === undefined) return null;
    this.openRun = null;
    this.past = this.past.slice(0, -1);
    this.future = [...this.future, current];
    return before;
  }

  redo(current: T): T | null {
    const after = this.future.at(-1);
    if (after === undefined) return null;
    this.openRun = null;
    this.future = this.future.slice(0, -1);
    this.past = [...this.past, current];
    return after;
  }

  clear(): void {
    this.past = [];
    this.future = [];
    this.openRun = null;
  }
}
