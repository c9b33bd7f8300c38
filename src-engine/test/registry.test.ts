/**
 * The layer registry: every registered type goes through shape inference, the parameter layout,
 * the model (forward and backward), its description and its ONNX nodes; an unknown type is refused
 * with the registered names. EXAMPLES is keyed by LayerType, so a new type does not compile here
 * until it has an example.
 */
import { describe, expect, it } from 'vitest';
import { findLayerDefinition, describeLayer, describeSpec, LAYER_TYPES } from '../layers/registry.js';
import { buildModel } from '../model.js';
import { onnxGraph, ONNX_OUTPUT_NAME } from '../onnx-graph.js';
import { parameterLayout } from '../parameters.js';
import { referenceNet } from '../reference-net.js';
import { Rng } from '../rng.js';
import { inferShapes } from '../shapes.js';
import type { LayerSpec, LayerType, ModelSpec } from '../spec.js';

interface Example {
  /** A model with the layer at `at`. */
  spec: ModelSpec;
  at: number;
  description: string;
  outputShape: [number, number, number];
  params: string[];
  /** Its statistics (non-trainable values), as params. */
  statistics?: string[];
  /** The op types its ONNX nodes have. */
  ops: string[];
}

const head = (units = 3): LayerSpec => ({ type: 'dense', units });

const EXAMPLES: Record<LayerType, Example> = {
  conv2d: {
    spec: { inputShape: [7, 6, 2], layers: [{ type: 'conv2d', filters: 4, kernelSize: [3, 2], stride: 2, padding: 'same', activation: 'linear' }, { type: 'flatten' }, head()] },
    at: 0, description: 'conv 4 3×2 s2 same linear', outputShape: [4, 3, 4], params: ['conv2d1.weight 3×2×2×4', 'conv2d1.bias 4'], ops: ['Conv'],
  },
  maxpool2d: {
    spec: { inputShape: [7, 7, 2], layers: [{ type: 'maxpool2d', poolSize: 3, stride: 2 }, { type: 'flatten' }, head()] },
    at: 0, description: 'maxpool 3', outputShape: [3, 3, 2], params: [], ops: ['MaxPool'],
  },
  avgpool2d: {
    spec: { inputShape: [7, 5, 2], layers: [{ type: 'avgpool2d', poolSize: 3, stride: 2, padding: 'same' }, { type: 'flatten' }, head()] },
    at: 0, description: 'avgpool 3 s2 same', outputShape: [4, 3, 2], params: [], ops: ['AveragePool'],
  },
  globalavgpool2d: {
    spec: { inputShape: [5, 4, 3], layers: [{ type: 'conv2d', filters: 6, kernelSize: 3, padding: 'same', activation: 'tanh' }, { type: 'globalavgpool2d' }, head()] },
    at: 1, description: 'global avgpool', outputShape: [1, 1, 6], params: [], ops: ['GlobalAveragePool', 'Tanh'],
  },
  batchnorm: {
    spec: { inputShape: [4, 3, 2], layers: [{ type: 'conv2d', filters: 5, kernelSize: 2, activation: 'leakyRelu', alpha: 0.2 }, { type: 'batchnorm', momentum: 0.2 }, { type: 'flatten' }, head()] },
    at: 1, description: 'batchnorm m0.2', outputShape: [3, 2, 5], params: ['batchnorm2.weight 5', 'batchnorm2.bias 5'],
    statistics: ['batchnorm2.runningMean 5', 'batchnorm2.runningVar 5'], ops: ['BatchNormalization', 'LeakyRelu'],
  },
  flatten: {
    spec: { inputShape: [3, 4, 2], layers: [{ type: 'flatten' }, head()] },
    at: 0, description: 'flatten', outputShape: [1, 1, 24], params: [], ops: [],
  },
  dense: {
    spec: { inputShape: [1, 1, 5], layers: [{ type: 'dense', units: 6, activation: 'relu' }, head()] },
    at: 0, description: 'dense 6 relu', outputShape: [1, 1, 6], params: ['dense1.weight 5×6', 'dense1.bias 6'], ops: ['Gemm', 'Relu'],
  },
  dropout: {
    spec: { inputShape: [1, 1, 5], layers: [{ type: 'dropout', rate: 0.5 }, head()] },
    at: 0, description: 'dropout 0.5', outputShape: [1, 1, 5], params: [], ops: [],
  },
};

describe('layer registry', () => {
  it('LAYER_TYPES lists the registered types, in palette order', () => {
    expect(LAYER_TYPES).toEqual(['conv2d', 'maxpool2d', 'avgpool2d', 'globalavgpool2d', 'batchnorm', 'flatten', 'dense', 'dropout']);
    for (const type of LAYER_TYPES) expect(findLayerDefinition(type)!.type).toBe(type);
  });

  for (const type of LAYER_TYPES) {
    it(`${type}: inferShapes → parameter layout → model forward/backward → description → ONNX nodes`, () => {
      const { spec, at, description, outputShape, params, statistics = [], ops } = EXAMPLES[type];
      const report = inferShapes(spec);
      expect(report.ok, report.error?.message).toBe(true);
      expect(report.layers[at]!.type).toBe(type);
      expect(report.layers[at]!.outputShape).toEqual(outputShape);

      const layout = parameterLayout(spec);
      const own = layout.parameters.filter((p) => p.layerIndex === at);
      const named = (entries: typeof own) => entries.map((p) => `${p.name} ${p.shape.join('×')}`);
      expect(named(own.filter((p) => p.trainable))).toEqual(params);
      expect(named(own.filter((p) => !p.trainable))).toEqual(statistics);
      expect(own.filter((p) => p.trainable).reduce((s, p) => s + p.length, 0)).toBe(report.layers[at]!.params);
      expect(own.filter((p) => !p.trainable).reduce((s, p) => s + p.length, 0)).toBe(report.layers[at]!.statistics);
      // the parameters first, then the statistics, each a view at its layout offset
      expect(layout.parameters.map((p) => p.offset)).toEqual(layout.parameters.map((_, i) => layout.parameters.slice(0, i).reduce((s, q) => s + q.length, 0)));
      expect(layout.parameters.findIndex((p) => !p.trainable) < 0 || layout.parameters.slice(layout.parameters.findIndex((p) => !p.trainable)).every((p) => !p.trainable)).toBe(true);

      const model = buildModel(spec, { seed: 3 });
      expect(model.parameters().map((p) => [p.name, p.value.byteOffset / 4, p.value.length]))
        .toEqual(layout.parameters.filter((p) => p.trainable).map((p) => [p.name, p.offset, p.length]));
      expect(model.statistics().map((p) => [p.name, p.value.byteOffset / 4, p.value.length]))
        .toEqual(layout.parameters.filter((p) => !p.trainable).map((p) => [p.name, p.offset, p.length]));
      expect(model.values.length).toBe(layout.totalValues);
      expect(model.grads.length).toBe(layout.totalParams);
      const [h, w, c] = spec.inputShape;
      const n = 2;
      const rng = new Rng(5);
      const x = Float32Array.from({ length: n * h * w * c }, () => rng.next());
      const r = model.lossAndGradients(x, [0, 2], n);
      expect(Number.isFinite(r.loss)).toBe(true);
      expect(r.inputGradient!.length).toBe(x.length);
      expect(r.inputGradient!.some((v) => v !== 0)).toBe(true);

      expect(describeLayer(spec.layers[at]!)).toBe(description);

      const graph = onnxGraph(spec, model.values);
      expect(graph.output.name).toBe(ONNX_OUTPUT_NAME);
      expect(graph.output.dims).toEqual(['N', 3]);
      const initializers = graph.initializers.filter((t) => own.some((p) => p.name === t.name));
      expect(initializers.map((t) => t.name)).toEqual(own.map((p) => p.name));
      // every node's inputs exist before it: the graph input, an initializer or an earlier output
      const known = new Set(['input', ...graph.initializers.map((t) => t.name)]);
      for (const node of graph.nodes) {
        for (const i of node.inputs) expect(known.has(i), `${node.opType} input ${i}`).toBe(true);
        node.outputs.forEach((o) => known.add(o));
      }
      const opTypes = graph.nodes.map((nd) => nd.opType);
      for (const op of ops) expect(opTypes).toContain(op);
    });
  }

  it('an unknown type is refused with the registered names', () => {
    const r = inferShapes({ inputShape: [1, 1, 4], layers: [{ type: 'dense', units: 4 }, { type: 'lstm' } as never, head()] });
    expect(r.ok).toBe(false);
    expect(r.error).toEqual({ layerIndex: 1, message: `layer #2: unknown type "lstm" (expected one of ${LAYER_TYPES.join(', ')})` });
    const names = 'conv2d, maxpool2d, avgpool2d, globalavgpool2d, batchnorm, flatten, dense, dropout';
    expect(r.error!.message).toBe(`layer #2: unknown type "lstm" (expected one of ${names})`);
    expect(findLayerDefinition('lstm')).toBeUndefined();
    expect(findLayerDefinition('toString')).toBeUndefined();
    expect(() => describeLayer({ type: 'lstm' } as never)).toThrow(`unknown layer type "lstm" (expected one of ${names})`);
  });

  it('descriptions: defaults stay unsaid, pairs and strides say both sides, the summary drops flatten', () => {
    const lines: Array<[LayerSpec, string]> = [
      [{ type: 'conv2d', filters: 16, kernelSize: 3 }, 'conv 16 3×3'],
      [{ type: 'conv2d', filters: 16, kernelSize: 3, stride: 2, padding: 'same', activation: 'linear' }, 'conv 16 3×3 s2 same linear'],
      [{ type: 'conv2d', filters: 8, kernelSize: [5, 3], stride: [2, 1], padding: 'valid', activation: 'relu' }, 'conv 8 5×3 s2×1'],
      [{ type: 'maxpool2d', poolSize: 2 }, 'maxpool 2'],
      [{ type: 'maxpool2d', poolSize: [2, 3], stride: 1 }, 'maxpool 2×3'],
      [{ type: 'dense', units: 10, activation: 'softmax' }, 'dense 10 softmax'],
      [{ type: 'dense', units: 64 }, 'dense 64'],
      [{ type: 'dense', units: 64, activation: 'leakyRelu' }, 'dense 64 leakyRelu'],
      [{ type: 'dense', units: 64, activation: 'leakyRelu', alpha: 0.2 }, 'dense 64 leakyRelu 0.2'],
      [{ type: 'conv2d', filters: 4, kernelSize: 3, activation: 'sigmoid' }, 'conv 4 3×3 sigmoid'],
      [{ type: 'avgpool2d', poolSize: 2 }, 'avgpool 2'],
      [{ type: 'avgpool2d', poolSize: 3, stride: 1, padding: 'same' }, 'avgpool 3 s1 same'],
      [{ type: 'globalavgpool2d' }, 'global avgpool'],
      [{ type: 'batchnorm' }, 'batchnorm'],
      [{ type: 'batchnorm', momentum: 0.01, epsilon: 0.001 }, 'batchnorm m0.01 ε0.001'],
      [{ type: 'dropout', rate: 0.25 }, 'dropout 0.25'],
      [{ type: 'flatten' }, 'flatten'],
    ];
    for (const [layer, text] of lines) expect(describeLayer(layer)).toBe(text);
    expect(describeSpec(referenceNet())).toBe('conv 16 3×3 → maxpool 2 → conv 32 3×3 → maxpool 2 → dense 10 softmax');
  });

  it('every layer message keeps its text (the builder and the service show them as they are)', () => {
    const cases: Array<[LayerSpec, [number, number, number], string]> = [
      [{ type: 'conv2d', filters: 1.5, kernelSize: 3 }, [5, 5, 1], 'conv2d #1: filters must be a positive integer, got 1.5'],
      [{ type: 'conv2d', filters: 2, kernelSize: 3, activation: 'softmax' as never }, [5, 5, 1], "conv2d #1: activation must be 'relu', 'leakyRelu', 'tanh', 'sigmoid' or 'linear', got \"softmax\""],
      [{ type: 'conv2d', filters: 2, kernelSize: 3, alpha: 0.1 }, [5, 5, 1], "conv2d #1: alpha is the slope of a leakyRelu activation; this layer's is \"relu\""],
      [{ type: 'conv2d', filters: 2, kernelSize: 3, activation: 'leakyRelu', alpha: -1 }, [5, 5, 1], 'conv2d #1: alpha must be a number ≥ 0, got -1'],
      [{ type: 'avgpool2d', poolSize: 6 }, [5, 5, 1], 'avgpool2d #1: pool 6×6 does not fit input 5×5×1'],
      [{ type: 'avgpool2d', poolSize: 2, padding: 'full' as never }, [5, 5, 1], "avgpool2d #1: padding must be 'valid' or 'same', got \"full\""],
      [{ type: 'batchnorm', momentum: 2 }, [5, 5, 1], 'batchnorm #1: momentum must be in [0, 1], got 2'],
      [{ type: 'batchnorm', epsilon: 0 }, [5, 5, 1], 'batchnorm #1: epsilon must be a positive number, got 0'],
      [{ type: 'conv2d', filters: 2, kernelSize: [3] as never }, [5, 5, 1], 'conv2d #1: kernelSize must be a positive integer or [h, w] of positive integers, got [3]'],
      [{ type: 'conv2d', filters: 2, kernelSize: 3, padding: 'full' as never }, [5, 5, 1], "conv2d #1: padding must be 'valid' or 'same', got \"full\""],
      [{ type: 'maxpool2d', poolSize: 2, stride: 0 }, [5, 5, 1], 'maxpool2d #1: stride must be a positive integer or [h, w] of positive integers, got 0'],
      [{ type: 'dense', units: 0 }, [1, 1, 5], 'dense #1: units must be a positive integer, got 0'],
      [{ type: 'dense', units: 3, activation: 'gelu' as never }, [1, 1, 5], "dense #1: activation must be 'relu', 'leakyRelu', 'tanh', 'sigmoid', 'linear' or 'softmax', got \"gelu\""],
      [{ type: 'dropout', rate: -0.1 }, [1, 1, 5], 'dropout #1: rate must be in [0, 1), got -0.1'],
    ];
    for (const [layer, inputShape, message] of cases) {
      // (the spec field a message is about is checked in the test below)
      const { field: _field, ...error } = inferShapes({ inputShape, layers: [layer, { type: 'flatten' }, head()] }).error!;
      expect(error).toEqual({ layerIndex: 0, message });
    }
    expect(inferShapes({ inputShape: [1, 1, 4], layers: [{ type: 'dense', units: 1 }] }).error)
      .toEqual({ layerIndex: 0, message: 'dense #1: a classifier needs at least 2 units, got 1' });
    expect(inferShapes({ inputShape: [1, 1, 4], layers: [head(), { type: 'dropout', rate: 0.1 }] }).error)
      .toEqual({ layerIndex: 1, message: 'the last layer must be a dense layer with softmax activation (the classifier head); it is dropout #2' });
  });

  it('an empty field (null from a cleared input, or absent) says it is required, at its field; a bad value names its field too', () => {
    const cases: Array<[LayerSpec, [number, number, number], string, string]> = [
      [{ type: 'conv2d', filters: null, kernelSize: 3 } as never, [5, 5, 1], 'conv2d #1: filters is required', 'filters'],
      [{ type: 'conv2d', filters: 2 } as never, [5, 5, 1], 'conv2d #1: kernelSize is required', 'kernelSize'],
      [{ type: 'conv2d', filters: 0, kernelSize: 3 }, [5, 5, 1], 'conv2d #1: filters must be a positive integer, got 0', 'filters'],
      [{ type: 'maxpool2d', poolSize: null } as never, [5, 5, 1], 'maxpool2d #1: poolSize is required', 'poolSize'],
      [{ type: 'avgpool2d', poolSize: 2, stride: 0 }, [5, 5, 1], 'avgpool2d #1: stride must be a positive integer or [h, w] of positive integers, got 0', 'stride'],
      [{ type: 'dense', units: null } as never, [1, 1, 5], 'dense #1: units is required', 'units'],
      [{ type: 'dropout', rate: null } as never, [1, 1, 5], 'dropout #1: rate is required', 'rate'],
    ];
    for (const [layer, inputShape, message, field] of cases) {
      expect(inferShapes({ inputShape, layers: [layer, { type: 'flatten' }, head()] }).error).toEqual({ layerIndex: 0, message, field });
    }
    // A problem of the model as a whole is in no field.
    expect(inferShapes({ inputShape: [4, 4, 1], layers: [{ type: 'dense', units: 3 }] }).error).toEqual({ layerIndex: 0, message: 'dense #1: input 4×4×1 is not flat; add a flatten layer before it' });
  });
});
