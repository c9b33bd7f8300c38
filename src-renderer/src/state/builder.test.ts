import { describe, expect, test } from 'vitest';
import { DEFAULT_HYPERPARAMETERS, hyperparameterField } from '../../../src-main/contract/index.js';
import type { ModelSpec } from '../lib/api.js';
import { FakeService } from '../../test/fake-client.js';
import { dataset, run } from '../../test/fixtures.js';
import { BuilderState } from './builder.svelte.js';
import { DatasetsState } from './datasets.svelte.js';

const REFERENCE: ModelSpec = {
  inputShape: [28, 28, 1],
  layers: [{ type: 'conv2d', filters: 8, kernelSize: 3, activation: 'relu' }, { type: 'maxpool2d', poolSize: 2 }, { type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }],
};

async function started() {
  const service = new FakeService();
  service.answer('listDatasets', [dataset({ id: 4 }), dataset({ id: 5, name: 'letters', shape: [28, 28, 1], classNames: ['a', 'b', 'c'] })]);
  service.answer('templates', [{ name: 'reference', description: 'conv, pool, dense', spec: REFERENCE }]);
  const datasets = new DatasetsState(service.client);
  await datasets.refresh();
  const builder = new BuilderState(service.client, datasets);
  await builder.ensureStarted();
  return { service, builder };
}

describe('builder state', () => {
  test('starts on the first dataset and the first template, with the contract\'s default hyperparameters', async () => {
    const { service, builder } = await started();
    expect(builder.datasetId).toBe(4);
    expect(service.requestsOf('templates')).toEqual([{ datasetId: 4 }]);
    expect(builder.items.map((i) => i.layer.type)).toEqual(['conv2d', 'maxpool2d', 'flatten', 'dense']);
    expect(builder.form.hyperparameters).toEqual(DEFAULT_HYPERPARAMETERS);
    // The two the old form had wrong: the service's progressEvery and threads defaults.
    expect(builder.form.hyperparameters.progressEvery).toBe(hyperparameterField('progressEvery').default);
    expect(builder.form.hyperparameters.threads).toBe(hyperparameterField('threads').default);
    expect(builder.check.error).toBeNull();
    expect(builder.check.report.totalParams).toBe(8 * 9 + 8 + 13 * 13 * 8 * 10 + 10);
  });

  test("a template with a recipe fills the form with it over the defaults; one without puts the defaults back", async () => {
    const { service, builder } = await started();
    service.answer('templates', [
      { name: 'reference', description: 'conv, pool, dense', spec: REFERENCE },
      { name: 'strong', description: 'with a recipe', spec: REFERENCE, hyperparameters: { epochs: 6, labelSmoothing: 0.1, optimizer: { type: 'adamw', learningRate: 0.003 } } },
    ]);
    await builder.loadTemplates();
    builder.applyTemplate('strong');
    expect(builder.form.hyperparameters).toMatchObject({ epochs: 6, labelSmoothing: 0.1, batchSize: DEFAULT_HYPERPARAMETERS.batchSize, optimizer: { type: 'adamw', learningRate: 0.003 } });
    builder.applyTemplate('reference');
    expect(builder.form.hyperparameters).toEqual(DEFAULT_HYPERPARAMETERS);
  });

  test('another dataset resizes the classifier to its classes', async () => {
    const { builder } = await started();
    await builder.useDataset(5);
    const last = builder.items[builder.items.length - 1]!.layer;
    expect(last).toMatchObject({ type: 'dense', units: 3 });
    expect(builder.check.report.classes).toBe(3);
  });

  test('Start sends the spec, the form\'s hyperparameters and the trimmed name', async () => {
    const { service, builder } = await started();
    service.answer('startRun', run({ id: 3 }));
    builder.form.name = '  my run ';
    builder.form.hyperparameters.epochs = 2;
    expect(await builder.start()).toMatchObject({ id: 3 });
    const [request] = service.requestsOf('startRun');
    expect(request).toEqual({ datasetId: 4, spec: REFERENCE, hyperparameters: { ...DEFAULT_HYPERPARAMETERS, epochs: 2 }, name: 'my run' });
    expect(builder.refusal).toBeNull();
  });

  test('the service\'s refusal of a hyperparameter lands on the field it names', async () => {
    const { service, builder } = await started();
    const message = 'augmentation shift must be an integer from 0 to 14 pixels for 28×28 images, got 20';
    service.refuse('startRun', { code: 'invalid_hyperparameters', message, detail: { field: 'augment.maxShift' } });
    builder.form.hyperparameters.augment.maxShift = 20;
    expect(await builder.start()).toBeNull();
    expect(builder.refusal).toEqual({ message, layerIndex: null, field: 'augment.maxShift' });
    expect(builder.starting).toBe(false);
  });

  test('a refusal of the request\'s shape names the form field, not the request path', async () => {
    const { service, builder } = await started();
    service.refuse('startRun', { code: 'bad_request', message: 'startRun: hyperparameters.kernels must be one of "fast", "reference", got "gpu"', detail: { field: 'hyperparameters.kernels' } });
    await builder.start();
    expect(builder.refusal?.field).toBe('kernels');
  });

  test('a refusal of the spec names its layer', async () => {
    const { service, builder } = await started();
    service.refuse('startRun', { code: 'invalid_spec', message: 'dense #4: 10 units but the dataset has 3 classes', detail: { layerIndex: 3 } });
    await builder.start();
    expect(builder.refusal).toEqual({ message: 'dense #4: 10 units but the dataset has 3 classes', layerIndex: 3, field: null });
  });

  test('a value out of the contract\'s range is refused before asking, in the contract\'s words', async () => {
    const { service, builder } = await started();
    builder.form.hyperparameters.batchSize = 0;
    expect(await builder.start()).toBeNull();
    expect(builder.refusal).toEqual({ message: 'batch size must be an integer from 1 to 65536, got 0', layerIndex: null, field: 'batchSize' });
    // An emptied number field binds null: refused as well, never sent.
    builder.form.hyperparameters.batchSize = null as unknown as number;
    await builder.start();
    expect(builder.refusal?.message).toBe('batch size must be an integer from 1 to 65536, got null');
    expect(service.requestsOf('startRun')).toEqual([]);
  });

  test('layers are added before the classifier, moved and removed; shapes follow', async () => {
    const { builder } = await started();
    builder.addLayer('dropout');
    expect(builder.items.map((i) => i.layer.type)).toEqual(['conv2d', 'maxpool2d', 'flatten', 'dropout', 'dense']);
    builder.moveLayer(3, 1);
    expect(builder.check.error?.layerIndex).toBe(3);
    builder.moveLayer(4, -1);
    expect(builder.check.error).toBeNull();
    builder.removeLayer(1);
    expect(builder.check.shapes[0]?.outputShape).toEqual([26, 26, 8]);
    expect(builder.check.shapes[1]?.outputShape).toEqual([1, 1, 26 * 26 * 8]);
  });
});
