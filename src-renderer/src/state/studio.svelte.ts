/**
 * The renderer's state, built once around one client (main.ts) and handed to the components
 * through a Svelte context, so a test can build the same classes around a fake client.
 */
import { createContext } from 'svelte';
import type { Client, ConnectionState } from '../lib/api.js';
import { BuilderState } from './builder.svelte.js';
import { DatasetsState } from './datasets.svelte.js';
import { EvaluationState } from './evaluation.svelte.js';
import { ExperimentsState } from './experiments.svelte.js';
import { RunsState } from './runs.svelte.js';

export class Studio {
  readonly datasets: DatasetsState;
  readonly runs: RunsState;
  readonly builder: BuilderState;
  readonly evaluation: EvaluationState;
  readonly experiments: ExperimentsState;
  /** The event stream, as the sidebar shows it. */
  connection = $state<ConnectionState>('connecting');

  constructor(readonly client: Client) {
    this.datasets = new DatasetsState(client);
    this.runs = new RunsState(client);
    this.builder = new BuilderState(client, this.datasets);
    this.evaluation = new EvaluationState(client, this.runs);
    this.experiments = new ExperimentsState(client);
    let wasClosed = false;
    client.onConnection((state) => {
      // Events sent while the socket was down are gone: read the current state again.
      if (state === 'open' && wasClosed) {
        void this.runs.resync();
        void this.datasets.refresh();
      }
      if (state === 'closed') wasClosed = true;
      this.connection = state;
    });
  }

  /** The first reads: the library (with the first dataset's thumbnails) and the runs. */
  async start(): Promise<void> {
    await Promise.all([this.datasets.refresh().then(() => this.datasets.loadThumbnails()), this.runs.refresh()]);
  }
}

export const [getStudio, setStudio] = createContext<Studio>();
