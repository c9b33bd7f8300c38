/**
 * CNN Studio's engine: a convolutional network library written from scratch in TypeScript.
 * Pure: no Node, no Electron, no ML framework. See README.md "Engine" for the API by example.
 */
export type { ModelSpec, LayerSpec, LayerType, Conv2dSpec, MaxPool2dSpec, FlattenSpec, DenseSpec, DropoutSpec, Pair } from './spec.js';
export { specHash, canonicalJson, samePadding } from './spec.js';
export { inferShapes, inferShapesOrThrow, SpecError, type ShapeReport, type LayerShape } from './shapes.js';
// Layer types: one module each under layers/, looked up through the registry.
export { LAYER_TYPES, describeLayer, describeSpec, findLayerDefinition } from './layers/registry.js';
export type { Param, LayerDefinition, LayerSite } from './layers/layer.js';
export { denseActivation } from './layers/dense.js';
export { parameterLayout, type ParameterEntry, type ParameterLayout } from './parameters.js';
export { onnxGraph, ONNX_OPSET, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME, type OnnxGraph, type OnnxNode, type OnnxTensor } from './onnx-graph.js';
export { Model, buildModel, InputError, validateBatch, type BuildOptions, type LossResult, type Classification } from './model.js';
export type { Kernels, ConvShape, PoolShape } from './kernels/types.js';
export { referenceKernels } from './kernels/reference.js';
export { resolveKernels, type KernelChoice } from './kernels/resolve.js';
export { fastKernels, createWasmKernels, wasmSimdSupported, wasmVariants, WasmUnavailableError, type FastKernels, type WasmVariant } from './kernels/wasm/index.js';
// Data-parallel gradients; the Node worker pool that starts its replicas is parallel/node.ts (Node only).
export { DataParallelGradients, DataParallelError, type DataParallelOptions, type SpawnReplica } from './parallel/data-parallel.js';
export { Rng } from './rng.js';
export { createOptimizer, checkOptimizerConfig, Sgd, Adam, type Optimizer, type OptimizerConfig } from './optimizers/index.js';
export { learningRateAt, checkSchedule, type ScheduleConfig } from './schedules.js';
export { type Dataset, type AugmentConfig, gatherBatch, augmentBatch, evaluateDataset, checkDataset } from './data.js';
export {
  Trainer, TrainingError, checkTrainConfig, localGradients,
  type TrainConfig, type BatchEvent, type EpochMetrics, type EarlyStoppingConfig, type GradientComputer, type TrainerOptions, type StopReason,
} from './train.js';
export { saveModel, loadModel, readModelFile, ModelFormatError, FORMAT_VERSION } from './serialize.js';
export { readTrainerState, isFinished, type TrainerState, type TrainerStateHeader, type TrainerStateBlobs } from './trainer-state.js';
export { Sequential, fit, type FitOptions, type FitHistory } from './sequential.js';
export { referenceNet } from './reference-net.js';
export { type DType, type FloatArray, type Shape3, sizeOf } from './tensor.js';

export const ENGINE_VERSION = '0.1.0';
