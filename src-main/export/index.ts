/**
 * Export of a trained model and its metrics: pure functions that return bytes/text (the service and
 * the CLI call them), plus file helpers in files.ts.
 */
export { exportOnnx, ONNX_OPSET, ONNX_IR_VERSION, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME, type ExportMeta } from './onnx.js';
export {
  exportModelJson, importModelJson, modelFromJson, MODEL_JSON_FORMAT, MODEL_JSON_VERSION,
  type ModelJson, type ModelJsonMeta, type ImportedModel,
} from './model-json.js';
export { metricsCsv, batchMetricsCsv, csvCell, EPOCH_METRIC_COLUMNS, BATCH_METRIC_COLUMNS, type MetricRow } from './csv.js';
export { parameterLayout, ExportError, type ParameterEntry, type ParameterLayout } from './layout.js';
export { writeModelJsonFiles, readModelJsonFiles, loadModelJsonFiles, writeAtomic, modelJsonWeightsName } from './files.js';
