/**
 * The dataset library: the list, the selected dataset's thumbnails, and the import in flight — from
 * a path (typed, dropped or picked in the desktop app) or an upload (dropped in a browser: the bytes
 * go out first, phase 'uploading', then the server imports them like a path).
 */
import { messageOf, type Client, type DatasetInfo, type ImportDatasetResponse, type Result, type Thumbnail } from '../lib/api.js';
import type { ImportSource } from '../lib/dropped.js';
import type { Uploader } from '../lib/upload.js';

export interface ImportInFlight {
  importId: string;
  /** What is being imported: its path, or the dropped thing's name. */
  path: string;
  source: ImportSource['kind'];
  phase: string;
  done: number;
  total: number;
  message: string | null;
  cancelling: boolean;
}

/** How an import ended, and the last progress it showed (done of total). */
export type ImportOutcome = { progress: { done: number; total: number } } & (
  | { ok: true; dataset: DatasetInfo; alreadyImported: boolean; notice: string }
  | { ok: false; cancelled: boolean; message: string });

/** Images fetched to pick a few per class from (the cheapest way without a per-class index). */
const THUMBNAIL_POOL = 300;
export const PER_CLASS = 5;

export class DatasetsState {
  list = $state.raw<DatasetInfo[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  selectedId = $state<number | null>(null);
  selected = $derived(this.list.find((d) => d.id === this.selectedId) ?? null);
  /** Thumbnails of the selected dataset, grouped by class index. */
  thumbnails = $state.raw<Thumbnail[][]>([]);
  thumbnailsError = $state<string | null>(null);
  importing = $state<ImportInFlight | null>(null);
  importError = $state<string | null>(null);
  importNotice = $state<string | null>(null);
  /** Saving a new name or class names of the selected dataset: the service's refusal, if any. */
  editError = $state<string | null>(null);
  saving = $state(false);
  /** Re-importing a dataset whose decoded images are gone or damaged. */
  reimporting = $state(false);
  reimportError = $state<string | null>(null);
  private uploadAbort: AbortController | null = null;

  /** `uploader`: the browser transport's (lib/upload.ts); the desktop app imports by path only. */
  constructor(private readonly client: Client, private readonly uploader: Uploader | null = null) {
    client.on('importProgress', (p) => {
      if (this.importing && p.importId === this.importing.importId) {
        this.importing = { ...this.importing, phase: p.phase, done: p.done, total: p.total, message: p.message ?? null };
      }
    });
  }

  async refresh(): Promise<void> {
    try {
      this.list = await this.client.get('listDatasets', {});
      this.error = null;
      if (this.selectedId === null || !this.list.some((d) => d.id === this.selectedId)) this.selectedId = this.list[0]?.id ?? null;
    } catch (e) {
      this.error = messageOf(e);
    } finally {
      this.loaded = true;
    }
  }

  async select(id: number): Promise<void> {
    this.selectedId = id;
    await this.loadThumbnails();
  }

  async loadThumbnails(): Promise<void> {
    const d = this.selected;
    this.thumbnails = [];
    this.thumbnailsError = null;
    if (!d) return;
    const count = Math.min(THUMBNAIL_POOL, d.trainCount);
    try {
      const thumbs = await this.client.get('getThumbnails', { datasetId: d.id, split: 'train', indices: Array.from({ length: count }, (_, i) => i), scale: 2 });
      if (this.selectedId !== d.id) return;
      const byClass: Thumbnail[][] = d.classNames.map(() => []);
      for (const t of thumbs) if (byClass[t.label] && byClass[t.label]!.length < PER_CLASS) byClass[t.label]!.push(t);
      this.thumbnails = byClass;
    } catch (e) {
      this.thumbnailsError = messageOf(e);
    }
  }

  async importPath(path: string, name: string): Promise<ImportOutcome> {
    const trimmed = path.trim();
    if (!trimmed) {
      this.importNotice = null;
      this.importError = 'type the path of a folder, IDX pair, CSV file or archive on this computer';
      return { ok: false, cancelled: false, message: this.importError, progress: { done: 0, total: 0 } };
    }
    return this.runImport({ kind: 'path', label: trimmed, path: trimmed, ...(name.trim() ? { name: name.trim() } : {}) });
  }

  /** One import, start to end: the in-flight state and its progress, then the library read again. */
  async runImport(source: ImportSource): Promise<ImportOutcome> {
    this.importError = null;
    this.importNotice = null;
    const importId = crypto.randomUUID();
    const shown = source.kind === 'path' ? source.path : source.label;
    this.importing = { importId, path: shown, source: source.kind, phase: source.kind === 'upload' ? 'uploading' : 'starting', done: 0, total: 0, message: null, cancelling: false };
    let result: Result<ImportDatasetResponse>;
    if (source.kind === 'path') {
      result = await this.client.call('importDataset', { path: source.path, importId, ...(source.name ? { name: source.name } : {}) });
    } else if (!this.uploader) {
      result = { ok: false, error: { code: 'bad_request', message: `${source.label}: this window cannot upload; import it by its path` } };
    } else {
      this.uploadAbort = new AbortController();
      result = await this.uploader(source.upload, {
        importId,
        signal: this.uploadAbort.signal,
        onProgress: (sent, total) => {
          // once the server's importer reports, its progress is the one shown
          if (this.importing?.importId === importId && this.importing.phase === 'uploading') this.importing = { ...this.importing, done: sent, total };
        },
      });
      this.uploadAbort = null;
    }
    const progress = { done: this.importing?.done ?? 0, total: this.importing?.total ?? 0 };
    this.importing = null;
    if (!result.ok) {
      const cancelled = result.error.code === 'cancelled';
      this.importError = cancelled ? 'import cancelled' : result.error.message;
      return { ok: false, cancelled, message: this.importError, progress };
    }
    const { dataset, alreadyImported, recognizedAs } = result.value;
    const notice = alreadyImported
      ? `this content is already in the library as “${dataset.name}”; nothing new was stored`
      : `imported “${dataset.name}”: ${dataset.trainCount.toLocaleString('en-US')} training and ${dataset.testCount.toLocaleString('en-US')} test images` +
        (recognizedAs ? ` — recognised as ${recognizedAs}, so its classes have their names` : '');
    this.importNotice = notice;
    await this.refresh();
    await this.select(dataset.id);
    return { ok: true, dataset, alreadyImported, notice, progress };
  }

  /** Renames the dataset and its classes (only what changed is sent); the list and the thumbnails' captions follow. */
  async saveNames(id: number, name: string, classNames: string[]): Promise<boolean> {
    const d = this.list.find((x) => x.id === id);
    if (!d) return false;
    const request: { id: number; name?: string; classNames?: string[] } = { id };
    if (name.trim() !== d.name) request.name = name.trim();
    const names = classNames.map((n) => n.trim());
    if (names.some((n, i) => n !== d.classNames[i])) request.classNames = names;
    this.editError = null;
    if (request.name === undefined && request.classNames === undefined) return true;
    this.saving = true;
    const result = await this.client.call('updateDataset', request);
    this.saving = false;
    if (!result.ok) {
      this.editError = result.error.message;
      return false;
    }
    this.replace(result.value);
    if (request.classNames && this.selectedId === id) await this.loadThumbnails();
    return true;
  }

  /** Imports the dataset's source again (as it was first imported) to bring back its decoded images. */
  async reimport(id: number): Promise<void> {
    this.reimporting = true;
    this.reimportError = null;
    const result = await this.client.call('reimportDataset', { id });
    this.reimporting = false;
    if (!result.ok) {
      this.reimportError = result.error.message;
      return;
    }
    this.replace(result.value);
    if (this.selectedId === id) await this.loadThumbnails();
  }

  private replace(d: DatasetInfo): void {
    this.list = this.list.map((x) => (x.id === d.id ? d : x));
  }

  async cancelImport(): Promise<void> {
    if (!this.importing) return;
    this.importing = { ...this.importing, cancelling: true };
    // an upload still sending stops sending; one the server is importing is cancelled there (same id)
    if (this.importing.phase === 'uploading') this.uploadAbort?.abort();
    const result = await this.client.call('cancelImport', { importId: this.importing.importId });
    if (!result.ok) this.importError = result.error.message;
  }
}
