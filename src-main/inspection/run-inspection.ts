/**
 * What an inspection worker computes, written as a function of the job so tests can call it in
 * process and the worker entry stays a few lines: the snapshot's model is rebuilt, the image is
 * prepared as training saw it (datasets/prepare-image.ts), and the engine's inspection tools
 * (src-engine/inspect) give the numbers. Float arrays leave as base64 of their float32 bytes.
 */
import { buildModel, readTrainerState, resolveKernels, type Model } from '../../src-engine/index.js';
import { featureMaps, filterTiles, stepThrough, type Unit } from '../../src-engine/inspect/index.js';
import type { PreparedImage } from '../contract/index.js';
import { readCache } from '../datasets/cache.js';
import { ImageInputError, prepareImage } from '../datasets/prepare-image.js';
import { gradientCheckResult } from './gradient-check-job.js';
import type { InspectionJob, InspectionMessage, InspectionResults, JobImage } from './protocol.js';
import { saliencyResult } from './saliency-job.js';

const base64 = (a: Uint8Array | Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

function modelOf(job: InspectionJob): Model {
  const { spec, weights } = readTrainerState(job.state);
  const model = buildModel(spec, { kernels: resolveKernels(job.kernels) });
  model.values.set(weights);
  return model;
}

/** The image as uint8 (H, W, C) at the model's input, with what was done to it and its label when it has one. */
async function imageOf(image: JobImage, job: InspectionJob): Promise<{ pixels: Uint8Array; steps: string[]; label: number | null }> {
  const [h, w, c] = job.shape;
  if (image.type === 'dataset') {
    const cache = readCache(image.cacheFile);
    const set = image.split === 'test' ? cache.test : cache.train;
    if (!set || image.index >= set.n) throw new ImageInputError(`the dataset's ${image.split} split has no image ${image.index}`);
    const size = h * w * c;
    return {
      pixels: set.images.slice(image.index * size, (image.index + 1) * size),
      steps: [`image ${image.index} of the ${image.split} split, as the import stored it (${w}×${h}, ${c === 1 ? 'gray' : 'colour'})`, 'scaled 0–255 → 0–1 (÷ 255), as in training'],
      label: set.labels[image.index]!,
    };
  }
  const prepared = await prepareImage(image, job.shape, job.maxPixels);
  return { ...prepared, label: null };
}

const asInput = (pixels: Uint8Array) => Float32Array.from(pixels, (v) => v / 255);

function prepared(job: InspectionJob, image: { pixels: Uint8Array; steps: string[]; label: number | null }): PreparedImage {
  const [height, width, channels] = job.shape;
  return { width, height, channels, base64: base64(image.pixels), steps: image.steps, label: image.label };
}

/** `onProgress`: how far a long inspection (the gradient check) is, as it goes. */
export async function runInspection(job: InspectionJob, onProgress: (done: number, total: number) => void = () => {}): Promise<InspectionResults[InspectionJob['kind']]> {
  // on its own float64 build of the spec, from the snapshot's bytes
  if (job.kind === 'gradientCheck') return gradientCheckResult(job, onProgress);
  const model = modelOf(job);
  if (job.kind === 'filters') {
    const { layers, unsupported } = filterTiles(model);
    return {
      layers: layers.map((l) => ({ ...l, tiles: base64(l.tiles), weights: base64(l.weights), bias: Array.from(l.bias) })),
      unsupported,
    } satisfies InspectionResults['filters'];
  }
  const image = await imageOf(job.image, job);
  const x = asInput(image.pixels);
  if (job.kind === 'predict') {
    const probabilities = Array.from(model.predict(x, 1));
    const ranked = probabilities.map((probability, classIndex) => ({ classIndex, className: job.classNames[classIndex] ?? String(classIndex), probability }))
      .sort((a, b) => b.probability - a.probability || a.classIndex - b.classIndex);
    return { image: prepared(job, image), probabilities, ranked } satisfies InspectionResults['predict'];
  }
  if (job.kind === 'saliency') return saliencyResult(model, x, prepared(job, image), job.classNames, job.classIndex);
  if (job.kind === 'featureMaps') {
    const maps = featureMaps(model, x);
    return {
      image: prepared(job, image),
      probabilities: Array.from(maps.probabilities),
      layers: maps.maps.map((m) => ({
        index: m.index, label: m.label, type: m.type, shape: m.shape, min: m.min, max: m.max,
        values: base64(Float32Array.from(m.values)), receptiveField: m.receptiveField,
      })),
      unsupported: maps.unsupported,
    } satisfies InspectionResults['featureMaps'];
  }
  // the loss is taken against the dataset's label, else the caller's, else the class the model predicts
  let label: number, labelFrom: 'dataset' | 'request' | 'predicted';
  if (image.label !== null) [label, labelFrom] = [image.label, 'dataset'];
  else if (job.label !== undefined) [label, labelFrom] = [job.label, 'request'];
  else {
    const p = model.predict(x, 1);
    [label, labelFrom] = [p.indexOf(Math.max(...p)), 'predicted'];
  }
  if (label >= model.classes) throw new ImageInputError(`label ${label} is not a class of this model (it has ${model.classes})`);
  const units: Record<number, Unit> = {};
  for (const u of job.units ?? []) {
    const layer = model.shapes.layers[u.layer];
    if (!layer) throw new ImageInputError(`units: the model has no layer ${u.layer} (it has ${model.shapes.layers.length})`);
    const [h, w, c] = layer.outputShape;
    if (u.unit[0] >= h || u.unit[1] >= w || u.unit[2] >= c) throw new ImageInputError(`units: ${layer.label} has no unit [${u.unit.join(', ')}]; its output is ${h}×${w}×${c}`);
    units[u.layer] = u.unit;
  }
  return { image: prepared(job, image), classNames: job.classNames, labelFrom, steps: stepThrough(model, x, label, { units }) } satisfies InspectionResults['stepThrough'];
}

/** The worker's one answer to a job; `post` sends progress messages before it. */
export async function inspectionMessage(job: InspectionJob, post: (m: InspectionMessage) => void = () => {}): Promise<InspectionMessage> {
  try {
    return { type: 'inspected', value: await runInspection(job, (done, total) => post({ type: 'progress', done, total })) };
  } catch (e) {
    return { type: 'failed', code: e instanceof ImageInputError ? 'bad_image' : 'error', message: (e as Error)?.message ?? String(e) };
  }
}
