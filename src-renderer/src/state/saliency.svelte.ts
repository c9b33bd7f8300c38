/**
 * "Why did it say that" for the image being tried in Look inside: the saliency map of the class it
 * predicted (or one chosen) and its top-3 probabilities, from the service's inspection worker. An
 * answer to an older question (another image, snapshot or class) is dropped.
 */
import type { SaliencyResponse } from '../../../src-main/contract/index.js';
import { messageOf, type Client, type ImageInput } from '../lib/api.js';

export class SaliencyState {
  result = $state.raw<SaliencyResponse | null>(null);
  /** The class explained; null = the predicted one. */
  classIndex = $state<number | null>(null);
  /** How strongly the heat map covers the image, 0..1. */
  opacity = $state(0.6);
  busy = $state(false);
  error = $state<string | null>(null);
  private asked = 0;

  constructor(private readonly client: Client) {}

  reset(): void {
    this.asked++;
    this.result = null;
    this.busy = false;
    this.error = null;
  }

  async explain(target: { runId: number; snapshotId?: number }, image: ImageInput): Promise<void> {
    const question = ++this.asked;
    this.busy = true;
    this.error = null;
    const classIndex = this.classIndex;
    try {
      const r = await this.client.get('saliency', { ...target, image, ...(classIndex !== null ? { classIndex } : {}) });
      if (question === this.asked) this.result = r;
    } catch (e) {
      if (question === this.asked) this.error = messageOf(e);
    } finally {
      if (question === this.asked) this.busy = false;
    }
  }
}

/** The saliency map as RGBA: a "hot" colour ramp, transparent where the gradient is small. */
export function heatPixels(map: Float32Array, max: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(map.length * 4);
  for (let i = 0; i < map.length; i++) {
    const v = max > 0 ? Math.min(1, map[i]! / max) : 0;
    out[4 * i] = 255;
    out[4 * i + 1] = Math.round(255 * Math.max(0, v * 1.6 - 0.6));
    out[4 * i + 2] = Math.round(255 * Math.max(0, v * 2.5 - 1.5));
    out[4 * i + 3] = Math.round(255 * Math.sqrt(v));
  }
  return out;
}
