/**
 * Looking inside a run's snapshot — predict, feature maps, filters, the step-through, saliency, the
 * gradient check — each in a worker of its own (never on the main thread), cancellable by the id
 * the caller chose (a long one tells its progress as inspectionProgress events). The
 * service resolves what the request names (run, snapshot, dataset image, file bytes) and bounds it
 * before a worker starts; the worker prepares the image as training did and runs the engine.
 */
import type { Worker } from 'node:worker_threads';
import { REQUEST_LIMITS, type FeatureMapsResponse, type FiltersResponse, type ImageInput, type PredictResponse, type RequestOf, type StepThroughResponse } from '../contract/index.js';
import type { GradientCheckResponse, SaliencyResponse } from '../contract/index.js';
import { DEFAULT_IMPORT_LIMITS } from '../datasets/index.js';
import type { InspectionJob, InspectionKind, InspectionMessage, InspectionResults, JobImage } from '../inspection/protocol.js';
import type { ServiceContext } from './context.js';
import type { DatasetRow } from '../db/store.js';
import type { DatasetLibrary } from './datasets.js';
import { ServiceError } from './errors.js';
import type { RunManager } from './runs.js';

type Inspection = { runId: number; snapshotId?: number; inspectionId?: string };

export class Inspections {
  private readonly inFlight = new Map<Worker, { inspectionId: string | undefined; cancel: () => void }>();

  constructor(private readonly ctx: ServiceContext, private readonly runs: RunManager, private readonly datasets: DatasetLibrary) {}

  predict(r: RequestOf<'predict'>): Promise<PredictResponse> {
    return this.inspect(r, 'predict', (base) => ({ ...base, kind: 'predict', image: this.image(r.image, base.shape) }));
  }

  featureMaps(r: RequestOf<'featureMaps'>): Promise<FeatureMapsResponse> {
    return this.inspect(r, 'featureMaps', (base) => ({ ...base, kind: 'featureMaps', image: this.image(r.image, base.shape) }));
  }

  filters(r: RequestOf<'inspectFilters'>): Promise<FiltersResponse> {
    return this.inspect(r, 'filters', (base) => ({ ...base, kind: 'filters' }));
  }

  stepThrough(r: RequestOf<'stepThrough'>): Promise<StepThroughResponse> {
    return this.inspect(r, 'stepThrough', (base) => ({
      ...base, kind: 'stepThrough', image: this.image(r.image, base.shape), label: r.label, units: r.units?.map((u) => ({ layer: u.layer, unit: [...u.unit] as [number, number, number] })),
    }));
  }

  saliency(r: RequestOf<'saliency'>): Promise<SaliencyResponse> {
    return this.inspect(r, 'saliency', (base) => ({ ...base, kind: 'saliency', image: this.image(r.image, base.shape), classIndex: r.classIndex }));
  }

  /** Progress as inspectionProgress events when the request names an inspectionId. */
  gradientCheck(r: RequestOf<'gradientCheck'>): Promise<GradientCheckResponse> {
    return this.inspect(r, 'gradientCheck', (base, dataset) => ({
      ...base, kind: 'gradientCheck', cacheFile: dataset.cacheFile, samples: r.samples ?? 4, entriesPerParameter: r.entriesPerParameter ?? 16,
    }));
  }

  /** Stops the inspections started with this id; each rejects with code 'cancelled'. */
  cancel(inspectionId: string): { cancelled: boolean } {
    let cancelled = false;
    for (const [worker, e] of this.inFlight) {
      if (e.inspectionId !== inspectionId) continue;
      this.inFlight.delete(worker);
      e.cancel();
      cancelled = true;
    }
    return { cancelled };
  }

  async close(): Promise<void> {
    await Promise.all([...this.inFlight.keys()].map((w) => w.terminate()));
  }

  /** What a request names, checked before a worker starts: the image's dataset and index, the file's size. */
  private image(input: ImageInput, shape: [number, number, number]): JobImage {
    if (input.type === 'dataset') {
      const d = this.datasets.row(input.datasetId);
      if (d.shape.join('×') !== shape.join('×')) {
        throw new ServiceError('bad_request', `dataset ${JSON.stringify(d.name)} holds ${d.shape.join('×')} images; the model takes ${shape.join('×')}`, { field: 'image.datasetId' });
      }
      const count = input.split === 'test' ? d.testCount : d.trainCount;
      if (input.index >= count) throw new ServiceError('bad_request', `dataset ${JSON.stringify(d.name)} has ${count} ${input.split} images; there is no image ${input.index}`, { field: 'image.index' });
      return { type: 'dataset', cacheFile: d.cacheFile, split: input.split, index: input.index };
    }
    const bytes = Buffer.from(input.base64, 'base64');
    if (input.type === 'file') {
      if (bytes.length > REQUEST_LIMITS.imageFileBytes) {
        throw new ServiceError('bad_request', `the image is ${bytes.length} bytes, more than the limit of ${REQUEST_LIMITS.imageFileBytes}`, {
          field: 'image.base64', limit: { name: 'imageFileBytes', actual: bytes.length, limit: REQUEST_LIMITS.imageFileBytes },
        });
      }
      return { type: 'bytes', bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), name: input.name };
    }
    const expected = input.width * input.height * input.channels;
    if (bytes.length !== expected) {
      throw new ServiceError('bad_request', `drawn pixels: ${bytes.length} bytes, expected ${input.height}×${input.width}×${input.channels} = ${expected}`, { field: 'image.base64' });
    }
    return { type: 'pixels', width: input.width, height: input.height, channels: input.channels, pixels: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) };
  }

  private async inspect<K extends InspectionKind, R extends InspectionResults[K]>(r: Inspection, kind: K,
    makeJob: (base: Omit<InspectionJob, 'kind' | 'image'>, dataset: DatasetRow) => InspectionJob): Promise<R & { runId: number; snapshotId: number; epoch: number }> {
    const store = this.ctx.store;
    const run = this.runs.row(r.runId);
    const snapshot = r.snapshotId !== undefined ? store.snapshot(r.snapshotId) : store.latestSnapshot(run.id);
    if (!snapshot || snapshot.runId !== run.id) {
      throw new ServiceError('not_found', r.snapshotId !== undefined ? `run ${run.id} has no snapshot ${r.snapshotId}` : `run ${run.id} has no snapshot yet: train at least one epoch first`);
    }
    if (this.inFlight.size >= REQUEST_LIMITS.inspectionsRunning) {
      throw new ServiceError('conflict', `${this.inFlight.size} inspections are computing, the most at once; wait for one to finish or cancel one`, {
        limit: { name: 'inspectionsRunning', actual: this.inFlight.size + 1, limit: REQUEST_LIMITS.inspectionsRunning },
      });
    }
    const d = this.datasets.row(run.datasetId);
    const job = makeJob({
      state: snapshot.state, kernels: run.hyperparameters.kernels, classNames: d.classNames, shape: run.spec.inputShape, maxPixels: DEFAULT_IMPORT_LIMITS.maxImagePixels,
    }, d);
    const value = await new Promise<InspectionResults[InspectionKind]>((resolvePromise, reject) => {
      const worker = this.ctx.workers.inspection();
      let settled = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        this.inFlight.delete(worker);
        f();
      };
      worker.on('message', (m: InspectionMessage) => {
        if (m.type === 'progress') {
          if (!settled && r.inspectionId !== undefined && kind === 'gradientCheck') {
            this.ctx.events.emit('inspectionProgress', { inspectionId: r.inspectionId, runId: run.id, kind: 'gradientCheck', done: m.done, total: m.total });
          }
          return;
        }
        settle(() => {
          if (m.type === 'inspected') resolvePromise(m.value);
          else if (m.code === 'bad_image') reject(new ServiceError('bad_request', m.message, { field: 'image' }));
          else reject(new ServiceError('internal', `${kind} of run ${run.id} failed: ${m.message}`));
        });
      });
      worker.once('error', (e) => settle(() => reject(new ServiceError('internal', `${kind} of run ${run.id}: the worker crashed: ${e?.message ?? String(e)}`))));
      worker.once('exit', (code) => settle(() => reject(new ServiceError('internal', `${kind} of run ${run.id}: the worker exited with code ${code} before answering`))));
      this.inFlight.set(worker, {
        inspectionId: r.inspectionId,
        cancel: () => settle(() => {
          reject(new ServiceError('cancelled', `${kind} of run ${run.id} cancelled`));
          void worker.terminate();
        }),
      });
      worker.postMessage(job);
    });
    if (this.ctx.isClosed()) throw new ServiceError('cancelled', 'the service closed during the inspection');
    return { ...(value as R), runId: run.id, snapshotId: snapshot.id, epoch: snapshot.epoch };
  }
}
