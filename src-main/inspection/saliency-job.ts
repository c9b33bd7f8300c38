/**
 * "Why did it say that": the saliency of one image — the gradient of a class's score (the predicted
 * one unless asked) with respect to its pixels, from the engine's own backward pass — and the three
 * likeliest classes, as the inspection worker answers it.
 */
import type { Model } from '../../src-engine/index.js';
import { saliency } from '../../src-engine/inspect/index.js';
import { ImageInputError } from '../datasets/prepare-image.js';
import type { InspectionResults } from './protocol.js';

const base64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** x: the prepared image (H, W, C) scaled as in training; `image` is what the response shows of it. */
export function saliencyResult(model: Model, x: Float32Array, image: InspectionResults['saliency']['image'], classNames: string[],
  classIndex?: number): InspectionResults['saliency'] {
  if (classIndex !== undefined && classIndex >= model.classes) throw new ImageInputError(`class ${classIndex} is not a class of this model (it has ${model.classes})`);
  const s = saliency(model, x, classIndex);
  const probabilities = Array.from(s.probabilities);
  const top = probabilities.map((probability, i) => ({ classIndex: i, className: classNames[i] ?? String(i), probability }))
    .sort((a, b) => b.probability - a.probability || a.classIndex - b.classIndex).slice(0, 3);
  return { image, classIndex: s.classIndex, predicted: s.predicted, probabilities, top, map: base64(s.map), max: s.max };
}
