/**
 * The gradient check on demand in Look inside: one check at a time of the shown run's snapshot, its
 * progress from inspectionProgress events (matched by the id this state chose), cancellable.
 */
import type { GradientCheckResponse } from '../../../src-main/contract/index.js';
import { ApiError, messageOf, type Client } from '../lib/api.js';

export class GradientCheckState {
  result = $state.raw<GradientCheckResponse | null>(null);
  progress = $state<{ done: number; total: number } | null>(null);
  busy = $state(false);
  error = $state<string | null>(null);
  private inspectionId: string | null = null;
  private count = 0;

  constructor(private readonly client: Client) {
    client.on('inspectionProgress', (p) => {
      if (p.inspectionId === this.inspectionId) this.progress = { done: p.done, total: p.total };
    });
  }

  /** Another run or snapshot: the shown check is for the old one (a running one is cancelled). */
  reset(): void {
    void this.cancel();
    this.inspectionId = null;
    this.result = null;
    this.progress = null;
    this.busy = false;
    this.error = null;
  }

  async run(target: { runId: number; snapshotId?: number }): Promise<void> {
    const id = `gradient-check-${Date.now().toString(36)}-${++this.count}`;
    this.inspectionId = id;
    this.busy = true;
    this.error = null;
    this.progress = null;
    try {
      const r = await this.client.get('gradientCheck', { ...target, inspectionId: id });
      if (this.inspectionId === id) this.result = r;
    } catch (e) {
      if (this.inspectionId === id) this.error = e instanceof ApiError && e.code === 'cancelled' ? 'The gradient check was cancelled.' : messageOf(e);
    } finally {
      if (this.inspectionId === id) {
        this.busy = false;
        this.inspectionId = null;
      }
    }
  }

  async cancel(): Promise<void> {
    if (this.inspectionId) await this.client.call('cancelInspection', { inspectionId: this.inspectionId });
  }
}
