/**
 * conv2d: 2-D convolution (cross-correlation) + an activation (ReLU by default), seed semantics plus
 * padding. Validation and geometry, parameters and their init, the layer, its description and its
 * ONNX Conv.
 */
import { initWeight } from '../init.js';
import type { ConvShape } from '../kernels/types.js';
import type { OnnxNode } from '../onnx-graph.js';
import { pair, samePadding, type Activation, type Conv2dSpec } from '../spec.js';
import { ensureCapacity, type FloatArray, type Shape3 } from '../tensor.js';
import { ActivationStep, activationOnnx, checkActivation, DEFAULT_ALPHA, describeActivation, initGain } from './activation.js';
import { checkPair, checkPresent, dims, isPosInt, SpecError } from './checks.js';
import type { Layer, LayerContext, LayerDefinition, Param } from './layer.js';
import { conv2dInspector } from './conv2d-inspect.js';
import { MaxPool2d } from './maxpool2d.js';

/** Geometry of one conv layer, shared by shape inference, the layer and its ONNX node. */
export interface ConvGeometry {
  kh: number; kw: number; sh: number; sw: number;
  padTop: number; padBottom: number; padLeft: number; padRight: number;
  oh: number; ow: number;
}

export function convGeometry(label: string, spec: { kernelSize: unknown; stride?: unknown; padding?: unknown }, input: readonly [number, number, number]): ConvGeometry {
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

const activationOf = (spec: Conv2dSpec): Activation => spec.activation ?? 'relu';

/** x: (N, H, W, C)  weight: (KH, KW, C, OC)  bias: (OC)  out: (N, OH, OW, OC) */
export class Conv2d implements Layer {
  readonly outShape: Shape3;
  readonly params: Param[];
  private readonly g: ConvGeometry;
  private readonly act: ActivationStep;
  private input: FloatArray | null = null;
  private n = 0;
  private out: FloatArray | null = null;
  private dx: FloatArray | null = null;
  /** False after forwardThrough: `out` does not hold this pass's output (backwardThrough does not read it). */
  private outFormed = false;

  constructor(readonly label: string, readonly spec: Conv2dSpec, readonly inShape: Shape3,
    readonly weight: Param, readonly bias: Param, private readonly ctx: LayerContext) {
    this.g = convGeometry(label, spec, inShape);
    this.outShape = [this.g.oh, this.g.ow, spec.filters];
    this.act = new ActivationStep(activationOf(spec), spec.alpha ?? DEFAULT_ALPHA, ctx);
    this.params = [weight, bias];
  }

  private shape(n: number): ConvShape {
    const [h, w, c] = this.inShape;
    const g = this.g;
    return { n, h, w, c, oc: this.spec.filters, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, padTop: g.padTop, padLeft: g.padLeft, oh: g.oh, ow: g.ow };
  }

  forward(x: FloatArray, n: number): FloatArray {
    const len = n * this.outShape[0] * this.outShape[1] * this.outShape[2];
    this.out = ensureCapacity(this.out, len, this.ctx.dtype);
    this.ctx.kernels.conv2dForward(this.shape(n), x, this.weight.value, this.bias.value, this.out, this.act.fused);
    this.act.forward(this.out, len);
    this.input = x;
    this.n = n;
    this.outFormed = true;
    return this.out;
  }

  backward(dout: FloatArray, n: number, needInputGrad: boolean): FloatArray | null {
    if (!this.input || !this.out || this.n !== n || !this.outFormed) throw new Error(`${this.label}: backward before forward`);
    // out holds the activation's output whichever way forward ran, so either backward is right
    const dz = this.act.backward(this.out, dout);
    let dx: FloatArray | null = null;
    if (needInputGrad) dx = this.dx = ensureCapacity(this.dx, n * this.inShape[0] * this.inShape[1] * this.inShape[2], this.ctx.dtype);
    this.ctx.kernels.conv2dBackward(this.shape(n), this.input, this.weight.value, dz, this.weight.grad, this.bias.grad, dx, this.act.fused ? this.out : null);
    return dx;
  }

  // conv + ReLU → max pool: the kernels pool each chunk of the conv's output where they computed it,
  // and scatter the pool's gradient into the conv's dout there, so neither the conv's output, the
  // pool's dx nor the ReLU's mask is copied out and back (the reference net's largest buffers)
  fusesWith(next: Layer): boolean {
    const k = this.ctx.kernels;
    return next instanceof MaxPool2d && this.act.fused && k.conv2dReluMaxpoolForward !== undefined && k.conv2dReluMaxpoolBackward !== undefined;
  }

  forwardThrough(next: Layer, x: FloatArray, n: number): FloatArray {
    if (!(next instanceof MaxPool2d)) throw new Error(`${this.label}: fused with a ${next.label}`);
    const { shape, pooled, argmax } = next.outputsFor(n);
    this.ctx.kernels.conv2dReluMaxpoolForward!(this.shape(n), shape, x, this.weight.value, this.bias.value, null, pooled, argmax);
    this.input = x;
    this.n = n;
    this.outFormed = false;
    return pooled;
  }

  backwardThrough(next: Layer, dout: FloatArray, n: number, needInputGrad: boolean): FloatArray | null {
    if (!this.input || this.n !== n || !(next instanceof MaxPool2d)) throw new Error(`${this.label}: backward before forward`);
    const { shape, pooled, argmax } = next.forwardOutputs(n);
    let dx: FloatArray | null = null;
    if (needInputGrad) dx = this.dx = ensureCapacity(this.dx, n * this.inShape[0] * this.inShape[1] * this.inShape[2], this.ctx.dtype);
    this.ctx.kernels.conv2dReluMaxpoolBackward!(this.shape(n), shape, this.input, this.weight.value, dout, argmax, pooled, this.weight.grad, this.bias.grad, dx);
    return dx;
  }
}

/** (KH, KW, Cin, Cout) → (Cout, Cin, KH, KW), ONNX's weight layout. */
function weightToOihw(w: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      for (let ci = 0; ci < cin; ci++) {
        const src = ((ky * kw + kx) * cin + ci) * cout;
        for (let co = 0; co < cout; co++) out[((co * cin + ci) * kh + ky) * kw + kx] = w[src + co]!;
      }
    }
  }
  return out;
}

const pairText = (p: number | [number, number]) => (Array.isArray(p) ? p.join('×') : `${p}×${p}`);

export const conv2dLayer: LayerDefinition<Conv2dSpec> = {
  type: 'conv2d',

  infer(spec, { label, inputShape }) {
    checkPresent(label, 'filters', spec.filters);
    if (!isPosInt(spec.filters)) throw new SpecError(`${label}: filters must be a positive integer, got ${JSON.stringify(spec.filters)}`, null, 'filters');
    checkActivation(label, activationOf(spec), spec.alpha, false);
    const g = convGeometry(label, spec, inputShape);
    const cin = inputShape[2];
    return {
      outputShape: [g.oh, g.ow, spec.filters],
      params: g.kh * g.kw * cin * spec.filters + spec.filters,
      macs: g.oh * g.ow * spec.filters * g.kh * g.kw * cin,
    };
  },

  parameters(spec, { inputShape }) {
    const [kh, kw] = pair(spec.kernelSize);
    return [{ name: 'weight', shape: [kh, kw, inputShape[2], spec.filters] }, { name: 'bias', shape: [spec.filters] }];
  },

  init(spec, _site, [weight], rng) {
    initWeight(rng, weight!, initGain(activationOf(spec), spec.alpha ?? DEFAULT_ALPHA));
  },

  build(spec, { label, inputShape }, [weight, bias], ctx) {
    return new Conv2d(label, spec, inputShape, weight!, bias!, ctx);
  },

  describe(spec) {
    const s = spec.stride !== undefined && spec.stride !== 1 ? ` s${Array.isArray(spec.stride) ? spec.stride.join('×') : spec.stride}` : '';
    return `conv ${spec.filters} ${pairText(spec.kernelSize)}${s}${spec.padding === 'same' ? ' same' : ''}${describeActivation(spec.activation, spec.alpha, 'relu')}`;
  },
  inSummary: true,
  inspect: conv2dInspector,

  // Conv on NCHW; explicit pads [top, left, bottom, right], so 'same' with an odd total pads
  // bottom/right as the engine does.
  onnxInput: 'image',
  onnx(spec, { label, inputShape }, { input, params: [weight, bias], name }) {
    const g = convGeometry(label, spec, inputShape);
    const cin = inputShape[2];
    const conv = name('conv');
    const nodes: OnnxNode[] = [{
      opType: 'Conv', inputs: [input, weight!.name, bias!.name], outputs: [conv],
      attributes: { kernel_shape: [g.kh, g.kw], strides: [g.sh, g.sw], pads: [g.padTop, g.padLeft, g.padBottom, g.padRight], dilations: [1, 1], group: 1 },
    }];
    const act = activationOnnx(activationOf(spec), spec.alpha ?? DEFAULT_ALPHA, conv, name);
    nodes.push(...act.nodes);
    const output = act.output;
    return {
      nodes,
      initializers: [
        { name: weight!.name, dims: [spec.filters, cin, g.kh, g.kw], data: weightToOihw(weight!.value, g.kh, g.kw, cin, spec.filters) },
        { name: bias!.name, dims: [spec.filters], data: bias!.value },
      ],
      output,
    };
  },
};
