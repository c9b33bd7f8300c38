import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_DATASET_NAME, type Service } from '../service/service.js';
import { MLP_SPEC, openService, QUICK, tempDir } from '../service/testing.js';
import { defaultWorkerFactory, tsxWorkerFactory, type WorkerFactory } from './pool.js';

/** The first worker made runs the crashing fixture; later ones are the real worker. */
function crashOnce(mode: 'throw' | 'exit'): WorkerFactory {
  const crashing = tsxWorkerFactory(new URL('./test/crashing-worker.ts', import.meta.url), { mode });
  const real = defaultWorkerFactory();
  let made = 0;
  return () => (made++ === 0 ? crashing() : real());
}

for (const mode of ['throw', 'exit'] as const) {
  describe(`a worker that ${mode === 'throw' ? 'throws' : 'calls process.exit(3)'}`, () => {
    let dir: ReturnType<typeof tempDir>;
    let service: Service;
    beforeAll(async () => {
      dir = tempDir();
      service = await openService(dir.path, { workerFactory: crashOnce(mode) });
    });
    afterAll(async () => {
      await service?.close();
      dir?.remove();
    });

    it('fails its run with the reason, keeps its batch rows, and the service keeps serving the next run', async () => {
      const datasetId = service.findDataset(SAMPLE_DATASET_NAME).id;
      const crashed = service.startRun({ datasetId, spec: MLP_SPEC, hyperparameters: QUICK });
      const next = service.startRun({ datasetId, spec: MLP_SPEC, hyperparameters: QUICK });
      const failed = await service.waitForRun(crashed.id);
      expect(failed.status).toBe('failed');
      expect(failed.error).toBe(mode === 'throw' ? 'the worker crashed: simulated bug in the training loop' : 'the worker exited with code 3 before finishing');
      expect(service.getRun({ id: crashed.id }).batches.map((b) => b.step)).toEqual([1]);
      expect(service.listDatasets()).toHaveLength(1);
      expect((await service.waitForRun(next.id)).status).toBe('completed');
      expect(service.store.integrityCheck()).toBe('ok');
    });
  });
}
