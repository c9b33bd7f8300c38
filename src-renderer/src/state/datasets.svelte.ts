/** The dataset library: the list, the selected dataset's thumbnails, and an import in flight. */
import { messageOf, type Client, type DatasetInfo, type Thumbnail } from '../lib/api.js';

export interface ImportInFlight {
  importId: string;
  path: string;
  phase: string;
  done: number;
  total: number;
  message: string | null;
  cancelling: boolean;
}

/** Images fetched to pick a few per class from (the cheapest way without a per-class index). */
const THUMBNAIL_POOL = 300;
const PER_CLASS = 5;

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

  constructor(private readonly client: Client) {
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

  async importPath(path: string, name: string): Promise<void> {
    const trimmed = path.trim();
    this.importError = null;
    this.importNotice = null;
    if (!trimmed) {
      this.importError = 'type the path of a folder, IDX pair, CSV file or archive on this computer';
      return;
    }
    const importId = crypto.randomUUID();
    this.importing = { importId, path: trimmed, phase: 'starting', done: 0, total: 0, message: null, cancelling: false };
    const result = await this.client.call('importDataset', { path: trimmed, importId, ...(name.trim() ? { name: name.trim() } : {}) });
    this.importing = null;
    if (!result.ok) {
      this.importError = result.error.code === 'cancelled' ? 'import cancelled' : result.error.message;
      return;
    }
    const { dataset, alreadyImported, recognizedAs } = result.value;
    this.importNotice = alreadyImported
      ? `this content is already in the library as “${dataset.name}”; nothing new was stored`
      : `imported “${dataset.name}”: ${dataset.trainCount.toLocaleString('en-US')} training and ${dataset.testCount.toLocaleString('en-US')} test images` +
        (recognizedAs ? ` — recognised as ${recognizedAs}, so its classes have their names` : '');
    await this.refresh();
    await this.select(dataset.id);
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
    const result = await this.client.call('cancelImport', { importId: this.importing.importId });
    if (!result.ok) this.importError = result.error.message;
  }
}
