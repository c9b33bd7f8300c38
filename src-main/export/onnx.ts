/**
 * ONNX export of a trained network: the engine describes the graph as data (src-engine/onnx-graph.ts,
 * each layer's nodes from its own module); this file writes it as onnx.proto bytes, straight from
 * the schema's field numbers (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto), with the
 * small writer in protobuf.ts. Opset 13, IR version 7.
 */
import { ONNX_BATCH_DIM, ONNX_INPUT_NAME, ONNX_OPSET, ONNX_OUTPUT_NAME, onnxGraph, type OnnxTensor } from '../../src-engine/onnx-graph.js';
import type { ModelSpec } from '../../src-engine/spec.js';
import { checkedLayout, ExportError } from './layout.js';
import { ProtoWriter } from './protobuf.js';

export { ONNX_BATCH_DIM, ONNX_INPUT_NAME, ONNX_OPSET, ONNX_OUTPUT_NAME };

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

/** IR version 7 is the one that goes with opset 13 (ONNX 1.8). */
export const ONNX_IR_VERSION = 7;

// onnx.proto enums
const TENSOR_FLOAT = 1;
const TENSOR_INT64 = 7;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

// onnx.proto field numbers, named so the writers below read like the schema
const Model = { irVersion: 1, producerName: 2, producerVersion: 3, domain: 4, modelVersion: 5, docString: 6, graph: 7, opsetImport: 8, metadataProps: 14 };
const Graph = { node: 1, name: 2, initializer: 5, docString: 10, input: 11, output: 12 };
const Node = { input: 1, output: 2, name: 3, opType: 4, attribute: 5 };
const Attribute = { name: 1, f: 2, i: 3, ints: 8, type: 20 };
const Tensor = { dims: 1, dataType: 2, name: 8, rawData: 9 };
const ValueInfo = { name: 1, type: 2 };
const TypeProto = { tensorType: 1 };
const TensorType = { elemType: 1, shape: 2 };
const Shape = { dim: 1 };
const Dim = { value: 1, param: 2 };
const OpsetId = { domain: 1, version: 2 };
const StringEntry = { key: 1, value: 2 };

function float32Bytes(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return bytes;
}

function int64Bytes(values: BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  return bytes;
}

function tensorData(t: OnnxTensor): { dataType: number; raw: Uint8Array } {
  return t.data instanceof Float32Array ? { dataType: TENSOR_FLOAT, raw: float32Bytes(t.data) } : { dataType: TENSOR_INT64, raw: int64Bytes(t.data) };
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
  checkedLayout(spec, weights);
  const { nodes, initializers, input, output, classes } = onnxGraph(spec, weights);
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
          else if (typeof value === 'object') a.varint(Attribute.type, ATTR_FLOAT).float(Attribute.f, value.float);
          else a.varint(Attribute.type, ATTR_INT).varint(Attribute.i, value);
        });
      }
    }));
    g.string(Graph.name, name);
    for (const t of initializers) {
      const { dataType, raw } = tensorData(t);
      g.message(Graph.initializer, (tw) => {
        tw.varints(Tensor.dims, t.dims);
        tw.varint(Tensor.dataType, dataType);
        tw.string(Tensor.name, t.name);
        tw.bytes(Tensor.rawData, raw);
      });
    }
    g.string(Graph.docString, `input: float32 [N, ${h}, ${w}, ${c}] (NHWC); output: class probabilities float32 [N, ${classes}]`);
    g.message(Graph.input, (v) => writeTensorValueInfo(v, input.name, input.dims));
    g.message(Graph.output, (v) => writeTensorValueInfo(v, output.name, output.dims));
  });
  for (const [key, value] of metadata) {
    model.message(Model.metadataProps, (e) => e.string(StringEntry.key, key).string(StringEntry.value, value));
  }
  return model.finish().slice();
}
