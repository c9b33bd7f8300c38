/** Experiments: runs picked for comparison, the comparison, and forking a run from a snapshot. */
import { firstRangeProblem } from '../../../src-main/contract/index.js';
import { formField } from '../lib/hyperparameter-form.js';
import { messageOf, type Client, type CompareResponse, type Hyperparameters, type RunDetail, type RunSummary } from '../lib/api.js';

/** A fork: the parent's hyperparameters as the starting point, edited; the snapshot to start from. */
export interface ForkForm {
  name: string;
  snapshotId: number | null;
  hyperparameters: Hyperparameters;
}

export class ExperimentsState {
  picked = $state<number[]>([]);
  comparison = $state.raw<CompareResponse | null>(null);
  comparing = $state(false);
  error = $state<string | null>(null);
  forkFrom = $state.raw<RunDetail | null>(null);
  fork = $state<ForkForm | null>(null);
  forkError = $state<string | null>(null);
  /** The hyperparameter path the last refusal names. */
  forkField = $state<string | null>(null);
  forking = $state(false);

  constructor(private readonly client: Client) {}

  toggle(id: number): void {
    this.picked = this.picked.includes(id) ? this.picked.filter((x) => x !== id) : [...this.picked, id];
  }

  async compare(): Promise<void> {
    this.comparing = true;
    this.error = null;
    try {
      // Oldest first: the first run is the baseline the per-class differences are measured against.
      this.comparison = await this.client.get('compareRuns', { ids: [...this.picked].sort((a, b) => a - b) });
    } catch (e) {
      this.error = messageOf(e);
    } finally {
      this.comparing = false;
    }
  }

  async openFork(id: number): Promise<void> {
    this.forkError = null;
    this.forkField = null;
    try {
      const d = await this.client.get('getRun', { id, batches: false });
      this.forkFrom = d;
      this.fork = { name: '', snapshotId: d.snapshots[d.snapshots.length - 1]?.id ?? null, hyperparameters: structuredClone(d.hyperparameters) };
    } catch (e) {
      this.forkError = messageOf(e);
    }
  }

  closeFork(): void {
    this.fork = null;
    this.forkFrom = null;
  }

  async submitFork(): Promise<RunSummary | null> {
    if (!this.fork || !this.forkFrom) return null;
    this.forkField = null;
    if (this.fork.snapshotId === null) {
      this.forkError = `run ${this.forkFrom.id} has no snapshot yet: train at least one epoch first`;
      return null;
    }
    const f = $state.snapshot(this.fork) as ForkForm;
    const local = firstRangeProblem(f.hyperparameters);
    if (local) {
      this.forkError = local.message;
      this.forkField = local.field;
      return null;
    }
    this.forking = true;
    this.forkError = null;
    const result = await this.client.call('forkRun', {
      runId: this.forkFrom.id, snapshotId: f.snapshotId!, hyperparameters: f.hyperparameters,
      ...(f.name.trim() ? { name: f.name.trim() } : {}), // else the service names it "… (fork of #N at epoch E)"
    });
    this.forking = false;
    if (!result.ok) {
      this.forkError = result.error.message;
      this.forkField = formField(result.error.detail?.field);
      return null;
    }
    this.closeFork();
    return result.value;
  }
}
