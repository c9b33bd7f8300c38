/**
 * The renderer's state, built once around one client (main.ts) and handed to the components
 * through a Svelte context, so a test can build the same classes around a fake client. In the
 * desktop app it also gets the shell's API: the menu's imports and exports, what was dropped (by
 * path) and the quit notice arrive through it; in a browser, drops are uploaded instead.
 */
import { createContext } from 'svelte';
import type { Client, ConnectionState } from '../lib/api.js';
import { downloadFiles } from '../lib/downloads.js';
import { pathSources, pickedSources, uploadSources, type ImportSource, type Sources } from '../lib/dropped.js';
import type { ShellApi } from '../lib/shell.js';
import type { Uploader } from '../lib/upload.js';
import { BuilderState } from './builder.svelte.js';
import { CellGalleryState } from './cell-gallery.svelte.js';
import { DatasetsState } from './datasets.svelte.js';
import { EvaluationState } from './evaluation.svelte.js';
import { ExperimentsState } from './experiments.svelte.js';
import { ExportState } from './exports.svelte.js';
import { ImportQueue } from './imports.svelte.js';
import type { View } from './nav.svelte.js';
import { InspectState } from './inspect.svelte.js';
import { ModelImportState } from './model-import.svelte.js';
import { GradientCheckState } from './gradient-check.svelte.js';
import { HealthState } from './health.svelte.js';
import { LiveClock } from '../lib/cadence.js';
import { SaliencyState } from './saliency.svelte.js';
import { TimeTravelState } from './time-travel.svelte.js';
import { RunsState } from './runs.svelte.js';
import { Deletions } from './deletions.svelte.js';
import { SweepsState } from './sweeps.svelte.js';
import { RunDiffState } from './run-diff.svelte.js';
import { ThemeState } from './theme.svelte.js';

export interface StudioOptions {
  shell?: ShellApi | null;
  uploader?: Uploader | null;
  /** Shows a view (the app's nav); the menu's actions move to where their result shows. */
  navigate?: (view: View) => void;
  /** How a browser saves an export (downloads by default). */
  download?: typeof downloadFiles;
  /** Where the chosen theme is kept (localStorage in the app; none in unit tests). */
  themeStorage?: Pick<Storage, 'getItem' | 'setItem'> | null;
}

const basename = (path: string) => path.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || path;

export class Studio {
  /** The live views' one cadence: runs, their series and training health change on screen together. */
  private readonly liveClock = new LiveClock();
  readonly datasets: DatasetsState;
  readonly imports: ImportQueue;
  readonly runs: RunsState;
  readonly builder: BuilderState;
  readonly evaluation: EvaluationState;
  readonly experiments: ExperimentsState;
  readonly inspect: InspectState;
  /** Look inside: why it said that (saliency), and the gradient check on demand; Train: training health. */
  readonly saliency: SaliencyState;
  readonly gradientCheck: GradientCheckState;
  readonly health: HealthState;
  /** A confusion cell's images in the Evaluate view. */
  readonly cells: CellGalleryState;
  /** The Look inside view's epoch slider. */
  readonly timeTravel: TimeTravelState;
  readonly exports: ExportState;
  /** A trained model file brought back as a run (the Experiments view). */
  readonly modelImport: ModelImportState;
  /** Daily use: deletes that ask first, sweeps, the semantic diff of two runs, the theme. */
  readonly deletions: Deletions;
  readonly sweeps: SweepsState;
  readonly diff: RunDiffState;
  readonly theme: ThemeState;
  readonly shell: ShellApi | null;
  /** The event stream, as the sidebar shows it. */
  connection = $state<ConnectionState>('connecting');
  /** The stream was open once and is not now: the server went away (the banner says so). */
  serverGone = $state(false);
  /** The app is quitting: its trainings are pausing and snapshotting. */
  quitting = $state<{ runs: number } | null>(null);
  /** A menu action that had nothing to act on, in words. */
  notice = $state<string | null>(null);
  private readonly navigate: (view: View) => void;

  constructor(readonly client: Client, o: StudioOptions = {}) {
    this.shell = o.shell ?? null;
    this.navigate = o.navigate ?? (() => {});
    this.datasets = new DatasetsState(client, o.uploader ?? null);
    this.imports = new ImportQueue(this.datasets);
    this.runs = new RunsState(client, this.liveClock);
    this.builder = new BuilderState(client, this.datasets);
    this.evaluation = new EvaluationState(client, this.runs);
    this.experiments = new ExperimentsState(client);
    this.exports = new ExportState(client, this.shell, o.download ?? downloadFiles);
    this.inspect = new InspectState(client, this.runs);
    this.modelImport = new ModelImportState(client, this.runs);
    this.saliency = new SaliencyState(client);
    this.gradientCheck = new GradientCheckState(client);
    this.health = new HealthState(client, this.liveClock);
    this.deletions = new Deletions(client, this.runs, this.datasets);
    this.sweeps = new SweepsState(client);
    this.diff = new RunDiffState(client);
    this.theme = new ThemeState(o.themeStorage ?? null);
    this.cells = new CellGalleryState(client);
    this.timeTravel = new TimeTravelState(client, this.runs, this.inspect);
    let wasClosed = false;
    let wasOpen = false;
    client.onConnection((state) => {
      // Events sent while the socket was down are gone: read the current state again.
      if (state === 'open' && wasClosed) {
        void this.runs.resync();
        void this.datasets.refresh();
      }
      if (state === 'closed') wasClosed = true;
      if (state === 'open') wasOpen = true;
      this.serverGone = wasOpen && state !== 'open';
      this.connection = state;
    });
    this.shell?.on('importPaths', ({ paths }) => this.queue({ sources: paths.map((path) => ({ kind: 'path', label: basename(path), path })), refused: [] }));
    this.shell?.on('exportRequested', ({ format }) => {
      const runId = this.runs.selectedId;
      if (runId === null) {
        this.notice = 'Nothing to export yet: train a run, then choose File › Export again';
        return;
      }
      this.notice = null;
      this.navigate('train');
      void this.exports.export(runId, format);
    });
    this.shell?.on('quitting', ({ runs }) => (this.quitting = { runs }));
  }

  /** The first reads: the library (with the first dataset's thumbnails) and the runs. */
  async start(): Promise<void> {
    await Promise.all([this.datasets.refresh().then(() => this.datasets.loadThumbnails()), this.runs.refresh()]);
  }

  /**
   * What was dropped on the window: `files` and `entries` read from the drop event itself (its
   * DataTransfer is emptied after it). By path in the desktop app; uploaded in a browser.
   */
  async drop(files: readonly File[], entries: readonly (FileSystemEntry | File)[]): Promise<void> {
    this.queue(this.shell ? await pathSources(files, this.shell) : await uploadSources(entries));
  }

  /** Files (or a folder's files) chosen in the browser's file picker. */
  pick(files: readonly File[]): void {
    this.queue(pickedSources(files));
  }

  /** The desktop app's open dialog. */
  async choose(kind: 'folder' | 'file'): Promise<void> {
    const r = await this.shell?.chooseImportPaths({ kind });
    if (r?.ok) this.queue({ sources: r.value.paths.map((path) => ({ kind: 'path', label: basename(path), path })), refused: [] });
  }

  /** A typed path (with its optional name). */
  importTyped(path: string, name: string): void {
    const trimmed = path.trim();
    if (!trimmed) {
      void this.datasets.importPath('', '');
      return;
    }
    const source: ImportSource = { kind: 'path', label: basename(trimmed), path: trimmed, ...(name.trim() ? { name: name.trim() } : {}) };
    this.queue({ sources: [source], refused: [] });
  }

  private queue({ sources, refused }: Sources): void {
    if (sources.length === 0 && refused.length === 0) return;
    this.imports.add(sources, refused);
    this.navigate('datasets');
  }
}

export const [getStudio, setStudio] = createContext<Studio>();
