/** What the inspection tools know of a flatten layer: a reshape, the seed's vec(X) and its inverse. */
import type { LayerInspector } from '../inspect/types.js';
import type { FlattenSpec } from '../spec.js';

export const flattenInspector: LayerInspector<FlattenSpec> = {
  receptiveField: () => 'whole',
  featureMaps: false,
  rectified: () => false,
  forward: (_spec, _site, io) => ({ kind: 'reshape', from: io.inShape, to: io.outShape }),
  backward: (_spec, _site, io) => ({ kind: 'reshape', from: io.outShape, to: io.inShape }),
  formulas: () => ({
    forward: ['Y = vec(X),   |Y| = H · W · C   (H, W, C order: the bytes do not move)'],
    backward: ['∂L/∂X = reshape(∂L/∂Y, shape(X))'],
  }),
};
