/**
 * Shape inference and validation of a ModelSpec: pure, cheap, run by the builder on every keystroke
 * and by buildModel before anything is allocated.
 */
import { denseActivation, pair, samePadding, type LayerSpec, type ModelSpec } from './spec.js';

type Shape3Like = readonly [number, number, number];

export interface LayerShape {
  index: number;
  type: LayerSpec['type'];
  /** "conv2d #2" — how messages and the UI name the layer (1-based). */
  label: string;
  inputShape: [number, number, number];
  outputShape: [number, number, number];
  params: number;
  /** Multiply-adds per image in the forward pass. */
  macs: number;
}

export interface ShapeReport {
  ok: boolean;
  layers: LayerShape[];
  outputShape: [number, number, number] | null;
  classes: number | null;
  totalParams: number;
  totalMacs: number;
  /** Set when ok is false: the first problem, naming the layer and the numbers. */
  error?: { layerIndex: number | null; message: string };
}

export class SpecError extends Error {
  constructor(message: string, readonly layerIndex: number | null = null) {
    super(message);
    this.name = 'SpecError';
  }
}

const dims = (s: Shape3Like) => `${s[0]}×${s[1]}×${s[2]}`;
const isPosInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;

function checkPair(label: string, name: string, v: unknown): [number, number] {
  const ok = isPosInt(v) || (Array.isArray(v) && v.length === 2 && isPosInt(v[0]) && isPosInt(v[1]));
  if (!ok) throw new SpecError(`${label}: ${name} must be a positive integer or [h, w] of positive integers, got ${JSON.stringify(v)}`);
  return pair(v as number | [number, number]);
}

/** Geometry of one conv layer, shared by shape inference and the layer itself. */
export interface ConvGeometry {
  kh: number; kw: number; sh: number; sw: number;
  padTop: number; padBottom: number; padLeft: number; padRight: number;
  oh: number; ow: number;
}

export function convGeometry(label: string, spec: { kernelSize: unknown; stride?: unknown; padding?: unknown }, input: Shape3Like): ConvGeometry {
  const [kh, kw] = checkPair(label, 'kernelSize', spec.kernelSize);
  const [sh, sw] = checkPair(label, 'stride', spec.stride ?? 1);
  const padding = spec.padding ?? 'valid';
  if (padding !== 'valid' && padding !== 'same') throw new SpecError(`${label}: padding must be 'valid' or 'same', got ${JSON.stringify(padding)}`);
  const [H, W] = input;
  let padTop = 0, padBottom = 0, padLeft = 0, padRight = 0;
  if (padding === 'same') {
    [padTop, padBottom] = samePadding(H, kh, sh);
    [padLeft, padRight] = samePadding(W, kw, sw);
  }
  if (kh > H + padTop + padBottom || kw > W + padLeft + padRight) {
    throw new SpecError(`${label}: kernel ${kh}×${kw} does not fit input ${dims(input)}`);
  }
  const oh = Math.floor((H + padTop + padBottom - kh) / sh) + 1;
  const ow = Math.floor((W + padLeft + padRight - kw) / sw) + 1;
  return { kh, kw, sh, sw, padTop, padBottom, padLeft, padRight, oh, ow };
}

export interface PoolGeometry { ph: number; pw: number; sh: number; sw: number; oh: number; ow: number }

export function poolGeometry(label: string, spec: { poolSize: unknown; stride?: unknown }, input: Shape3Like): PoolGeometry {
  const [ph, pw] = checkPair(label, 'poolSize', spec.poolSize);
  const [sh, sw] = checkPair(label, 'stride', spec.stride ?? spec.poolSize);
  const [H, W] = input;
  if (ph > H || pw > W) throw new SpecError(`${label}: pool ${ph}×${pw} does not fit input ${dims(input)}`);
  return { ph, pw, sh, sw, oh: Math.floor((H - ph) / sh) + 1, ow: Math.floor((W - pw) / sw) + 1 };
}

/** Throws SpecError on the first problem; returns the per-layer shapes otherwise. */
export function inferShapesOrThrow(spec: ModelSpec, layers: LayerShape[] = []): ShapeReport {
  if (!spec || typeof spec !== 'object') throw new SpecError('model spec must be an object with inputShape and layers');
  const inShape = spec.inputShape as unknown;
  if (!Array.isArray(inShape) || inShape.length !== 3 || !inShape.every(isPosInt)) {
    throw new SpecError(`inputShape must be [height, width, channels] of positive integers, got ${JSON.stringify(inShape)}`);
  }
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) throw new SpecError('the model has no layers');
  let shape: [number, number, number] = [inShape[0], inShape[1], inShape[2]];
  const counts: Record<string, number> = {};
  spec.layers.forEach((layer, index) => {
    const type = (layer as { type?: unknown })?.type;
    const typeName = typeof type === 'string' ? type : 'layer';
    counts[typeName] = (counts[typeName] ?? 0) + 1;
    const label = `${typeName} #${index + 1}`;
    const isLast = index === spec.layers.length - 1;
    const input = shape;
    let params = 0;
    let macs = 0;
    switch (layer.type) {
      case 'conv2d': {
        if (!isPosInt(layer.filters)) throw new SpecError(`${label}: filters must be a positive integer, got ${JSON.stringify(layer.filters)}`, index);
        const act = layer.activation ?? 'relu';
        if (act !== 'relu' && act !== 'linear') throw new SpecError(`${label}: activation must be 'relu' or 'linear', got ${JSON.stringify(act)}`, index);
        const g = withIndex(index, () => convGeometry(label, layer, input));
        shape = [g.oh, g.ow, layer.filters];
        params = g.kh * g.kw * input[2] * layer.filters + layer.filters;
        macs = g.oh * g.ow * layer.filters * g.kh * g.kw * input[2];
        break;
      }
      case 'maxpool2d': {
        const g = withIndex(index, () => poolGeometry(label, layer, input));
        shape = [g.oh, g.ow, input[2]];
        break;
      }
      case 'flatten':
        shape = [1, 1, input[0] * input[1] * input[2]];
        break;
      case 'dense': {
        if (!isPosInt(layer.units)) throw new SpecError(`${label}: units must be a positive integer, got ${JSON.stringify(layer.units)}`, index);
        if (input[0] !== 1 || input[1] !== 1) {
          throw new SpecError(`${label}: input ${dims(input)} is not flat; add a flatten layer before it`, index);
        }
        const act = denseActivation(layer, isLast);
        if (act !== 'relu' && act !== 'linear' && act !== 'softmax') throw new SpecError(`${label}: activation must be 'relu', 'linear' or 'softmax', got ${JSON.stringify(act)}`, index);
        if (act === 'softmax' && !isLast) throw new SpecError(`${label}: softmax is only allowed on the last layer`, index);
        shape = [1, 1, layer.units];
        params = input[2] * layer.units + layer.units;
        macs = input[2] * layer.units;
        break;
      }
      case 'dropout': {
        const r = layer.rate;
        if (typeof r !== 'number' || !(r >= 0 && r < 1)) throw new SpecError(`${label}: rate must be in [0, 1), got ${JSON.stringify(r)}`, index);
        break;
      }
      default:
        throw new SpecError(`layer #${index + 1}: unknown type ${JSON.stringify(type)} (expected one of conv2d, maxpool2d, flatten, dense, dropout)`, index);
    }
    layers.push({ index, type: type as LayerSpec['type'], label, inputShape: input, outputShape: shape, params, macs });
  });
  const last = spec.layers[spec.layers.length - 1]!;
  if (last.type !== 'dense' || denseActivation(last, true) !== 'softmax') {
    throw new SpecError(`the last layer must be a dense layer with softmax activation (the classifier head); it is ${layers[layers.length - 1]!.label}`, spec.layers.length - 1);
  }
  if (last.units < 2) throw new SpecError(`${layers[layers.length - 1]!.label}: a classifier needs at least 2 units, got ${last.units}`, spec.layers.length - 1);
  return {
    ok: true,
    layers,
    outputShape: shape,
    classes: last.units,
    totalParams: layers.reduce((s, l) => s + l.params, 0),
    totalMacs: layers.reduce((s, l) => s + l.macs, 0),
  };
}

function withIndex<T>(index: number, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SpecError && e.layerIndex === null) throw new SpecError(e.message, index);
    throw e;
  }
}

/** Never throws: the builder shows `error` next to the layer it names, and the shapes of the layers
 *  before it (`layers` holds those that were inferred). */
export function inferShapes(spec: ModelSpec): ShapeReport {
  const layers: LayerShape[] = [];
  try {
    return inferShapesOrThrow(spec, layers);
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    return { ok: false, layers, outputShape: null, classes: null, totalParams: 0, totalMacs: 0, error: { layerIndex: e.layerIndex, message: e.message } };
  }
}
