/** The reference kernel set: the naive loops, readable, and the oracle for any faster set. */
import { referenceAdamUpdate } from './adam.js';
import { activationBackward, activationForward } from './activations.js';
import { avgpool2dBackward, avgpool2dForward } from './avgpool2d.js';
import { batchnormAffine, batchnormBackward, batchnormBackwardSums, batchnormSquares, batchnormSums } from './batchnorm.js';
import { conv2dBackward, conv2dForward } from './conv2d.js';
import { denseBackward, denseForward } from './dense.js';
import { maxpool2dBackward, maxpool2dForward } from './maxpool2d.js';
import type { Kernels } from './types.js';

export const referenceKernels: Kernels = {
  name: 'reference',
  conv2dForward,
  conv2dBackward,
  denseForward,
  denseBackward,
  maxpool2dForward,
  maxpool2dBackward,
  avgpool2dForward,
  avgpool2dBackward,
  activationForward,
  activationBackward,
  batchnormSums,
  batchnormSquares,
  batchnormAffine,
  batchnormBackwardSums,
  batchnormBackward,
  adamUpdate: referenceAdamUpdate,
};
