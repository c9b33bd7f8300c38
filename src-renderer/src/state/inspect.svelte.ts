/**
 * Looking inside the selected run: the image being tried (a drawing, a dropped or chosen file, or
 * one of the dataset's images), the snapshot it is tried on, and what the service's inspection
 * workers answered — the class probabilities and what was done to the image, the feature maps, the
 * filters and the step-through. Each answer is kept only if it is still for what is shown: a newer
 * image or another snapshot makes an older, slower answer stale.
 */
import {
  messageOf, type Client, type FeatureMapsResponse, type FiltersResponse, type ImageInput, type PredictResponse, type StepThroughResponse,
} from '../lib/api.js';
import type { RunsState } from './runs.svelte.js';

/** A feature-map unit: its layer's index and (row, column, channel). */
export type SelectedUnit = { layer: number; unit: [number, number, number] };

export class InspectState {
  /** The snapshot looked at; null = the run's latest. */
  snapshotId = $state<number | null>(null);
  image = $state.raw<ImageInput | null>(null);
  /** Words for the image: "drawn", the file's name, "test image 12". */
  imageName = $state('');
  prediction = $state.raw<PredictResponse | null>(null);
  maps = $state.raw<FeatureMapsResponse | null>(null);
  filters = $state.raw<FiltersResponse | null>(null);
  steps = $state.raw<StepThroughResponse | null>(null);
  /** The feature-map unit whose receptive field is highlighted on the input. */
  unit = $state.raw<SelectedUnit | null>(null);
  busy = $state({ predict: false, maps: false, filters: false, steps: false });
  error = $state<string | null>(null);
  /** Per kind of answer, the latest question asked; an answer to an older one is dropped. */
  private asked = { predict: 0, maps: 0, filters: 0, steps: 0 };

  constructor(private readonly client: Client, private readonly runs: RunsState) {}

  private get target(): { runId: number; snapshotId?: number } | null {
    const runId = this.runs.selectedId;
    if (runId === null) return null;
    return this.snapshotId !== null ? { runId, snapshotId: this.snapshotId } : { runId };
  }

  /** Another run or snapshot: everything shown is for the old one. */
  reset(snapshotId: number | null = null): void {
    for (const k of Object.keys(this.asked) as (keyof InspectState['busy'])[]) this.asked[k]++;
    this.snapshotId = snapshotId;
    this.prediction = this.maps = this.steps = this.filters = null;
    this.error = null;
  }

  /** Tries an image: its probabilities and its feature maps (the step-through waits to be asked). */
  async tryImage(image: ImageInput, name: string): Promise<void> {
    this.image = image;
    this.imageName = name;
    this.steps = null;
    this.unit = null;
    await Promise.all([this.predict(), this.loadMaps()]);
  }

  /** The same image again, on the snapshot now chosen (and its filters). */
  async refresh(): Promise<void> {
    const jobs: Promise<void>[] = [this.loadFilters()];
    if (this.image) jobs.push(this.predict(), this.loadMaps());
    if (this.image && this.steps) jobs.push(this.stepThrough());
    await Promise.all(jobs);
  }

  async loadFilters(): Promise<void> {
    const target = this.target;
    if (!target) return;
    await this.ask('filters', () => this.client.get('inspectFilters', target), (v) => (this.filters = v));
  }

  async stepThrough(units?: { layer: number; unit: [number, number, number] }[]): Promise<void> {
    const target = this.target;
    if (!target || !this.image) return;
    const image = this.image;
    await this.ask('steps', () => this.client.get('stepThrough', { ...target, image, ...(units ? { units } : {}) }), (v) => (this.steps = v));
  }

  private async predict(): Promise<void> {
    const target = this.target;
    if (!target || !this.image) return;
    const image = this.image;
    await this.ask('predict', () => this.client.get('predict', { ...target, image }), (v) => (this.prediction = v));
  }

  private async loadMaps(): Promise<void> {
    const target = this.target;
    if (!target || !this.image) return;
    const image = this.image;
    await this.ask('maps', () => this.client.get('featureMaps', { ...target, image }), (v) => (this.maps = v));
  }

  private async ask<T>(what: keyof InspectState['busy'], call: () => Promise<T>, keep: (value: T) => void): Promise<void> {
    const question = ++this.asked[what];
    this.busy[what] = true;
    this.error = null;
    try {
      const value = await call();
      if (question === this.asked[what]) keep(value);
    } catch (e) {
      if (question === this.asked[what]) this.error = messageOf(e);
    } finally {
      if (question === this.asked[what]) this.busy[what] = false;
    }
  }
}

/** Base64 → bytes. */
export function bytesOf(base64: string): Uint8Array {
  const s = atob(base64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Base64 of little-endian float32 bytes → floats. */
export function floatsOf(base64: string): Float32Array {
  const b = bytesOf(base64);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/** Bytes → base64 (drawn pixels, dropped files). */
export function base64Of(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
