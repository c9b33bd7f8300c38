/**
 * A trained network as an ONNX graph (opset 13), described as plain data: nodes, attributes and
 * initializers. Each layer type's nodes come from its module (layers/*.ts, `onnx`); this file only
 * strings them together and converts between the two tensor forms they ask for. Writing the data
 * as protobuf bytes is the exporter's job (src-main/export/onnx.ts), so the engine carries no
 * file-format code.
 *
 * For input "input" float32 [N, H, W, C]:
 *   Transpose(0,3,1,2) → NCHW, the layout ONNX's Conv and MaxPool expect ('image' form)
 *   a layer asking for 'flat' input gets Transpose(0,2,3,1) back to NHWC, then Flatten: this keeps
 *   the engine's H, W, C order, so dense weights need no permutation
 *   a layer asking for an 'image' after flat rows gets Reshape (N, F) → (N, F, 1, 1)
 *   the last layer (the dense softmax head) writes "probabilities" float32 [N, classes]
 */
import { layerDefinition } from './layers/registry.js';
import { parameterLayout } from './parameters.js';
import { layerSite } from './shapes.js';
import type { ModelSpec } from './spec.js';

export const ONNX_OPSET = 13;
export const ONNX_INPUT_NAME = 'input';
export const ONNX_OUTPUT_NAME = 'probabilities';
/** The symbolic batch dimension of input and output. */
export const ONNX_BATCH_DIM = 'N';

/** An INT (number), INTS (number[]) or FLOAT ({ float }) attribute: all the ops used here need. */
export type OnnxAttribute = number | number[] | { float: number };

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, OnnxAttribute>;
}

/** A constant tensor: FLOAT from a Float32Array, INT64 from a BigInt64Array. */
export interface OnnxTensor {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

export interface OnnxValueInfo {
  name: string;
  /** float32; a string is a symbolic dimension. */
  dims: Array<number | string>;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  input: OnnxValueInfo;
  output: OnnxValueInfo;
  classes: number;
}

/** The graph of `spec` with `weights` (the model's flat values buffer: parameters, then statistics). Throws SpecError for an invalid
 *  spec and RangeError for weights of the wrong length. */
export function onnxGraph(spec: ModelSpec, weights: Float32Array): OnnxGraph {
  const layout = parameterLayout(spec);
  const { shapes } = layout;
  if (weights.length !== layout.totalValues) throw new RangeError(`weights have ${weights.length} values but the spec has ${layout.totalValues}`);
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  let counter = 0;
  const name = (what: string) => `${what}_${++counter}`;
  const node = (opType: string, inputs: string[], attributes: Record<string, OnnxAttribute>): string => {
    const output = name(opType.toLowerCase());
    nodes.push({ opType, inputs, outputs: [output], attributes });
    return output;
  };

  let current = node('Transpose', [ONNX_INPUT_NAME], { perm: [0, 3, 1, 2] });
  /** 'image' for (N, C, H, W); 'flat' for (N, features). */
  let form: 'image' | 'flat' = 'image';
  spec.layers.forEach((layer, i) => {
    const def = layerDefinition(layer);
    const site = layerSite(shapes, i);
    const [h, w, c] = site.inputShape;
    if (def.onnxInput === 'flat' && form === 'image') {
      // A 1×1 image's NCHW and NHWC orders coincide; otherwise go back to NHWC for the engine's flatten order.
      const spatial = h !== 1 || w !== 1;
      current = node('Flatten', [spatial ? node('Transpose', [current], { perm: [0, 2, 3, 1] }) : current], { axis: 1 });
      form = 'flat';
    } else if (def.onnxInput === 'image' && form === 'flat') {
      // A flat (N, F) tensor is the engine's 1×1×F image: (N, F, 1, 1) in NCHW. The 0 copies N
      // (opset 13 Reshape), so shape inference keeps the symbolic batch dimension.
      const shape = name('shape');
      initializers.push({ name: shape, dims: [4], data: BigInt64Array.from([0n, BigInt(c), 1n, 1n]) });
      current = node('Reshape', [current, shape], {});
      form = 'image';
    }
    const params = layout.parameters
      .filter((p) => p.layerIndex === i)
      .map((p) => ({ name: p.name, shape: p.shape, value: weights.subarray(p.offset, p.offset + p.length) }));
    const out = def.onnx(layer, site, { input: current, params, name, graphOutput: site.isLast ? ONNX_OUTPUT_NAME : null });
    nodes.push(...out.nodes);
    initializers.push(...out.initializers);
    current = out.output;
  });
  if (current !== ONNX_OUTPUT_NAME) throw new Error(`the graph ends in ${current}, not the softmax classifier`);
  const [h, w, c] = spec.inputShape;
  return {
    nodes,
    initializers,
    input: { name: ONNX_INPUT_NAME, dims: [ONNX_BATCH_DIM, h, w, c] },
    output: { name: ONNX_OUTPUT_NAME, dims: [ONNX_BATCH_DIM, shapes.classes!] },
    classes: shapes.classes!,
  };
}
