import { describe, expect, test } from 'vitest';
import { FakeService } from '../../test/fake-client.js';
import { run } from '../../test/fixtures.js';
import { REQUEST_LIMITS, type RunSummary } from '../../../src-main/contract/index.js';
import { ModelImportState } from './model-import.svelte.js';

const file = (name: string, bytes: number[]) => ({ name, size: bytes.length, arrayBuffer: async () => new Uint8Array(bytes).buffer });

function importer() {
  const service = new FakeService();
  const adopted: RunSummary[] = [];
  return { service, adopted, state: new ModelImportState(service.client, { adopt: async (r) => void adopted.push(r) }) };
}

describe('importing a trained model file as a run', () => {
  test('the file\'s bytes go as base64 with the chosen dataset and name; the new run is adopted and said in words', async () => {
    const { service, adopted, state } = importer();
    const imported = run({ id: 12, name: 'from the cluster', status: 'completed', datasetId: 3, datasetName: 'Fashion-MNIST' });
    service.answer('importModel', imported);
    state.datasetId = 3;
    state.name = '  from the cluster ';
    expect(await state.import(file('trained.cnnm', [1, 2, 3, 250]))).toEqual(imported);
    expect(service.requestsOf('importModel')).toEqual([{ datasetId: 3, model: 'AQID+g==', name: 'from the cluster' }]);
    expect(state.imported).toEqual({ file: 'trained.cnnm', run: imported });
    expect(adopted).toEqual([imported]);
    expect(state.error).toBeNull();
    expect(state.busy).toBe(false);
  });

  test('no name: the request has none (the service names it from the file)', async () => {
    const { service, state } = importer();
    service.answer('importModel', run({ id: 2 }));
    state.datasetId = 1;
    await state.import(file('w.cnnm', [0]));
    expect(service.requestsOf('importModel')).toEqual([{ datasetId: 1, model: 'AA==' }]);
  });

  test('a refusal is shown in words with the file\'s name; nothing adopted', async () => {
    const { service, adopted, state } = importer();
    service.refuse('importModel', { code: 'invalid_spec', message: 'the model takes 32×32×3 images but Fashion-MNIST sample has 28×28×1' });
    state.datasetId = 1;
    expect(await state.import(file('cifar.cnnm', [7]))).toBeNull();
    expect(state.error).toBe('cifar.cnnm was not imported: the model takes 32×32×3 images but Fashion-MNIST sample has 28×28×1');
    expect(state.imported).toBeNull();
    expect(adopted).toEqual([]);
  });

  test('no dataset chosen, or a file over the limit: refused before anything is read or sent', async () => {
    const { service, state } = importer();
    let read = false;
    await state.import({ name: 'x.cnnm', size: 4, arrayBuffer: async () => ((read = true), new ArrayBuffer(4)) });
    expect(state.error).toMatch(/^Choose the dataset/);
    state.datasetId = 1;
    await state.import({ name: 'huge.cnnm', size: REQUEST_LIMITS.modelFileBytes + 1, arrayBuffer: async () => ((read = true), new ArrayBuffer(4)) });
    expect(state.error).toBe('huge.cnnm is 67.1 MB, more than the 67.1 MB a model file may be');
    expect(read).toBe(false);
    expect(service.requestsOf('importModel')).toEqual([]);
  });
});
