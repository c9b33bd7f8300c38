/**
 * Sweeps in the UI: the form opened from a run (what it will queue, before it is queued), the
 * sweeps in the library, and the one shown — read again whenever one of its runs reports an epoch
 * or a new status, so its progress and its scatter of hyperparameter vs best validation accuracy
 * fill in as the runs train one after another.
 */
import { SWEEP_PARAMETERS, type SweepDetail, type SweepInfo, type SweepParameter } from '../../../src-main/contract/index.js';
import { messageOf, type Client, type RunSummary } from '../lib/api.js';
import { planSweep, sweepFormFor, type SweepForm } from '../lib/sweep-form.js';

/** Statuses after which a sweep's run will not train again on its own. */
const DONE = new Set(['completed', 'failed', 'stopped']);

export interface SweepProgress {
  total: number;
  done: number;
  running: RunSummary | null;
}

export function progressOf(sweep: SweepDetail): SweepProgress {
  return {
    total: sweep.runs.length,
    done: sweep.runs.filter(({ run }) => DONE.has(run.status)).length,
    running: sweep.runs.find(({ run }) => run.status === 'running')?.run ?? null,
  };
}

/** The parameters a sweep varies, in the contract's order. */
export const variedOf = (sweep: SweepInfo): SweepParameter[] => SWEEP_PARAMETERS.filter((p) => sweep.space[p] !== undefined);

export class SweepsState {
  /** The run a new sweep starts from, and its form. */
  base = $state.raw<RunSummary | null>(null);
  form = $state<SweepForm | null>(null);
  readonly plan = $derived(this.form ? planSweep(this.form) : null);
  starting = $state(false);
  formError = $state<string | null>(null);
  list = $state.raw<SweepInfo[]>([]);
  shown = $state.raw<SweepDetail | null>(null);
  error = $state<string | null>(null);
  cancelling = $state(false);
  private reloadTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly client: Client) {
    const touches = (runId: number) => this.shown?.runs.some(({ run }) => run.id === runId) ?? false;
    client.on('runStatus', (e) => {
      if (touches(e.runId)) this.reloadSoon();
    });
    client.on('runProgress', (e) => {
      if (e.kind === 'epoch' && touches(e.runId)) this.reloadSoon();
    });
    client.on('libraryChanged', (e) => {
      if (e.kind === 'sweep') void this.refresh();
      if (e.kind === 'run' && touches(e.id)) this.reloadSoon();
    });
  }

  async refresh(): Promise<void> {
    try {
      this.list = await this.client.get('listSweeps', {});
      // the newest sweep is shown until another is picked
      const newest = this.list.reduce<SweepInfo | null>((a, b) => (a === null || b.id > a.id ? b : a), null);
      if (!this.shown && newest) await this.show(newest.id);
    } catch (e) {
      this.error = messageOf(e);
    }
  }

  async open(run: RunSummary): Promise<void> {
    this.formError = null;
    try {
      const detail = await this.client.get('getRun', { id: run.id, batches: false });
      this.base = run;
      this.form = sweepFormFor(detail.hyperparameters, detail.spec);
    } catch (e) {
      this.formError = messageOf(e);
    }
  }

  close(): void {
    this.form = null;
    this.base = null;
    this.formError = null;
  }

  /** Queues the plan's runs; the new sweep is then the one shown. */
  async start(): Promise<SweepDetail | null> {
    const plan = this.plan;
    if (!this.form || !this.base || !plan) return null;
    if (plan.problem) {
      this.formError = plan.problem.message;
      return null;
    }
    const f = $state.snapshot(this.form) as SweepForm;
    this.starting = true;
    this.formError = null;
    const result = await this.client.call('startSweep', {
      runId: this.base.id, kind: f.kind, space: plan.space, maxRuns: f.maxRuns!, parallel: f.parallel,
      ...(f.kind === 'random' ? { seed: f.seed ?? 0 } : {}), ...(f.name.trim() ? { name: f.name.trim() } : {}),
    });
    this.starting = false;
    if (!result.ok) {
      this.formError = result.error.message;
      return null;
    }
    this.close();
    this.shown = result.value;
    await this.refresh();
    return result.value;
  }

  async show(id: number): Promise<void> {
    try {
      this.shown = await this.client.get('getSweep', { id });
      this.error = null;
    } catch (e) {
      this.error = messageOf(e);
    }
  }

  async cancel(): Promise<void> {
    if (!this.shown) return;
    this.cancelling = true;
    const result = await this.client.call('cancelSweep', { id: this.shown.id });
    this.cancelling = false;
    if (!result.ok) this.error = result.error.message;
    else this.shown = result.value;
  }

  /** Events come per run and can come in bursts: the sweep is read once for each burst. */
  private reloadSoon(): void {
    if (this.reloadTimer) return;
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      if (this.shown) void this.show(this.shown.id);
    }, 200);
  }
}
