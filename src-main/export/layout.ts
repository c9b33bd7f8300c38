/**
 * Where each parameter sits in the engine's flat weight buffer, derived from the spec alone (no
 * model is built, so no weights are initialised just to be overwritten). Mirrors src-engine/model.ts:
 * layer order, each conv/dense layer's weight then its bias, named `<type><layer number>.weight|bias`;
 * conv weight (KH, KW, Cin, Cout), dense weight (in, out). A test holds it equal to
 * `Model.parameters()`.
 */
import { inferShapesOrThrow, type ShapeReport } from '../../src-engine/shapes.js';
import { pair, type ModelSpec } from '../../src-engine/spec.js';

export interface ParameterEntry {
  name: string;
  shape: number[];
  /** In float32 elements from the start of the flat buffer (× 4 for bytes). */
  offset: number;
  /** In float32 elements. */
  length: number;
  /** Index of the layer in `spec.layers`. */
  layerIndex: number;
}

export interface ParameterLayout {
  shapes: ShapeReport;
  parameters: ParameterEntry[];
  totalParams: number;
}

export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

/** Throws the engine's SpecError for an invalid spec. */
export function parameterLayout(spec: ModelSpec): ParameterLayout {
  const shapes = inferShapesOrThrow(spec);
  const parameters: ParameterEntry[] = [];
  let offset = 0;
  const add = (name: string, shape: number[], layerIndex: number) => {
    const length = shape.reduce((a, b) => a * b, 1);
    parameters.push({ name, shape, offset, length, layerIndex });
    offset += length;
  };
  spec.layers.forEach((layer, i) => {
    const input = shapes.layers[i]!.inputShape;
    const prefix = `${layer.type}${i + 1}`;
    if (layer.type === 'conv2d') {
      const [kh, kw] = pair(layer.kernelSize);
      add(`${prefix}.weight`, [kh, kw, input[2], layer.filters], i);
      add(`${prefix}.bias`, [layer.filters], i);
    } else if (layer.type === 'dense') {
      add(`${prefix}.weight`, [input[2], layer.units], i);
      add(`${prefix}.bias`, [layer.units], i);
    }
  });
  return { shapes, parameters, totalParams: offset };
}

/** The layout, after checking that `weights` is exactly the spec's parameter count of finite numbers. */
export function checkedLayout(spec: ModelSpec, weights: Float32Array): ParameterLayout {
  const layout = parameterLayout(spec);
  if (!(weights instanceof Float32Array)) throw new ExportError('weights must be a Float32Array (the model\'s flat values buffer)');
  if (weights.length !== layout.totalParams) {
    throw new ExportError(`weights have ${weights.length} values but the spec has ${layout.totalParams} parameters`);
  }
  for (let i = 0; i < weights.length; i++) {
    if (!Number.isFinite(weights[i])) {
      const p = layout.parameters.find((e) => i >= e.offset && i < e.offset + e.length)!;
      throw new ExportError(`weight ${p.name}[${i - p.offset}] is ${weights[i]}; an exported model must have finite weights`);
    }
  }
  return layout;
}
