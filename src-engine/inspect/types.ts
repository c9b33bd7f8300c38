/**
 * What a layer type tells the inspection tools (filters, feature maps, receptive fields, the
 * step-through, training health) about itself, and the JSON-shaped results they give. A layer
 * module's definition carries its inspector as `inspect` (layers/layer.ts); a type without one is
 * still run and measured, and the tools say which of their views it lacks.
 */
import type { Param } from '../layers/layer.js';
import type { LayerSite } from '../layers/layer.js';
import type { LayerSpec } from '../spec.js';
import type { FloatArray, Shape3 } from '../tensor.js';

/** One axis of a layer's receptive field: output position o reads the input positions
 *  [o·stride + offset, o·stride + offset + size − 1], clamped to the input. */
export interface AxisWindow {
  stride: number;
  offset: number;
  size: number;
}

/** Per axis, or 'whole' when every output reads every input position (dense, flatten). */
export type ReceptiveField = { y: AxisWindow; x: AxisWindow } | 'whole';

/** A unit of a layer's output: row, column, channel (a flat layer's unit o is [0, 0, o]). */
export type Unit = [number, number, number];

/** What a layer's forward and backward saw for one image, as the step-through hands it over. */
export interface LayerIO {
  /** (H, W, C) of one image, the layer's input and output. */
  input: FloatArray;
  output: FloatArray;
  inShape: Shape3;
  outShape: Shape3;
  /** The layer's parameters; `grad` holds this image's gradient once backward ran. */
  params: Param[];
  /** dL/d(output) and dL/d(input), once backward ran. */
  dout?: FloatArray;
  dx?: FloatArray;
}

/** The numbers of one forward step for one output unit (the renderer draws each kind). */
export type ForwardDetail =
  | {
    kind: 'conv';
    unit: Unit;
    kh: number; kw: number; cin: number;
    /** Input row/column of the patch's top-left tap (negative inside the padding). */
    origin: [number, number];
    /** The input patch under the unit, (KH, KW, Cin); taps in the padding read 0 and are listed in `padded`. */
    patch: number[];
    padded: boolean[];
    /** The unit's filter K[:, :, :, k], (KH, KW, Cin). */
    kernel: number[];
    /** Σ_u Σ_v X·K per input channel. */
    channelSums: number[];
    /** Σ patch·kernel, summed in the engine's order and precision. */
    dot: number;
    bias: number;
    /** dot + bias: the pre-activation. */
    z: number;
    activation: string;
    /** The layer's output at the unit, as the engine computed it. */
    a: number;
  }
  | {
    kind: 'maxpool';
    unit: Unit;
    ph: number; pw: number;
    origin: [number, number];
    /** The window (PH, PW) of channel c. */
    window: number[];
    /** Where the maximum is in the window (row, column): the first one, row-major. */
    argmax: [number, number];
    max: number;
    /** The engine's output at the unit. */
    output: number;
  }
  | {
    kind: 'dense';
    unit: Unit;
    inputs: number;
    /** The largest terms a_i·W[i, o] by size, at most 8. */
    terms: { i: number; a: number; w: number; product: number }[];
    dot: number;
    bias: number;
    z: number;
    activation: string;
    a: number;
  }
  | { kind: 'reshape'; from: Shape3; to: Shape3 }
  | { kind: 'identity'; note: string };

/** The numbers of one backward step for the same unit. */
export type BackwardDetail =
  | {
    kind: 'conv';
    unit: Unit;
    /** dL/dA at the unit (what the next layer sent back). */
    dA: number;
    /** The activation's derivative at the unit (ReLU: 1 where A > 0, else 0). */
    slope: number;
    /** dL/dZ = dA · slope. */
    dZ: number;
    /** This unit's share of dL/dK[:, :, :, k]: patch · dZ. */
    patchTimesDZ: number[];
    /** dL/dK[:, :, :, k] over every position (the engine's gradient), (KH, KW, Cin). */
    dK: number[];
    /** dL/db_k (the engine's), = Σ_{i,j} dZ[i, j, k]. */
    db: number;
    /** Σ_{i,j} dZ[i, j, k], summed here from dZ: equals db. */
    dZSum: number;
    /** This unit's share of dL/dX over its patch: K[:, :, :, k] · dZ. */
    kernelTimesDZ: number[];
    /** dL/dX over the patch (the engine's, every unit's share), (KH, KW, Cin); padding taps 0. */
    dXPatch: number[];
  }
  | {
    kind: 'maxpool';
    unit: Unit;
    dY: number;
    argmax: [number, number];
    /** dL/dX over the window (PH, PW) as the engine routed it: dY at the maximum, 0 elsewhere
     *  (plus what overlapping windows send). */
    routed: number[];
  }
  | {
    kind: 'dense';
    unit: Unit;
    /** dL/dz at the unit (the head: p − onehot). */
    dz: number;
    slope: number;
    db: number;
    /** dL/dW[i, o] for the largest terms, = a_i · dz. */
    terms: { i: number; a: number; dW: number }[];
    /** |dL/da|: the size of what goes on to the layer before. */
    daNorm: number;
  }
  | { kind: 'reshape'; from: Shape3; to: Shape3 }
  | { kind: 'identity'; note: string };

/** A conv layer's filters: weight (KH, KW, Cin, Cout), as the parameter is laid out. */
export interface FilterBank {
  kh: number;
  kw: number;
  cin: number;
  cout: number;
  weight: FloatArray;
  bias: FloatArray;
}

/**
 * Everything a layer type tells the inspection tools, in its own module beside the layer
 * (layers/<type>-inspect.ts); layers/layer.ts's LayerDefinition carries it as `inspect`.
 */
export interface LayerInspector<S extends LayerSpec = LayerSpec> {
  /** How the layer's output positions read its input's; feature-map clicks and the step-through use it. */
  receptiveField(spec: S, site: LayerSite): ReceptiveField;
  /** Its output is a spatial map worth drawing (conv, pooling). */
  readonly featureMaps: boolean;
  /** Its output is a ReLU's: training health counts its units that stay 0 (dead). */
  rectified(spec: S, site: LayerSite): boolean;
  /** A conv layer's filters. */
  filters?(spec: S, site: LayerSite, params: Param[]): FilterBank;
  /** The step-through's forward numbers for one output unit; io holds one image. */
  forward(spec: S, site: LayerSite, io: LayerIO, unit: Unit): ForwardDetail;
  /** Its backward numbers for the same unit, once io has dout and dx. */
  backward(spec: S, site: LayerSite, io: LayerIO, unit: Unit): BackwardDetail;
  /** The seed document's formulas for this step, forward and backward, as plain text. */
  formulas(spec: S, site: LayerSite): { forward: string[]; backward: string[] };
}
