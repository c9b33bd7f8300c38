import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_DATASET_NAME, type Service } from '../service/service.js';
import { MLP_SPEC, openService, QUICK, tempDir } from '../service/testing.js';
import { startTypeScriptWorker, workerFactories, type WorkerFactories } from '../worker-factories/index.js';

/** The first training worker made runs the crashing fixture; later ones are the real worker. */
function crashOnce(mode: 'throw' | 'exit'): WorkerFactories {
  let made = 0;
  const crashing = new URL('./test/crashing-worker.ts', import.meta.url);
  return { ...workerFactories, training: () => (made++ === 0 ? startTypeScriptWorker(crashing, { mode }) : workerFactories.training()) };
}

for (const mode of ['throw', 'exit'] as const) {
  describe(`a worker that ${mode === 'throw' ? 'throws' : 'calls process.exit(3)'}`, () => {
    let dir: ReturnType<typeof tempDir>;
    let service: Service;
    beforeAll(async () => {
      dir = tempDir();
      service = await openService(dir.path, { workers: crashOnce(mode) });
    });
    afterAll(async () => {
      await service?.close();
      dir?.remove();
    });

    it('fails its run with the reason, keeps its batch rows, and the service keeps serving the next run', async () => {
      const datasetId = service.datasets.find(SAMPLE_DATASET_NAME).id;
      const crashed = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: QUICK });
      const next = service.runs.start({ datasetId, spec: MLP_SPEC, hyperparameters: QUICK });
      const failed = await service.runs.waitFor(crashed.id);
      expect(failed.status).toBe('failed');
      expect(failed.error).toBe(mode === 'throw' ? 'the worker crashed: simulated bug in the training loop' : 'the worker exited with code 3 before finishing');
      expect(service.runs.detail(crashed.id, true).batches.map((b) => b.step)).toEqual([1]);
      expect(service.datasets.list()).toHaveLength(1);
      expect((await service.runs.waitFor(next.id)).status).toBe('completed');
      expect(service.store.integrityCheck()).toBe('ok');
    });
  });
}
