/** Experiments: runs picked for comparison, the comparison, and forking a run from a snapshot. */
import { client, messageOf, type CompareResponse, type RunDetail, type RunSummary } from '../lib/api.js';
import type { HyperparameterForm } from './builder.svelte.js';
import { formToInput } from './builder.svelte.js';

export type ForkForm = Pick<HyperparameterForm, 'epochs' | 'batchSize' | 'optimizer' | 'learningRate' | 'momentum' | 'flipHorizontal' | 'maxShift' | 'trainLimit'> & { name: string; snapshotId: number | null };

class ExperimentsState {
  picked = $state<number[]>([]);
  comparison = $state.raw<CompareResponse | null>(null);
  comparing = $state(false);
  error = $state<string | null>(null);
  forkFrom = $state.raw<RunDetail | null>(null);
  fork = $state<ForkForm | null>(null);
  forkError = $state<string | null>(null);
  forking = $state(false);

  toggle(id: number): void {
    this.picked = this.picked.includes(id) ? this.picked.filter((x) => x !== id) : [...this.picked, id];
  }

  async compare(): Promise<void> {
    this.comparing = true;
    this.error = null;
    try {
      // Oldest first: the first run is the baseline the per-class differences are measured against.
      this.comparison = await client.get('compareRuns', { ids: [...this.picked].sort((a, b) => a - b) });
    } catch (e) {
      this.error = messageOf(e);
    } finally {
      this.comparing = false;
    }
  }

  async openFork(id: number): Promise<void> {
    this.forkError = null;
    try {
      const d = await client.get('getRun', { id, batches: false });
      const h = d.hyperparameters;
      this.forkFrom = d;
      this.fork = {
        name: '', snapshotId: d.snapshots[d.snapshots.length - 1]?.id ?? null,
        epochs: h.epochs, batchSize: h.batchSize, optimizer: h.optimizer.type, learningRate: h.optimizer.learningRate,
        momentum: h.optimizer.type === 'sgd' ? h.optimizer.momentum ?? 0 : 0.9,
        flipHorizontal: h.augment.flipHorizontal, maxShift: h.augment.maxShift, trainLimit: h.trainLimit,
      };
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
    if (this.fork.snapshotId === null) {
      this.forkError = `run ${this.forkFrom.id} has no snapshot yet: train at least one epoch first`;
      return null;
    }
    this.forking = true;
    this.forkError = null;
    const f = $state.snapshot(this.fork);
    const h = this.forkFrom.hyperparameters;
    const all = formToInput({
      ...f, seed: h.seed, validationSplit: h.validationSplit, patience: h.earlyStopping?.patience ?? null, kernels: h.kernels, threads: h.threads ?? 1, progressEvery: h.progressEvery,
    });
    const result = await client.call('forkRun', {
      runId: this.forkFrom.id, snapshotId: f.snapshotId!,
      hyperparameters: { epochs: all.epochs, batchSize: all.batchSize, optimizer: all.optimizer, augment: all.augment, trainLimit: all.trainLimit },
      name: f.name.trim() || undefined, // the service names it "… (fork of #N at epoch E)"
    });
    this.forking = false;
    if (!result.ok) {
      this.forkError = result.error.message;
      return null;
    }
    this.closeFork();
    return result.value;
  }
}

export const experiments = new ExperimentsState();
