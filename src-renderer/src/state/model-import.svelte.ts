/**
 * Bringing a trained model file back as a run (the `importModel` command): the weights a PyTorch
 * project's train.py wrote (trained.cnnm), or any file in the studio's model format, on a dataset
 * its spec fits. The file's bytes go in the request (a browser has no path to give, and the
 * desktop app needs none), bounded before they are read; the new run, or the refusal, in words.
 */
import { messageOf, type Client, type RunSummary } from '../lib/api.js';
import { encodeBase64 } from '../lib/downloads.js';
import { formatBytes } from '../lib/format.js';
import { REQUEST_LIMITS } from '../../../src-main/contract/index.js';

export interface ImportedModelRun {
  file: string;
  run: RunSummary;
}

export class ModelImportState {
  datasetId = $state<number | null>(null);
  name = $state('');
  busy = $state(false);
  error = $state<string | null>(null);
  imported = $state<ImportedModelRun | null>(null);

  constructor(
    private readonly client: Client,
    private readonly runs: { adopt(run: RunSummary): Promise<void> },
  ) {}

  async import(file: Pick<File, 'name' | 'size' | 'arrayBuffer'>): Promise<RunSummary | null> {
    this.error = null;
    this.imported = null;
    if (this.datasetId === null) {
      this.error = 'Choose the dataset the model was trained on first: the run is evaluated on it';
      return null;
    }
    if (file.size > REQUEST_LIMITS.modelFileBytes) {
      this.error = `${file.name} is ${formatBytes(file.size)}, more than the ${formatBytes(REQUEST_LIMITS.modelFileBytes)} a model file may be`;
      return null;
    }
    this.busy = true;
    try {
      const name = this.name.trim();
      const run = await this.client.get('importModel', {
        datasetId: this.datasetId, model: encodeBase64(new Uint8Array(await file.arrayBuffer())), ...(name ? { name } : {}),
      });
      this.imported = { file: file.name, run };
      await this.runs.adopt(run);
      return run;
    } catch (e) {
      this.error = `${file.name} was not imported: ${messageOf(e)}`;
      return null;
    } finally {
      this.busy = false;
    }
  }
}
