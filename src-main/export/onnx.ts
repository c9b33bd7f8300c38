/**
 * ONNX export of a trained network, written straight from onnx.proto's field numbers
 * (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto) with the small writer in protobuf.ts.
 *
 * Graph (opset 13, IR version 7), for input "input" float32 [N, H, W, C]:
 *   Transpose(0,3,1,2) → NCHW, the layout ONNX's Conv and MaxPool expect
 *   conv2d    → Conv (weight transposed (KH,KW,Cin,Cout) → (Cout,Cin,KH,KW); explicit pads
 *               [top, left, bottom, right], so 'same' with an odd total pads bottom/right as the
 *               engine does) [+ Relu]
 *   maxpool2d → MaxPool (floor mode: leftover rows/columns dropped, as the engine)
 *   flatten   → Transpose(0,2,3,1) back to NHWC, then Flatten: keeps the engine's H, W, C order,
 *               so the dense weights need no permutation
 *   dense     → Gemm (the engine's (in, out) weight is Gemm's B as is) [+ Relu]
 *   dropout   → nothing (identity at inference)
 *   last dense → Gemm → Softmax(axis −1) → "probabilities" float32 [N, classes]
 */
import { convGeometry, poolGeometry } from '../../src-engine/shapes.js';
import { denseActivation, type ModelSpec } from '../../src-engine/spec.js';
import { checkedLayout, ExportError, type ParameterEntry } from './layout.js';
import { ProtoWriter } from './protobuf.js';

export interface ExportMeta {
  /** Model/graph name; default "cnn-studio-model". */
  name?: string;
  /** One per class, in label order. */
  classNames?: string[];
  /** The app version that wrote the file. */
  producerVersion?: string;
  /** Free text stored as the model's doc string. */
  description?: string;
}

export const ONNX_OPSET = 13;
/** IR version 7 is the one that goes with opset 13 (ONNX 1.8). */
export const ONNX_IR_VERSION = 7;
export const ONNX_INPUT_NAME = 'input';
export const ONNX_OUTPUT_NAME = 'probabilities';
/** The symbolic batch dimension of input and output. */
export const ONNX_BATCH_DIM = 'N';

// onnx.proto enums
const TENSOR_FLOAT = 1;
const TENSOR_INT64 = 7;
const ATTR_INT = 2;
const ATTR_INTS = 7;

// onnx.proto field numbers, named so the writers below read like the schema
const Model = { irVersion: 1, producerName: 2, producerVersion: 3, domain: 4, modelVersion: 5, docString: 6, graph: 7, opsetImport: 8, metadataProps: 14 };
const Graph = { node: 1, name: 2, initializer: 5, docString: 10, input: 11, output: 12 };
const Node = { input: 1, output: 2, name: 3, opType: 4, attribute: 5 };
const Attribute = { name: 1, i: 3, ints: 8, type: 20 };
const Tensor = { dims: 1, dataType: 2, name: 8, rawData: 9 };
const ValueInfo = { name: 1, type: 2 };
const TypeProto = { tensorType: 1 };
const TensorType = { elemType: 1, shape: 2 };
const Shape = { dim: 1 };
const Dim = { value: 1, param: 2 };
const OpsetId = { domain: 1, version: 2 };
const StringEntry = { key: 1, value: 2 };

type AttributeValue = number | number[];

interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeValue>;
}

interface OnnxInitializer {
  name: string;
  dims: number[];
  dataType: typeof TENSOR_FLOAT | typeof TENSOR_INT64;
  raw: Uint8Array;
}

function float32Bytes(values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return bytes;
}

function int64Bytes(values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return bytes;
}

/** (KH, KW, Cin, Cout) → (Cout, Cin, KH, KW). */
function convWeightToOihw(w: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
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

export function checkClassNames(classNames: string[] | undefined, classes: number): void {
  if (classNames === undefined) return;
  if (!Array.isArray(classNames) || classNames.some((c) => typeof c !== 'string')) {
    throw new ExportError('classNames must be an array of strings');
  }
  if (classNames.length !== classes) {
    throw new ExportError(`got ${classNames.length} class names for a model with ${classes} classes`);
  }
}

/** Builds the node list and initializers; kept apart from the encoding so each half reads alone. */
function buildGraph(spec: ModelSpec, weights: Float32Array): { nodes: OnnxNode[]; initializers: OnnxInitializer[]; classes: number } {
  const layout = checkedLayout(spec, weights);
  const { shapes } = layout;
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  const paramsOf = (layerIndex: number) => {
    const [weight, bias] = layout.parameters.filter((p) => p.layerIndex === layerIndex) as [ParameterEntry, ParameterEntry];
    return { weight, bias, w: weights.subarray(weight.offset, weight.offset + weight.length), b: weights.subarray(bias.offset, bias.offset + bias.length) };
  };
  let counter = 0;
  const fresh = (what: string) => `${what}_${++counter}`;
  const node = (opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, output = fresh(opType.toLowerCase())) => {
    nodes.push({ opType, inputs, outputs: [output], attributes });
    return output;
  };

  let current = node('Transpose', [ONNX_INPUT_NAME], { perm: [0, 3, 1, 2] });
  /** 'nchw' for image tensors (N, C, H, W); 'flat' for (N, features). */
  let form: 'nchw' | 'flat' = 'nchw';
  const toFlat = (hwc: [number, number, number]) => {
    if (form === 'flat') return;
    // A 1×1 image's NCHW and NHWC orders coincide; otherwise go back to NHWC for the engine's flatten order.
    const spatial = hwc[0] !== 1 || hwc[1] !== 1;
    current = node('Flatten', [spatial ? node('Transpose', [current], { perm: [0, 2, 3, 1] }) : current], { axis: 1 });
    form = 'flat';
  };
  const toImage = (hwc: [number, number, number]) => {
    if (form === 'nchw') return;
    // A flat (N, F) tensor is the engine's 1×1×F image: (N, F, 1, 1) in NCHW. The 0 copies N
    // (opset 13 Reshape), so shape inference keeps the symbolic batch dimension.
    const shapeName = fresh('shape');
    initializers.push({ name: shapeName, dims: [4], dataType: TENSOR_INT64, raw: int64Bytes([0, hwc[2], 1, 1]) });
    current = node('Reshape', [current, shapeName]);
    form = 'nchw';
  };

  spec.layers.forEach((layer, i) => {
    const { inputShape, label } = shapes.layers[i]!;
    const isLast = i === spec.layers.length - 1;
    switch (layer.type) {
      case 'conv2d': {
        toImage(inputShape);
        const g = convGeometry(label, layer, inputShape);
        const { weight, bias, w, b } = paramsOf(i);
        const cin = inputShape[2];
        initializers.push({ name: weight.name, dims: [layer.filters, cin, g.kh, g.kw], dataType: TENSOR_FLOAT, raw: float32Bytes(convWeightToOihw(w, g.kh, g.kw, cin, layer.filters)) });
        initializers.push({ name: bias.name, dims: [layer.filters], dataType: TENSOR_FLOAT, raw: float32Bytes(b) });
        current = node('Conv', [current, weight.name, bias.name], {
          kernel_shape: [g.kh, g.kw],
          strides: [g.sh, g.sw],
          pads: [g.padTop, g.padLeft, g.padBottom, g.padRight],
          dilations: [1, 1],
          group: 1,
        });
        if ((layer.activation ?? 'relu') === 'relu') current = node('Relu', [current]);
        break;
      }
      case 'maxpool2d': {
        toImage(inputShape);
        const g = poolGeometry(label, layer, inputShape);
        current = node('MaxPool', [current], { kernel_shape: [g.ph, g.pw], strides: [g.sh, g.sw], pads: [0, 0, 0, 0], ceil_mode: 0 });
        break;
      }
      case 'flatten':
        toFlat(inputShape);
        break;
      case 'dense': {
        // Shape inference allows a dense layer straight on a 1×1×C image.
        toFlat(inputShape);
        const { weight, bias, w, b } = paramsOf(i);
        initializers.push({ name: weight.name, dims: weight.shape, dataType: TENSOR_FLOAT, raw: float32Bytes(w) });
        initializers.push({ name: bias.name, dims: bias.shape, dataType: TENSOR_FLOAT, raw: float32Bytes(b) });
        current = node('Gemm', [current, weight.name, bias.name], { transA: 0, transB: 0 });
        const act = denseActivation(layer, isLast);
        if (act === 'relu') current = node('Relu', [current]);
        if (act === 'softmax') current = node('Softmax', [current], { axis: -1 }, ONNX_OUTPUT_NAME);
        break;
      }
      case 'dropout':
        break;
    }
  });
  if (current !== ONNX_OUTPUT_NAME) throw new ExportError(`the graph ends in ${current}, not the softmax classifier`);
  return { nodes, initializers, classes: shapes.classes! };
}

function writeTensorValueInfo(w: ProtoWriter, name: string, dims: Array<number | string>): void {
  w.string(ValueInfo.name, name);
  w.message(ValueInfo.type, (t) => t.message(TypeProto.tensorType, (tt) => {
    tt.varint(TensorType.elemType, TENSOR_FLOAT);
    tt.message(TensorType.shape, (s) => {
      for (const d of dims) s.message(Shape.dim, (dw) => (typeof d === 'string' ? dw.string(Dim.param, d) : dw.varint(Dim.value, d)));
    });
  }));
}

/**
 * ONNX (opset 13) bytes of the network: input "input" float32 [N, H, W, C] (NHWC like the engine,
 * dynamic batch N; pixel values as the model was trained on, i.e. uint8 images scaled to [0, 1]),
 * output "probabilities" float32 [N, classes]. The spec, the class names and the input layout are
 * stored in the model's metadata_props.
 */
export function exportOnnx(spec: ModelSpec, weights: Float32Array, meta: ExportMeta = {}): Uint8Array {
  const { nodes, initializers, classes } = buildGraph(spec, weights);
  checkClassNames(meta.classNames, classes);
  const [h, w, c] = spec.inputShape;
  const name = meta.name ?? 'cnn-studio-model';
  const metadata: Array<[string, string]> = [
    ['cnn-studio.spec', JSON.stringify(spec)],
    ['input_layout', 'NHWC'],
    ['input_range', '[0, 1] (uint8 pixels / 255)'],
  ];
  if (meta.classNames) metadata.push(['class_names', JSON.stringify(meta.classNames)]);

  const model = new ProtoWriter();
  model.varint(Model.irVersion, ONNX_IR_VERSION);
  model.message(Model.opsetImport, (o) => o.string(OpsetId.domain, '').varint(OpsetId.version, ONNX_OPSET));
  model.string(Model.producerName, 'cnn-studio');
  if (meta.producerVersion) model.string(Model.producerVersion, meta.producerVersion);
  model.string(Model.domain, 'cnn-studio');
  model.varint(Model.modelVersion, 1);
  if (meta.description) model.string(Model.docString, meta.description);
  model.message(Model.graph, (g) => {
    nodes.forEach((n, i) => g.message(Graph.node, (nw) => {
      for (const input of n.inputs) nw.string(Node.input, input);
      for (const output of n.outputs) nw.string(Node.output, output);
      nw.string(Node.name, `${n.opType}_${i}`);
      nw.string(Node.opType, n.opType);
      for (const [attrName, value] of Object.entries(n.attributes)) {
        nw.message(Node.attribute, (a) => {
          a.string(Attribute.name, attrName);
          if (Array.isArray(value)) a.varint(Attribute.type, ATTR_INTS).varints(Attribute.ints, value);
          else a.varint(Attribute.type, ATTR_INT).varint(Attribute.i, value);
        });
      }
    }));
    g.string(Graph.name, name);
    for (const t of initializers) {
      g.message(Graph.initializer, (tw) => {
        tw.varints(Tensor.dims, t.dims);
        tw.varint(Tensor.dataType, t.dataType);
        tw.string(Tensor.name, t.name);
        tw.bytes(Tensor.rawData, t.raw);
      });
    }
    g.string(Graph.docString, `input: float32 [N, ${h}, ${w}, ${c}] (NHWC); output: class probabilities float32 [N, ${classes}]`);
    g.message(Graph.input, (v) => writeTensorValueInfo(v, ONNX_INPUT_NAME, [ONNX_BATCH_DIM, h, w, c]));
    g.message(Graph.output, (v) => writeTensorValueInfo(v, ONNX_OUTPUT_NAME, [ONNX_BATCH_DIM, classes]));
  });
  for (const [key, value] of metadata) {
    model.message(Model.metadataProps, (e) => e.string(StringEntry.key, key).string(StringEntry.value, value));
  }
  return model.finish().slice();
}
