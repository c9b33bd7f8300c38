/**
 * A saliency map (Simonyan et al., 2014): the gradient of one class's score — its logit, before the
 * softmax — with respect to the input pixels, from the model's own backward pass in inference mode;
 * per pixel the largest |∂z_c/∂x| over the channels.
 */
import { softmax } from '../kernels/activations.js';
import type { Model } from '../model.js';
import { allocFloat, type FloatArray } from '../tensor.js';

export interface Saliency {
  /** The class whose score was differentiated: the predicted one unless asked for another. */
  classIndex: number;
  predicted: number;
  probabilities: FloatArray;
  /** (H, W): max over channels of |∂z_class / ∂x|. */
  map: Float32Array;
  max: number;
}

/** x: one (H, W, C) image in the model's dtype. The model's gradients are scratch afterwards. */
export function saliency(model: Model<FloatArray>, x: FloatArray, classIndex?: number): Saliency {
  // it calls each layer's backward itself, so the forward runs each layer on its own too
  return model.unfused(() => saliencyOf(model, x, classIndex));
}

function saliencyOf(model: Model<FloatArray>, x: FloatArray, classIndex?: number): Saliency {
  const logits = model.forward(x, 1, false);
  const k = model.classes;
  const probabilities = allocFloat(model.dtype, k);
  softmax(1, k, logits, probabilities);
  let predicted = 0;
  for (let j = 1; j < k; j++) if (logits[j]! > logits[predicted]!) predicted = j;
  const target = classIndex ?? predicted;
  if (!Number.isInteger(target) || target < 0 || target >= k) throw new RangeError(`class ${target} is not one of the model's ${k} classes`);
  // d(z_target)/d(logits) = onehot(target), sent back through every layer
  let d: FloatArray | null = allocFloat(model.dtype, k);
  d[target] = 1;
  model.grads.fill(0);
  for (let i = model.layers.length - 1; i >= 0 && d; i--) d = model.layers[i]!.backward(d, 1, true);
  model.grads.fill(0);
  const [h, w, c] = model.spec.inputShape;
  const map = new Float32Array(h * w);
  let max = 0;
  for (let p = 0; p < h * w; p++) {
    let m = 0;
    for (let ch = 0; ch < c; ch++) m = Math.max(m, Math.abs(d![p * c + ch]!));
    map[p] = m;
    if (m > max) max = m;
  }
  return { classIndex: target, predicted, probabilities, map, max };
}
