/**
 * Exporting a run: in the desktop app through the shell's save dialog — the app writes the file(s)
 * where you say and can show them in the file manager; in a browser as downloads of the bytes the
 * service returns (a PyTorch project, a folder of files, as one .tar of that folder). The same for
 * the Train view's buttons and the File › Export menu.
 */
import { messageOf, type Client, type ExportRunResponse } from '../lib/api.js';
import { tarOfFiles } from '../lib/downloads.js';
import type { ExportFormat, ShellApi } from '../lib/shell.js';

export interface SavedExport {
  runId: number;
  format: ExportFormat;
  paths: string[];
  /** All the files' bytes, when the shell says. */
  bytes?: number;
}

export interface DownloadedExport {
  runId: number;
  format: ExportFormat;
  names: string[];
  bytes: number;
}

/** The folder a PyTorch project unpacks to from its browser download. */
export const pytorchFolderName = (runId: number) => `run-${runId}-pytorch`;

export class ExportState {
  busy = $state<ExportFormat | null>(null);
  error = $state<string | null>(null);
  saved = $state<SavedExport | null>(null);
  downloaded = $state<DownloadedExport | null>(null);

  constructor(
    private readonly client: Client,
    private readonly shell: Pick<ShellApi, 'saveExport' | 'revealPath'> | null,
    private readonly download: (files: ExportRunResponse['files']) => void,
  ) {}

  async export(runId: number, format: ExportFormat): Promise<void> {
    if (this.busy) return;
    this.busy = format;
    this.error = null;
    this.saved = null;
    this.downloaded = null;
    try {
      if (this.shell) {
        const r = await this.shell.saveExport({ runId, format });
        if (!r.ok) this.error = r.error.message;
        else if (r.value) this.saved = { runId, format: r.value.format, paths: r.value.paths, ...(r.value.bytes !== undefined ? { bytes: r.value.bytes } : {}) };
      } else {
        let files = (await this.client.get('exportRun', { runId, format })).files;
        // a browser downloads files, not folders: the project's folder goes as one tar of it
        if (format === 'pytorch') files = [await tarOfFiles(files, pytorchFolderName(runId))];
        this.download(files);
        this.downloaded = { runId, format, names: files.map((f) => f.name), bytes: files.reduce((n, f) => n + f.bytes, 0) };
      }
    } catch (e) {
      this.error = messageOf(e);
    } finally {
      this.busy = null;
    }
  }

  async reveal(path: string): Promise<void> {
    const r = await this.shell?.revealPath({ path });
    if (r && !r.ok) this.error = r.error.message;
  }
}
