/**
 * The builder: a ModelSpec being edited (layer cards with stable keys for reordering), the
 * hyperparameter form, and starting a run. Shapes come from the engine's inferShapes on every edit.
 */
import { client, type HyperparameterInput, type ModelSpec, type RunSummary } from '../lib/api.js';
import { defaultLayer, inferForBuilder, type LayerSpec, type LayerType } from '../lib/spec-edit.js';
import { datasets } from './datasets.svelte.js';

export interface LayerItem {
  key: number;
  layer: LayerSpec;
}

export interface HyperparameterForm {
  name: string;
  epochs: number;
  batchSize: number;
  optimizer: 'sgd' | 'adam';
  learningRate: number;
  momentum: number;
  seed: number;
  validationSplit: number;
  /** null or 0 = no early stopping. */
  patience: number | null;
  flipHorizontal: boolean;
  maxShift: number;
  /** null = every training image. */
  trainLimit: number | null;
  kernels: 'fast' | 'reference';
  threads: number;
  progressEvery: number;
}

export const DEFAULT_FORM: HyperparameterForm = {
  name: '', epochs: 5, batchSize: 32, optimizer: 'sgd', learningRate: 0.01, momentum: 0.9, seed: 0, validationSplit: 0.1,
  patience: null, flipHorizontal: false, maxShift: 0, trainLimit: null, kernels: 'fast', threads: 2, progressEvery: 5,
};

export interface Template {
  name: string;
  description: string;
  spec: ModelSpec;
}

let nextKey = 1;
const itemsOf = (spec: ModelSpec): LayerItem[] => spec.layers.map((layer) => ({ key: nextKey++, layer: structuredClone(layer) }));

const isClassifier = (l: LayerSpec | undefined) => l?.type === 'dense' && (l.activation ?? 'softmax') === 'softmax';

export function formToInput(f: HyperparameterForm): HyperparameterInput {
  const input: HyperparameterInput = {
    epochs: f.epochs, batchSize: f.batchSize, seed: f.seed, validationSplit: f.validationSplit,
    optimizer: f.optimizer === 'sgd' ? { type: 'sgd', learningRate: f.learningRate, momentum: f.momentum } : { type: 'adam', learningRate: f.learningRate },
    augment: { flipHorizontal: f.flipHorizontal, maxShift: f.maxShift },
    earlyStopping: f.patience ? { patience: f.patience } : null,
    trainLimit: f.trainLimit || null,
    kernels: f.kernels, threads: f.threads, progressEvery: f.progressEvery,
  };
  return input;
}

class BuilderState {
  datasetId = $state<number | null>(null);
  dataset = $derived(datasets.list.find((d) => d.id === this.datasetId) ?? null);
  inputShape = $state<[number, number, number]>([28, 28, 1]);
  items = $state<LayerItem[]>([]);
  spec: ModelSpec = $derived({ inputShape: this.inputShape, layers: this.items.map((i) => i.layer) });
  /** Recomputed on every edit: the engine's shapes, params and the first error. */
  check = $derived(inferForBuilder($state.snapshot(this.spec) as ModelSpec, this.dataset ? this.dataset.classNames.length : null));
  templates = $state.raw<Template[]>([]);
  form = $state<HyperparameterForm>({ ...DEFAULT_FORM });
  starting = $state(false);
  /** The service's refusal (spec or hyperparameters), with the layer or field it names. */
  refusal = $state<{ message: string; layerIndex: number | null; field: string | null } | null>(null);

  /** Picks the first dataset and the reference template when nothing is being edited yet. */
  async ensureStarted(): Promise<void> {
    if (this.datasetId === null && datasets.list[0]) await this.useDataset(datasets.list[0].id);
    else if (this.templates.length === 0) await this.loadTemplates();
    if (this.items.length === 0 && this.templates[0]) this.applyTemplate(this.templates[0].name);
  }

  async useDataset(id: number): Promise<void> {
    this.datasetId = id;
    const d = datasets.list.find((x) => x.id === id);
    if (d) {
      this.inputShape = [...d.shape];
      const last = this.items[this.items.length - 1];
      if (last && isClassifier(last.layer) && last.layer.type === 'dense') last.layer.units = d.classNames.length;
    }
    await this.loadTemplates();
  }

  async loadTemplates(): Promise<void> {
    const result = await client.call('templates', this.datasetId !== null ? { datasetId: this.datasetId } : {});
    if (result.ok) this.templates = result.value;
  }

  applyTemplate(name: string): void {
    const t = this.templates.find((x) => x.name === name);
    if (!t) return;
    this.inputShape = [...t.spec.inputShape];
    this.items = itemsOf(t.spec);
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
    this.starting = true;
    this.refusal = null;
    const form = $state.snapshot(this.form);
    const result = await client.call('startRun', {
      datasetId: this.datasetId, spec: $state.snapshot(this.spec) as ModelSpec, hyperparameters: formToInput(form),
      ...(form.name.trim() ? { name: form.name.trim() } : {}),
    });
    this.starting = false;
    if (!result.ok) {
      this.refusal = { message: result.error.message, layerIndex: result.error.detail?.layerIndex ?? null, field: result.error.detail?.field ?? null };
      return null;
    }
    return result.value;
  }
}

export const builder = new BuilderState();
