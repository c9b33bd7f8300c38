/**
 * Deleting a run or a dataset from the UI, always in two steps: `ask` reads from the service what
 * the delete would touch (a run's forks, a dataset's runs) and shows it; `confirm` deletes, saying
 * the service may go ahead with exactly that. Should the service know of more than was shown (a
 * fork made in another window meanwhile), it refuses with in_use and the question is asked again
 * with its list.
 */
import { messageOf, type Client, type ServiceErrorData } from '../lib/api.js';
import type { DatasetsState } from './datasets.svelte.js';
import type { RunsState } from './runs.svelte.js';

export interface Named {
  id: number;
  name: string;
}

export interface PendingDelete {
  kind: 'run' | 'dataset';
  id: number;
  name: string;
  /** A run's forks, or the runs that use a dataset (they are deleted with it). */
  affected: Named[];
}

/** How many names a confirmation lists before "and N more". */
export const NAMES_SHOWN = 8;

const usedByOf = (error: ServiceErrorData): Named[] | null => {
  const used = (error.detail as { usedBy?: Named[] } | undefined)?.usedBy;
  return Array.isArray(used) ? used : null;
};

export class Deletions {
  asking = $state.raw<PendingDelete | null>(null);
  busy = $state(false);
  error = $state<string | null>(null);

  constructor(private readonly client: Client, private readonly runs: RunsState, private readonly datasets: DatasetsState) {}

  async ask(kind: 'run' | 'dataset', id: number): Promise<void> {
    this.error = null;
    this.asking = null;
    try {
      if (kind === 'run') {
        const run = await this.client.get('getRun', { id, batches: false });
        const forks = run.children.map((c) => ({ id: c, name: this.runs.list.find((r) => r.id === c)?.name ?? `run ${c}` }));
        this.asking = { kind, id, name: run.name, affected: forks };
      } else {
        const [dataset, users] = await Promise.all([this.client.get('getDataset', { id }), this.client.get('listRuns', { datasetId: id, sort: 'created', order: 'asc' })]);
        this.asking = { kind, id, name: dataset.name, affected: users.map((r) => ({ id: r.id, name: r.name })) };
      }
    } catch (e) {
      this.error = messageOf(e);
    }
  }

  cancel(): void {
    this.asking = null;
    this.error = null;
  }

  /** Deletes what `ask` showed; true when it is gone. */
  async confirm(): Promise<boolean> {
    const pending = this.asking;
    if (!pending) return false;
    this.busy = true;
    this.error = null;
    const agreed = pending.affected.length > 0;
    let gone: number[];
    if (pending.kind === 'run') {
      const result = await this.client.call('deleteRun', { id: pending.id, confirmed: agreed });
      if (!result.ok) return this.refused(pending, result.error);
      gone = [pending.id];
    } else {
      const result = await this.client.call('deleteDataset', { id: pending.id, withRuns: agreed });
      if (!result.ok) return this.refused(pending, result.error);
      gone = result.value.runsDeleted;
    }
    this.busy = false;
    this.asking = null;
    this.runs.forget(gone);
    if (pending.kind === 'dataset') {
      await this.datasets.refresh();
      await this.datasets.loadThumbnails();
    }
    return true;
  }

  private refused(pending: PendingDelete, error: ServiceErrorData): false {
    this.busy = false;
    const usedBy = error.code === 'in_use' ? usedByOf(error) : null;
    // More is affected than was shown: show that and ask again.
    if (usedBy) this.asking = { ...pending, affected: usedBy };
    this.error = error.message;
    return false;
  }
}
