/**
 * The builder: a ModelSpec being edited (layer cards with stable keys for reordering), the
 * hyperparameter form, and starting a run. Shapes come from the engine's inferShapes on every edit.
 */
import { DEFAULT_HYPERPARAMETERS, firstRangeProblem, mergeHyperparameters, type TemplateInfo } from '../../../src-main/contract/index.js';
import type { Client, Hyperparameters, ModelSpec, RunSummary } from '../lib/api.js';
import { formField } from '../lib/hyperparameter-form.js';
import { defaultLayer, inferForBuilder, type LayerSpec, type LayerType } from '../lib/spec-edit.js';
import type { DatasetsState } from './datasets.svelte.js';

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

  constructor(private readonly client: Client, private readonly datasets: DatasetsState) {}

  /** Picks the first dataset and the reference template when nothing is being edited yet. */
  async ensureStarted(): Promise<void> {
    if (this.datasetId === null && this.datasets.list[0]) await this.useDataset(this.datasets.list[0].id);
    else if (this.templates.length === 0) await this.loadTemplates();
    if (this.items.length === 0 && this.templates[0]) this.applyTemplate(this.templates[0].name);
  }

  async useDataset(id: number): Promise<void> {
    this.datasetId = id;
    const d = this.datasets.list.find((x) => x.id === id);
    if (d) {
      this.inputShape = [...d.shape];
      const last = this.items[this.items.length - 1];
      if (last && isClassifier(last.layer) && last.layer.type === 'dense') last.layer.units = d.classNames.length;
    }
    await this.loadTemplates();
  }

  async loadTemplates(): Promise<void> {
    const result = await this.client.call('templates', this.datasetId !== null ? { datasetId: this.datasetId } : {});
    if (result.ok) this.templates = result.value;
  }

  applyTemplate(name: string): void {
    const t = this.templates.find((x) => x.name === name);
    if (!t) return;
    this.inputShape = [...t.spec.inputShape];
    this.items = itemsOf(t.spec);
    // its recommended recipe over the defaults (the CLI's --model NAME does the same)
    this.form.hyperparameters = mergeHyperparameters(DEFAULT_HYPERPARAMETERS, t.hyperparameters ?? {});
    this.refusal = null;
  }

  /** New layers go just before the classifier head, where they keep the model valid. */
  addLayer(type: LayerType): void {
    const item = { key: nextKey++, layer: defaultLayer(type) };
    const at = isClassifier(this.items[this.items.length - 1]?.layer) ? this.items.length - 1 : this.items.length;
    this.items.splice(at, 0, item);
  }

  removeLayer(index: number): void {
    this.items.splice(index, 1);
  }

  moveLayer(index: number, by: -1 | 1): void {
    const to = index + by;
    if (to < 0 || to >= this.items.length) return;
    const [item] = this.items.splice(index, 1);
    this.items.splice(to, 0, item!);
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
