/**
 * The contract at the transport boundary: every command the studio's UI relies on is reachable over
 * HTTP with a well-formed request, and a malformed one is refused with bad_request naming the field
 * — never a crash, never `internal`. The list below is written out on purpose: a command dropped
 * from the command map fails here by name.
 */
import { buildModel } from '../../src-engine/model.js';
import { saveModel } from '../../src-engine/serialize.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from './index.js';
import { COMMAND_NAMES, DEFAULT_HYPERPARAMETERS, HYPERPARAMETER_FIELDS, defaultOptimizer, defaultSchedule, mergeHyperparameters, parseRequest } from './index.js';
import { SAMPLE_DATASET_NAME, type Service } from '../service/service.js';
import { MLP_SPEC, openService, QUICK, tempDir } from '../service/testing.js';
import { startWebServer, type WebServer } from '../web/server.js';

let dir: ReturnType<typeof tempDir>;
let service: Service;
let server: WebServer;
let datasetId: number;
let runId: number;
let snapshotId: number;

beforeAll(async () => {
  dir = tempDir();
  service = await openService(dir.path);
  server = await startWebServer(service, { rendererDir: null });
  datasetId = service.datasets.find(SAMPLE_DATASET_NAME).id;
  const run = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 1 } });
  await service.runs.waitFor(run.id);
  runId = run.id;
  snapshotId = service.runs.detail(runId, false).snapshots[0]!.id;
});

afterAll(async () => {
  await server?.close();
  await service?.close();
  dir?.remove();
});

const post = async (command: string, body: unknown): Promise<{ status: number; result: Result<unknown> }> => {
  const res = await fetch(`${server.apiUrl}/${command}`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` }, body: JSON.stringify(body),
  });
  return { status: res.status, result: (await res.json()) as Result<unknown> };
};

/** [command, a well-formed request, a malformed one, the field the refusal must name]. */
const CASES: [string, () => unknown, () => unknown, string][] = [
  ['listDatasets', () => ({}), () => ({ id: 1 }), 'id'],
  ['getDataset', () => ({ id: datasetId }), () => ({ id: [datasetId] }), 'id'],
  ['importDataset', () => ({ path: '/nonexistent/folder' }), () => ({ path: 42 }), 'path'],
  ['cancelImport', () => ({ importId: 'none' }), () => ({}), 'importId'],
  ['deleteDataset', () => ({ id: 999_999 }), () => ({ id: true }), 'id'],
  ['updateDataset', () => ({ id: datasetId, tags: ['sample'] }), () => ({ id: datasetId, classNames: ['only one'] }), 'classNames'],
  ['reimportDataset', () => ({ id: 999_999 }), () => ({ id: datasetId, from: '/elsewhere' }), 'from'],
  ['getThumbnails', () => ({ datasetId, split: 'test', indices: [0, 1] }), () => ({ datasetId, split: 'test', indices: Array(501).fill(0) }), 'indices'],
  ['validateSpec', () => ({ spec: MLP_SPEC }), () => ({ spec: { inputShape: 'big', layers: [] } }), 'spec'],
  ['templates', () => ({}), () => ({ datasetId: 'x' }), 'datasetId'],
  ['startRun', () => ({ datasetId, spec: MLP_SPEC, hyperparameters: { ...QUICK, epochs: 1 } }), () => ({ datasetId, spec: MLP_SPEC, hyperparameters: { constructor: 1 } }), 'hyperparameters.constructor'],
  ['pauseRun', () => ({ id: runId }), () => ({ id: -1 }), 'id'],
  ['resumeRun', () => ({ id: runId }), () => ({ id: 1.5 }), 'id'],
  ['stopRun', () => ({ id: runId }), () => ({ id: '1' }), 'id'],
  ['listRuns', () => ({ status: 'completed', sort: 'bestAccuracy', order: 'desc', tag: 'checked' }), () => ({ sort: 'colour' }), 'sort'],
  ['getRun', () => ({ id: runId }), () => ({ id: runId, batches: 'yes' }), 'batches'],
  ['forkRun', () => ({ runId, snapshotId, hyperparameters: { epochs: 1, trainLimit: 100 } }), () => ({ runId, hyperparameters: { optimizer: { toString: 3 } } }), 'hyperparameters.optimizer.toString'],
  ['compareRuns', () => ({ ids: [runId, runId] }), () => ({ ids: [runId] }), 'ids'],
  ['evaluateRun', () => ({ runId, split: 'test' }), () => ({ runId, split: 'everything' }), 'split'],
  ['evaluationImages', () => ({ runId, evaluationId: 999_999, label: 0, predicted: 1, offset: 0, limit: 24 }), () => ({ runId, evaluationId: 1, label: 0, predicted: 1, offset: 0, limit: 201 }), 'limit'],
  ['cancelEvaluation', () => ({ runId }), () => ({ runId: null }), 'runId'],
  ['exportRun', () => ({ runId, format: 'onnx' }), () => ({ runId, format: 'onnx', outPath: '/tmp/x.onnx' }), 'outPath'],
  ['predict', () => ({ runId, image: { type: 'dataset', datasetId, split: 'test', index: 0 } }), () => ({ runId, image: { type: 'dataset', datasetId, split: 'test', index: -1 } }), 'image.index'],
  ['featureMaps', () => ({ runId, image: { type: 'pixels', width: 28, height: 28, channels: 1, base64: Buffer.alloc(784).toString('base64') } }), () => ({ runId, image: { type: 'drawing' } }), 'image.type'],
  ['inspectFilters', () => ({ runId, snapshotId }), () => ({ runId, snapshotId: 'latest' }), 'snapshotId'],
  ['stepThrough', () => ({ runId, image: { type: 'dataset', datasetId, split: 'test', index: 1 }, units: [{ layer: 1, unit: [0, 0, 3] }] }), () => ({ runId, image: { type: 'dataset', datasetId, split: 'test', index: 1 }, units: [{ layer: 1, unit: [0, 0] }] }), 'units[0].unit'],
  ['saliency', () => ({ runId, image: { type: 'dataset', datasetId, split: 'test', index: 0 }, classIndex: 2 }), () => ({ runId, image: { type: 'dataset', datasetId, split: 'test', index: 0 }, classIndex: -1 }), 'classIndex'],
  ['gradientCheck', () => ({ runId, samples: 2 }), () => ({ runId, samples: 1000 }), 'samples'],
  ['runHealth', () => ({ runId }), () => ({ runId: 'latest' }), 'runId'],
  ['cancelInspection', () => ({ inspectionId: 'none' }), () => ({ inspectionId: '' }), 'inspectionId'],
  ['importModel', () => ({ datasetId, model: Buffer.from(saveModel(buildModel(MLP_SPEC))).toString('base64') }), () => ({ datasetId, model: 'not base64!' }), 'model'],
  ['deleteRun', () => ({ id: 999_999 }), () => ({ id: {} }), 'id'],
  ['updateRun', () => ({ id: runId, tags: ['checked'] }), () => ({ id: runId, tags: 'checked' }), 'tags'],
  ['diffRuns', () => ({ a: runId, b: 999_999 }), () => ({ a: runId }), 'b'],
  ['startSweep', () => ({ runId: 999_999, kind: 'grid', space: { learningRate: [0.01, 0.1] }, maxRuns: 2 }), () => ({ runId, kind: 'grid', space: { momentum: [0.9] }, maxRuns: 2 }), 'space.momentum'],
  ['listSweeps', () => ({}), () => ({ all: true }), 'all'],
  ['getSweep', () => ({ id: 999_999 }), () => ({ id: 'latest' }), 'id'],
  ['cancelSweep', () => ({ id: 999_999 }), () => ({}), 'id'],
];

describe('every command over HTTP', () => {
  it('the command map holds exactly the commands listed here', () => {
    expect([...COMMAND_NAMES].sort()).toEqual(CASES.map((c) => c[0]).sort());
  });

  for (const [command, good, bad, field] of CASES) {
    it(`${command}: a well-formed request is answered; a malformed one is bad_request naming ${field}`, async () => {
      const ok = await post(command, good());
      expect(ok.status).toBe(200);
      // answered by the command itself: success, or a refusal about the objects it names — never the request's shape
      if (!ok.result.ok) expect(['not_found', 'conflict', 'import_failed', 'in_use'], JSON.stringify(ok.result.error)).toContain(ok.result.error.code);
      const refused = await post(command, bad());
      expect(refused.status).toBe(200);
      expect(refused.result.ok).toBe(false);
      if (refused.result.ok) return;
      expect(refused.result.error.code).toBe('bad_request');
      expect(refused.result.error.detail?.field).toBe(field);
      expect(refused.result.error.message).toContain(field);
    });
  }

  it('an empty required field says it is required, not "got null"', async () => {
    const r = await post('startRun', { datasetId, spec: MLP_SPEC, hyperparameters: { batchSize: null } });
    expect(r.result).toMatchObject({ ok: false, error: { code: 'bad_request', message: 'startRun: hyperparameters.batchSize is required' } });
  });
});

describe('request schemas', () => {
  it('refuse ids that are not plain positive integers, and keys that objects do not declare', () => {
    for (const id of [[1], true, '1', 0, 2 ** 60, null]) {
      const r = parseRequest('getRun', { id });
      expect(r.ok, JSON.stringify(id)).toBe(false);
    }
    expect(parseRequest('getRun', { id: 3 })).toEqual({ ok: true, value: { id: 3 } });
    for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const r = parseRequest('getRun', JSON.parse(`{"id": 1, ${JSON.stringify(key)}: 1}`));
      expect(r.ok ? null : r.error.message, key).toMatch(/unknown field/);
    }
  });

  it('a file name for an export may not hold a folder', () => {
    for (const fileName of ['../db.sqlite', '/etc/passwd', 'a/b.onnx', 'a\\b.onnx', '..', '']) {
      expect(parseRequest('exportRun', { runId: 1, format: 'onnx', fileName }).ok, fileName).toBe(false);
    }
    expect(parseRequest('exportRun', { runId: 1, format: 'onnx', fileName: 'model v2.onnx' }).ok).toBe(true);
  });
});

describe('the hyperparameter table', () => {
  const leaves = (o: object, prefix = ''): string[] => Object.entries(o).flatMap(([k, v]) =>
    v && typeof v === 'object' && !Array.isArray(v) ? leaves(v, `${prefix}${k}.`) : k === 'type' && prefix ? [] : [`${prefix}${k}`]);

  it('has a field for every knob of every optimizer and schedule type, and no field without a knob', () => {
    const all = new Set<string>();
    for (const optimizer of ['sgd', 'adam', 'adamw'] as const) {
      for (const schedule of ['constant', 'step', 'cosine', 'plateau'] as const) {
        const h = { ...DEFAULT_HYPERPARAMETERS, optimizer: defaultOptimizer(optimizer), schedule: defaultSchedule(schedule), earlyStopping: { patience: 3, minDelta: 0, monitor: 'valLoss' as const } };
        for (const leaf of leaves(h)) all.add(leaf);
      }
    }
    const fields = HYPERPARAMETER_FIELDS.map((f) => f.path).filter((p) => !p.endsWith('.type'));
    expect([...all].sort()).toEqual([...fields].sort());
  });

  it('switching optimizer starts from its defaults and keeps what the input says', () => {
    const adam = mergeHyperparameters(DEFAULT_HYPERPARAMETERS, { optimizer: { type: 'adam', beta2: 0.99 } });
    expect(adam.optimizer).toEqual({ type: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0 });
    const back = mergeHyperparameters(adam, { optimizer: { type: 'sgd', learningRate: 0.1 } });
    expect(back.optimizer).toEqual({ type: 'sgd', learningRate: 0.1, momentum: 0.9, nesterov: false, weightDecay: 0 });
    const stepped = mergeHyperparameters(DEFAULT_HYPERPARAMETERS, { schedule: { type: 'step', gamma: 0.5 } });
    expect(stepped.schedule).toEqual({ type: 'step', stepSize: 10, gamma: 0.5 });
    // AdamW: Adam's moments, PyTorch's default decoupled decay
    expect(mergeHyperparameters(DEFAULT_HYPERPARAMETERS, { optimizer: { type: 'adamw' } }).optimizer)
      .toEqual({ type: 'adamw', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 });
    expect(mergeHyperparameters(DEFAULT_HYPERPARAMETERS, { schedule: { type: 'plateau', patience: 4 } }).schedule)
      .toEqual({ type: 'plateau', factor: 0.5, patience: 4, threshold: 1e-4, minLearningRate: 0 });
    expect(DEFAULT_HYPERPARAMETERS).toMatchObject({ warmupEpochs: 0, labelSmoothing: 0 });
  });
});
