import { describe, expect, test } from 'vitest';
import { DEFAULT_HYPERPARAMETERS, hyperparameterField } from '../../../src-main/contract/index.js';
import type { ModelSpec } from '../lib/api.js';
import { FakeService } from '../../test/fake-client.js';
import { dataset, run } from '../../test/fixtures.js';
import { BuilderState } from './builder.svelte.js';
import { DatasetsState } from './datasets.svelte.js';

const types = (b: BuilderState) => b.items.map((i) => i.layer.type);
const plainItems = (b: BuilderState): unknown => JSON.parse(JSON.stringify(b.items));

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
    expect(builder.refusal?.message).toBe('batch size is required');
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

  test('a layer is inserted at any position; a card moved to any index; a move onto itself records nothing', async () => {
    const { builder } = await started();
    builder.insertLayer('dropout', 0);
    expect(types(builder)).toEqual(['dropout', 'conv2d', 'maxpool2d', 'flatten', 'dense']);
    builder.insertLayer('batchnorm', 99); // past the end: at the end
    expect(types(builder)).toEqual(['dropout', 'conv2d', 'maxpool2d', 'flatten', 'dense', 'batchnorm']);
    builder.removeLayer(5);
    builder.moveLayerTo(0, 3);
    expect(types(builder)).toEqual(['conv2d', 'maxpool2d', 'flatten', 'dropout', 'dense']);
    const keys = builder.items.map((i) => i.key);
    builder.moveLayerTo(4, 0);
    expect(builder.items.map((i) => i.key)).toEqual([keys[4], ...keys.slice(0, 4)]);
    builder.undo();
    builder.moveLayerTo(2, 2);
    builder.moveLayerTo(2, 9);
    builder.undo(); // undoes the move of layer 0 to 3, not the no-ops
    expect(types(builder)).toEqual(['dropout', 'conv2d', 'maxpool2d', 'flatten', 'dense']);
  });

  test('undo and redo walk every edit of the stack back and forth; a new edit drops what could be redone', async () => {
    const { builder } = await started();
    expect(builder.history.canUndo).toBe(false); // the first template is where the history starts
    const original = plainItems(builder);
    builder.addLayer('dropout');
    builder.setLayerField(0, 'kernelSize', 5);
    builder.moveLayer(3, -1);
    builder.removeLayer(1);
    const edited = plainItems(builder);
    expect(types(builder)).toEqual(['conv2d', 'dropout', 'flatten', 'dense']);
    expect(builder.check.shapes[0]?.outputShape).toEqual([24, 24, 8]);

    builder.undo();
    expect(types(builder)).toEqual(['conv2d', 'maxpool2d', 'dropout', 'flatten', 'dense']);
    builder.undo();
    expect(types(builder)).toEqual(['conv2d', 'maxpool2d', 'flatten', 'dropout', 'dense']);
    builder.undo();
    expect(builder.items[0]!.layer).toMatchObject({ kernelSize: 3 });
    expect(builder.check.shapes[0]?.outputShape).toEqual([26, 26, 8]);
    builder.undo();
    expect(plainItems(builder)).toEqual(original); // the same layers under the same keys
    expect(builder.history.canUndo).toBe(false);
    builder.undo(); // nothing left: nothing changes
    expect(plainItems(builder)).toEqual(original);

    for (let i = 0; i < 4; i++) builder.redo();
    expect(plainItems(builder)).toEqual(edited);
    expect(builder.history.canRedo).toBe(false);

    builder.undo();
    builder.setLayerField(0, 'filters', 4);
    expect(builder.history.canRedo).toBe(false);
    builder.redo();
    expect(builder.items[0]!.layer).toMatchObject({ filters: 4 });
  });

  test('typing into one field is one undo step until its change event; the next edit of it is another', async () => {
    const { builder } = await started();
    for (const v of [1, 12, 128]) builder.setLayerField(0, 'filters', v); // input events of "128"
    builder.settleEdit(); // its change event
    builder.setLayerField(0, 'filters', 64);
    builder.undo();
    expect(builder.items[0]!.layer).toMatchObject({ filters: 128 });
    builder.undo();
    expect(builder.items[0]!.layer).toMatchObject({ filters: 8 });
    // Another field of the same layer is a step of its own even while typing.
    builder.setLayerField(0, 'filters', 2);
    builder.setLayerField(0, 'kernelSize', 5);
    builder.undo();
    expect(builder.items[0]!.layer).toMatchObject({ filters: 2, kernelSize: 3 });
    // A field set to undefined (an emptied optional input) is removed, and comes back on undo.
    builder.setLayerField(0, 'activation', undefined);
    expect('activation' in builder.items[0]!.layer).toBe(false);
    builder.undo();
    expect(builder.items[0]!.layer).toMatchObject({ activation: 'relu' });
  });

  test('the chosen template is shown; an edit says which template it was modified from; undoing a template brings back the stack and the form', async () => {
    const { service, builder } = await started();
    expect(builder.templateName).toBe('reference');
    expect(builder.modifiedFrom).toBeNull();
    service.answer('templates', [
      { name: 'reference', description: 'conv, pool, dense', spec: REFERENCE },
      { name: 'strong', description: 'with a recipe', spec: { ...REFERENCE, layers: REFERENCE.layers.slice(1) }, hyperparameters: { epochs: 6 } },
    ]);
    await builder.loadTemplates();
    builder.form.hyperparameters.batchSize = 7; // the user's own value, before choosing
    builder.applyTemplate('strong');
    expect(builder.templateName).toBe('strong');
    expect(builder.form.hyperparameters.epochs).toBe(6);
    builder.setLayerField(0, 'poolSize', 1);
    expect(builder.modifiedFrom).toBe('strong');
    builder.setLayerField(0, 'poolSize', 2); // typed back to the template's value
    expect(builder.modifiedFrom).toBeNull();
    builder.settleEdit();
    builder.addLayer('dropout');
    expect(builder.modifiedFrom).toBe('strong');
    builder.undo();
    expect(builder.modifiedFrom).toBeNull();
    builder.undo(); // the poolSize edits (one run of typing)
    builder.undo(); // the template choice: reference's layers, its name, and the form as it was
    expect(types(builder)).toEqual(['conv2d', 'maxpool2d', 'flatten', 'dense']);
    expect(builder.templateName).toBe('reference');
    expect(builder.form.hyperparameters).toEqual({ ...DEFAULT_HYPERPARAMETERS, batchSize: 7 });
    builder.redo();
    expect(builder.templateName).toBe('strong');
    expect(builder.form.hyperparameters).toMatchObject({ epochs: 6, batchSize: DEFAULT_HYPERPARAMETERS.batchSize });
  });

  test('an emptied field says it is required, at its layer and field; the layers before it keep their shapes', async () => {
    const { builder } = await started();
    builder.insertLayer('conv2d', 2); // conv 8 → pool → conv 16 → flatten → dense
    expect(builder.check.error).toBeNull();
    builder.setLayerField(2, 'filters', null); // what a cleared number input binds
    expect(builder.check.error).toEqual({ layerIndex: 2, message: 'conv2d #3: filters is required', field: 'filters' });
    expect(builder.check.shapes.map((s) => s?.outputShape ?? null)).toEqual([[26, 26, 8], [13, 13, 8], null, null, null]);
    builder.setLayerField(2, 'filters', 16);
    builder.setLayerField(4, 'units', null);
    expect(builder.check.error).toEqual({ layerIndex: 4, message: 'dense #5: units is required', field: 'units' });
    expect(builder.check.shapes.slice(0, 4).map((s) => s?.outputShape)).toEqual([[26, 26, 8], [13, 13, 8], [11, 11, 16], [1, 1, 11 * 11 * 16]]);
    // A problem that is not in one field (a kernel too big for its input) names the layer only.
    builder.setLayerField(4, 'units', 10);
    builder.setLayerField(2, 'kernelSize', 20);
    expect(builder.check.error).toEqual({ layerIndex: 2, message: 'conv2d #3: kernel 20×20 does not fit input 13×13×8' });
  });

  test('another dataset starts a new history (the snapshots were sized to the other one)', async () => {
    const { builder } = await started();
    builder.addLayer('dropout');
    expect(builder.history.canUndo).toBe(true);
    await builder.useDataset(5);
    expect(builder.history.canUndo).toBe(false);
    builder.undo();
    expect(builder.items[builder.items.length - 1]!.layer).toMatchObject({ type: 'dense', units: 3 });
  });
});
