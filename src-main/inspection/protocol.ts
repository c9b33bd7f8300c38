/**
 * Messages between the service and an inspection worker: the snapshot's trainer-state bytes, the
 * image to look at (resolved by the service: file bytes, drawn pixels, or an image of a dataset's
 * cache file) and what to compute. The worker answers once, with the response's body.
 */
import type { FeatureMapsResponse, FiltersResponse, InspectedSnapshot, KernelChoice, PredictResponse, StepThroughResponse, Unit } from '../contract/index.js';
import type { GradientCheckResponse, SaliencyResponse } from '../contract/index.js';
import type { ImageSource } from '../datasets/prepare-image.js';

/** The image to inspect, as the worker reads it. */
export type JobImage = ImageSource | { type: 'dataset'; cacheFile: string; split: 'train' | 'test'; index: number };

interface JobBase {
  state: Uint8Array;
  kernels: KernelChoice;
  classNames: string[];
  /** The model's input (H, W, C). */
  shape: [number, number, number];
  /** The import's per-image pixel limit: a dropped file is refused from its header above it. */
  maxPixels: number;
}

export type InspectionJob = JobBase & (
  | { kind: 'predict'; image: JobImage }
  | { kind: 'featureMaps'; image: JobImage }
  | { kind: 'filters' }
  | { kind: 'stepThrough'; image: JobImage; label?: number; units?: { layer: number; unit: Unit }[] }
  | { kind: 'saliency'; image: JobImage; classIndex?: number }
  /** The first `samples` images of the dataset's test split (else its training split). */
  | { kind: 'gradientCheck'; cacheFile: string; samples: number; entriesPerParameter: number }
);

export type InspectionKind = InspectionJob['kind'];

/** A response without the snapshot fields, which the service adds. */
type Body<R> = Omit<R, keyof InspectedSnapshot>;
export interface InspectionResults {
  predict: Body<PredictResponse>;
  featureMaps: Body<FeatureMapsResponse>;
  filters: Body<FiltersResponse>;
  stepThrough: Body<StepThroughResponse>;
  saliency: Body<SaliencyResponse>;
  gradientCheck: Body<GradientCheckResponse>;
}

export type InspectionMessage =
  | { type: 'inspected'; value: InspectionResults[InspectionKind] }
  /** Before the answer, from a long one (the gradient check): how far it is. */
  | { type: 'progress'; done: number; total: number }
  /** 'bad_image': the image cannot be read or is too large (the caller's to fix); else a failure of ours. */
  | { type: 'failed'; code: 'bad_image' | 'error'; message: string };
