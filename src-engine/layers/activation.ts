/**
 * The activation of a conv or dense layer, said once for both: its validation, which init it asks
 * for, its step in forward and backward, its ONNX node and its word in a description.
 */
import type { ActivationKind } from '../kernels/activations.js';
import type { OnnxNode } from '../onnx-graph.js';
import type { Activation } from '../spec.js';
import { ensureCapacity, type FloatArray } from '../tensor.js';
import { SpecError } from './checks.js';
import type { LayerContext } from './layer.js';

export const ACTIVATIONS: readonly Activation[] = ['relu', 'leakyRelu', 'tanh', 'sigmoid', 'linear'];
export const DEFAULT_ALPHA = 0.01;

/** Throws SpecError unless `act` is one of ACTIVATIONS (or 'softmax' where allowed) and `alpha`
 *  is absent or a finite number ≥ 0 on a leakyRelu layer. */
export function checkActivation(label: string, act: unknown, alpha: unknown, allowSoftmax: boolean): void {
  const allowed: readonly unknown[] = allowSoftmax ? [...ACTIVATIONS, 'softmax'] : ACTIVATIONS;
  if (!allowed.includes(act)) {
    throw new SpecError(`${label}: activation must be ${allowed.map((a) => `'${a}'`).join(', ').replace(/, ([^,]*)$/, ' or $1')}, got ${JSON.stringify(act)}`);
  }
  if (alpha === undefined) return;
  if (act !== 'leakyRelu') throw new SpecError(`${label}: alpha is the slope of a leakyRelu activation; this layer's is ${JSON.stringify(act)}`);
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0) throw new SpecError(`${label}: alpha must be a number ≥ 0, got ${JSON.stringify(alpha)}`);
}

/** The weight init an activation asks for: He normal with PyTorch's leaky-ReLU gain for the
 *  rectifiers (std = √(2 / ((1 + α²)·fanIn)), α = 0 for ReLU), Glorot uniform otherwise. */
export function initGain(act: Activation | 'softmax', alpha: number): number | null {
  if (act === 'relu') return 2;
  if (act === 'leakyRelu') return 2 / (1 + alpha * alpha);
  return null;
}

/** The elementwise step after the affine map, run on the layer's output buffer in place. With a
 *  set that fuses the ReLU (the fast kernels) a ReLU is done inside the conv/dense kernel. */
export class ActivationStep {
  readonly kind: ActivationKind | null;
  private dz: FloatArray | null = null;
  constructor(act: Activation, readonly alpha: number, private readonly ctx: LayerContext) {
    this.kind = act === 'linear' ? null : act;
  }

  /** Whether the conv/dense kernel applies it (and masks by it in backward). */
  get fused(): boolean {
    return this.kind === 'relu' && this.ctx.kernels.fusesRelu === true;
  }

  /** out (len) = f(out), unless fused. */
  forward(out: FloatArray, len: number): void {
    if (this.kind && !this.fused) this.ctx.kernels.activationForward(this.kind, this.alpha, out, out, len);
  }

  /** dout through f, given the layer's output `out` = f(z); dout itself when linear or fused. */
  backward(out: FloatArray, dout: FloatArray): FloatArray {
    if (!this.kind || this.fused) return dout;
    this.dz = ensureCapacity(this.dz, dout.length, this.ctx.dtype);
    this.ctx.kernels.activationBackward(this.kind, this.alpha, out, dout, this.dz, dout.length);
    return this.dz;
  }
}

const ONNX_OPS: Record<ActivationKind, string> = { relu: 'Relu', leakyRelu: 'LeakyRelu', tanh: 'Tanh', sigmoid: 'Sigmoid' };

/** The activation's ONNX node after `input` (none for linear). */
export function activationOnnx(act: Activation, alpha: number, input: string, name: (what: string) => string): { nodes: OnnxNode[]; output: string } {
  if (act === 'linear') return { nodes: [], output: input };
  const op = ONNX_OPS[act];
  const output = name(op.toLowerCase());
  return { nodes: [{ opType: op, inputs: [input], outputs: [output], attributes: act === 'leakyRelu' ? { alpha: { float: alpha } } : {} }], output };
}

/** " leakyRelu 0.2" / " tanh" / "" for the default: how descriptions name a non-default activation. */
export function describeActivation(act: Activation | 'softmax' | undefined, alpha: number | undefined, defaultAct: string): string {
  if (act === undefined || act === defaultAct) return '';
  return act === 'leakyRelu' && alpha !== undefined && alpha !== DEFAULT_ALPHA ? ` leakyRelu ${alpha}` : ` ${act}`;
}
