/** dense: fully connected + an activation (layers/activation.ts) or softmax; the softmax head
 *  outputs logits here, because the model fuses softmax with the cross-entropy. */
import { initWeight } from '../init.js';
import type { OnnxNode } from '../onnx-graph.js';
import type { Activation, DenseSpec } from '../spec.js';
import { ensureCapacity, type FloatArray, type Shape3 } from '../tensor.js';
import { ActivationStep, activationOnnx, checkActivation, DEFAULT_ALPHA, describeActivation, initGain } from './activation.js';
import { checkPresent, dims, isPosInt, SpecError } from './checks.js';
import type { Layer, LayerContext, LayerDefinition, Param } from './layer.js';
import { denseInspector } from './dense-inspect.js';

export type DenseActivation = Activation | 'softmax';

/** The activation after defaults: 'softmax' for the last layer, 'relu' elsewhere. */
export function denseActivation(spec: DenseSpec, isLast: boolean): DenseActivation {
  return spec.activation ?? (isLast ? 'softmax' : 'relu');
}

/** a: (N, IN)  weight: (IN, OUT)  bias: (OUT)  z: (N, OUT) */
export class Dense implements Layer {
  readonly outShape: Shape3;
  readonly params: Param[];
  private readonly inDim: number;
  private readonly act: ActivationStep;
  private input: FloatArray | null = null;
  private n = -1;
  private out: FloatArray | null = null;
  private dx: FloatArray | null = null;

  constructor(readonly label: string, readonly units: number, readonly activation: DenseActivation, alpha: number,
    readonly inShape: Shape3, readonly weight: Param, readonly bias: Param, private readonly ctx: LayerContext) {
    this.inDim = inShape[2];
    this.outShape = [1, 1, units];
    this.params = [weight, bias];
    // the softmax head outputs logits: its softmax is the loss's
    this.act = new ActivationStep(activation === 'softmax' ? 'linear' : activation, alpha, ctx);
  }

  forward(x: FloatArray, n: number): FloatArray {
    const len = n * this.units;
    this.out = ensureCapacity(this.out, len, this.ctx.dtype);
    this.ctx.kernels.denseForward(n, this.inDim, this.units, x, this.weight.value, this.bias.value, this.out, this.act.fused);
    this.act.forward(this.out, len);
    this.input = x;
    this.n = n;
    return this.out;
  }

  backward(dout: FloatArray, n: number, needInputGrad: boolean): FloatArray | null {
    if (!this.input || !this.out || this.n !== n) throw new Error(`${this.label}: backward before forward`);
    const dz = this.act.backward(this.out, dout);
    let dx: FloatArray | null = null;
    if (needInputGrad) dx = this.dx = ensureCapacity(this.dx, n * this.inDim, this.ctx.dtype);
    this.ctx.kernels.denseBackward(n, this.inDim, this.units, this.input, this.weight.value, dz, this.weight.grad, this.bias.grad, dx, this.act.fused ? this.out : null);
    return dx;
  }
}

export const denseLayer: LayerDefinition<DenseSpec> = {
  type: 'dense',

  infer(spec, { label, inputShape, isLast }) {
    checkPresent(label, 'units', spec.units);
    if (!isPosInt(spec.units)) throw new SpecError(`${label}: units must be a positive integer, got ${JSON.stringify(spec.units)}`, null, 'units');
    if (inputShape[0] !== 1 || inputShape[1] !== 1) {
      throw new SpecError(`${label}: input ${dims(inputShape)} is not flat; add a flatten layer before it`);
    }
    const act = denseActivation(spec, isLast);
    checkActivation(label, act, spec.alpha, true);
    if (act === 'softmax' && !isLast) throw new SpecError(`${label}: softmax is only allowed on the last layer`);
    return { outputShape: [1, 1, spec.units], params: inputShape[2] * spec.units + spec.units, macs: inputShape[2] * spec.units };
  },

  classes: (spec, { isLast }) => (denseActivation(spec, isLast) === 'softmax' ? spec.units : null),

  parameters(spec, { inputShape }) {
    return [{ name: 'weight', shape: [inputShape[2], spec.units] }, { name: 'bias', shape: [spec.units] }];
  },

  init(spec, { isLast }, [weight], rng) {
    initWeight(rng, weight!, initGain(denseActivation(spec, isLast), spec.alpha ?? DEFAULT_ALPHA));
  },

  build(spec, { label, inputShape, isLast }, [weight, bias], ctx) {
    return new Dense(label, spec.units, denseActivation(spec, isLast), spec.alpha ?? DEFAULT_ALPHA, inputShape, weight!, bias!, ctx);
  },

  describe: (spec) => `dense ${spec.units}${describeActivation(spec.activation, spec.alpha, '')}`,
  inSummary: true,
  inspect: denseInspector,

  // Gemm takes the engine's (in, out) weight as its B as is; the head's Softmax is the graph output
  onnxInput: 'flat',
  onnx(spec, { isLast }, { input, params: [weight, bias], name, graphOutput }) {
    const gemm = name('gemm');
    const nodes: OnnxNode[] = [{ opType: 'Gemm', inputs: [input, weight!.name, bias!.name], outputs: [gemm], attributes: { transA: 0, transB: 0 } }];
    let output = gemm;
    const act = denseActivation(spec, isLast);
    if (act === 'softmax') {
      output = graphOutput ?? name('softmax');
      nodes.push({ opType: 'Softmax', inputs: [gemm], outputs: [output], attributes: { axis: -1 } });
    } else {
      const step = activationOnnx(act, spec.alpha ?? DEFAULT_ALPHA, gemm, name);
      nodes.push(...step.nodes);
      output = step.output;
    }
    return {
      nodes,
      initializers: [
        { name: weight!.name, dims: weight!.shape, data: weight!.value },
        { name: bias!.name, dims: bias!.shape, data: bias!.value },
      ],
      output,
    };
  },
};
