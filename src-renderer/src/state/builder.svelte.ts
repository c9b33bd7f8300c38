/**
 * The builder: a ModelSpec being edited (layer cards with stable keys for reordering), the
 * hyperparameter form, and starting a run. Shapes come from the engine's inferShapes on every edit.
 * Every edit of the stack (add, insert, move, remove, a template, a layer's field) goes through a
 * method here, which records it for undo and redo.
 */
import { DEFAULT_HYPERPARAMETERS, firstRangeProblem, mergeHyperparameters, type TemplateInfo } from '../../../src-main/contract/index.js';
import { canonicalJson } from '../../../src-engine/spec.js';
import type { Client, Hyperparameters, ModelSpec, RunSummary } from '../lib/api.js';
import { formField } from '../lib/hyperparameter-form.js';
import { defaultLayer, inferForBuilder, type LayerSpec, type LayerType } from '../lib/spec-edit.js';
import type { DatasetsState } from './datasets.svelte.js';
import { UndoHistory } from './undo-history.svelte.js';

export interface LayerItem {
  key: number;
  layer: LayerSpec;
}

/** What the builder's form edits: complete hyperparameters (the contract's defaults to start) and a name. */
export interface RunForm {
  name: string;
  hyperparameters: Hyperparameters;
}

export const newRunForm = (): RunForm => ({ name: '', hyperparameters: structuredClone(DEFAULT_HYPERPARAMETERS) });

/** A template as the service sends it: its spec sized to the dataset and its recommended recipe. */
export type Template = TemplateInfo;

/** A refusal of the start, with the layer or the form field (a hyperparameter path, or 'name') it names. */
export interface Refusal {
  message: string;
  layerIndex: number | null;
  field: string | null;
}

/** What undo and redo restore: the stack, the template it came from, and — for a step that chose a
 *  template — the form's hyperparameters its recipe replaced. */
interface StackSnapshot {
  inputShape: [number, number, number];
  items: LayerItem[];
  templateName: string | null;
  hyperparameters?: Hyperparameters;
}

let nextKey = 1;
const itemsOf = (spec: ModelSpec): LayerItem[] => spec.layers.map((layer) => ({ key: nextKey++, layer: structuredClone(layer) }));

const isClassifier = (l: LayerSpec | undefined) => l?.type === 'dense' && (l.activation ?? 'softmax') === 'softmax';

export class BuilderState {
  datasetId = $state<number | null>(null);
  dataset = $derived.by(() => this.datasets.list.find((d) => d.id === this.datasetId) ?? null);
  inputShape = $state<[number, number, number]>([28, 28, 1]);
  items = $state<LayerItem[]>([]);
  spec: ModelSpec = $derived({ inputShape: this.inputShape, layers: this.items.map((i) => i.layer) });
  /** Recomputed on every edit: the engine's shapes, params and the first error. */
  check = $derived(inferForBuilder($state.snapshot(this.spec) as ModelSpec, this.dataset ? this.dataset.classNames.length : null));
  templates = $state.raw<Template[]>([]);
  form = $state<RunForm>(newRunForm());
  starting = $state(false);
  /** Why the last start was refused (the range check here, or the service), with the layer or field it names. */
  refusal = $state<Refusal | null>(null);
  /** The template the stack was last set from (null: none chosen yet). */
  templateName = $state<string | null>(null);
  /** The chosen template when the stack no longer is its network (an undo back to it makes it unmodified again). */
  modifiedFrom = $derived.by(() => {
    const t = this.templates.find((x) => x.name === this.templateName);
    if (!t) return null;
    return canonicalJson($state.snapshot(this.spec)) === canonicalJson(t.spec) ? null : t.name;
  });
  readonly history = new UndoHistory<StackSnapshot>();

  constructor(private readonly client: Client, private readonly datasets: DatasetsState) {}

  /** Picks the first dataset and the reference template when nothing is being edited yet. */
  async ensureStarted(): Promise<void> {
    if (this.datasetId === null && this.datasets.list[0]) await this.useDataset(this.datasets.list[0].id);
    else if (this.templates.length === 0) await this.loadTemplates();
    if (this.items.length === 0 && this.templates[0]) {
      this.applyTemplate(this.templates[0].name);
      this.history.clear(); // the first stack is where the history starts, not a step to undo
    }
  }

  async useDataset(id: number): Promise<void> {
    this.datasetId = id;
    const d = this.datasets.list.find((x) => x.id === id);
    if (d) {
      this.inputShape = [...d.shape];
      const last = this.items[this.items.length - 1];
      if (last && isClassifier(last.layer) && last.layer.type === 'dense') last.layer.units = d.classNames.length;
    }
    // Snapshots were sized to the other dataset's images and classes: this dataset starts a new history.
    this.history.clear();
    await this.loadTemplates();
  }

  async loadTemplates(): Promise<void> {
    const result = await this.client.call('templates', this.datasetId !== null ? { datasetId: this.datasetId } : {});
    if (result.ok) this.templates = result.value;
  }

  applyTemplate(name: string): void {
    const t = this.templates.find((x) => x.name === name);
    if (!t) return;
    this.record(true);
    this.templateName = t.name;
    this.inputShape = [...t.spec.inputShape];
    this.items = itemsOf(t.spec);
    // its recommended recipe over the defaults (the CLI's --model NAME does the same)
    this.form.hyperparameters = mergeHyperparameters(DEFAULT_HYPERPARAMETERS, t.hyperparameters ?? {});
    this.refusal = null;
  }

  /** Where the palette inserts by default: just before the classifier head, where a layer keeps the model valid. */
  get defaultInsertIndex(): number {
    return isClassifier(this.items[this.items.length - 1]?.layer) ? this.items.length - 1 : this.items.length;
  }

  addLayer(type: LayerType): void {
    this.insertLayer(type, this.defaultInsertIndex);
  }

  /** A new layer of `type` at position `at` (0 = first; the length = last). */
  insertLayer(type: LayerType, at: number): void {
    this.record();
    this.items.splice(Math.max(0, Math.min(at, this.items.length)), 0, { key: nextKey++, layer: defaultLayer(type) });
  }

  removeLayer(index: number): void {
    if (!this.items[index]) return;
    this.record();
    this.items.splice(index, 1);
  }

  moveLayer(index: number, by: -1 | 1): void {
    this.moveLayerTo(index, index + by);
  }

  /** Moves layer `from` so that it ends up at index `to` (a drag drops it there; the arrows move it by one). */
  moveLayerTo(from: number, to: number): void {
    if (from === to || !this.items[from] || to < 0 || to >= this.items.length) return;
    this.record();
    const [item] = this.items.splice(from, 1);
    this.items.splice(to, 0, item!);
  }

  /** One field of layer `index` (what its card's input binds to); typing into one field is one undo step. */
  setLayerField(index: number, field: string, value: unknown): void {
    const item = this.items[index];
    if (!item) return;
    const layer = item.layer as unknown as Record<string, unknown>;
    if (layer[field] === value) return;
    this.record(false, `${item.key}.${field}`);
    if (value === undefined) delete layer[field];
    else layer[field] = value;
  }

  /** The field's change event: the next edit of it is a step of its own. */
  settleEdit(): void {
    this.history.settle();
  }

  undo(): void {
    const next = this.history.nextUndo;
    const before = next && this.history.undo(this.snapshot(next.hyperparameters !== undefined));
    if (before) this.restore(before);
  }

  redo(): void {
    const next = this.history.nextRedo;
    const after = next && this.history.redo(this.snapshot(next.hyperparameters !== undefined));
    if (after) this.restore(after);
  }

  private snapshot(withHyperparameters: boolean): StackSnapshot {
    return {
      inputShape: [...this.inputShape],
      items: $state.snapshot(this.items) as LayerItem[],
      templateName: this.templateName,
      ...(withHyperparameters ? { hyperparameters: $state.snapshot(this.form.hyperparameters) as Hyperparameters } : {}),
    };
  }

  /** Before an edit: what it changes, for undo (a template's recipe changes the form too). */
  private record(withHyperparameters = false, run: string | null = null): void {
    this.history.record(this.snapshot(withHyperparameters), run);
  }

  private restore(s: StackSnapshot): void {
    this.inputShape = [...s.inputShape];
    // the same keys: each card keeps its element (and the focus inside it)
    this.items = s.items.map((i) => ({ key: i.key, layer: structuredClone(i.layer) }));
    this.templateName = s.templateName;
    if (s.hyperparameters) this.form.hyperparameters = structuredClone(s.hyperparameters);
    this.refusal = null;
  }

  async start(): Promise<RunSummary | null> {
    if (this.datasetId === null) {
      this.refusal = { message: 'choose a dataset first', layerIndex: null, field: null };
      return null;
    }
    const form = $state.snapshot(this.form) as RunForm;
    // The contract's ranges, checked before asking (an emptied number field is null here); what
    // depends on the dataset (shift, split) only the service knows, and its refusal lands the same way.
    const local = firstRangeProblem(form.hyperparameters);
    if (local) {
      this.refusal = { message: local.message, layerIndex: null, field: local.field };
      return null;
    }
    this.starting = true;
    this.refusal = null;
    const result = await this.client.call('startRun', {
      datasetId: this.datasetId, spec: $state.snapshot(this.spec) as ModelSpec, hyperparameters: form.hyperparameters,
      ...(form.name.trim() ? { name: form.name.trim() } : {}),
    });
    this.starting = false;
    if (!result.ok) {
      this.refusal = { message: result.error.message, layerIndex: result.error.detail?.layerIndex ?? null, field: formField(result.error.detail?.field) };
      return null;
    }
    return result.value;
  }
}
