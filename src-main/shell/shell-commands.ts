/**
 * The shell contract's handlers: dialogs, writing exports where the save dialog says, revealing what
 * was written, opening the data folder. Requests arrive validated (src-main/ipc.ts); answers are
 * Results. Electron's dialog and shell come in as parameters, so this is tested with the stand-in.
 */
import { mkdirSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { BrowserWindow, Dialog, OpenDialogOptions, SaveDialogOptions, Shell } from 'electron';
import type { ContractHandler, Result } from '../contract/index.js';
import type { ExportFormat, ShellCommandName, ShellRequestOf, ShellResponseOf } from '../contract/shell.js';
import { writeAtomic } from '../export/files.js';

export type ShellHandlers = { [C in ShellCommandName]: (request: ShellRequestOf<C>) => Promise<Result<ShellResponseOf<C>>> };

export interface ShellCommandDeps {
  dialog: Pick<Dialog, 'showOpenDialog' | 'showSaveDialog'>;
  shell: Pick<Shell, 'showItemInFolder' | 'openPath'>;
  /** The parent of the dialogs (null: none open). */
  window(): BrowserWindow | null;
  service: Pick<ContractHandler, 'call'>;
  dataDir: string;
  /** Where the first save dialog opens (the user's documents folder). */
  defaultSaveDir: string;
}

const FORMAT_FILTERS: Record<ExportFormat, { name: string; extensions: string[] }> = {
  onnx: { name: 'ONNX model', extensions: ['onnx'] },
  json: { name: 'Model JSON (weights beside it as .bin)', extensions: ['json'] },
  csv: { name: 'Metrics CSV', extensions: ['csv'] },
  html: { name: 'Self-contained web page', extensions: ['html'] },
  // a folder to create: no extension, and a filter would add one
  pytorch: { name: 'PyTorch project folder', extensions: ['*'] },
};

/** The path to write: the chosen one, with the format's extension added when the name has none. */
export function exportTarget(chosen: string, format: ExportFormat): string {
  return format === 'pytorch' || extname(chosen) !== '' ? chosen : `${chosen}.${format}`;
}

/** The default name in the save dialog: a file, or the PyTorch project's folder. */
const defaultExportName = (runId: number, format: ExportFormat) => (format === 'pytorch' ? `run-${runId}-pytorch` : `run-${runId}.${format}`);

const fail = (code: 'unauthorized' | 'internal', message: string) => ({ ok: false as const, error: { code, message } });

export function shellCommands(deps: ShellCommandDeps): ShellHandlers {
  /** Files this shell wrote: the only ones a page may ask to reveal. */
  const written = new Set<string>();
  let saveDir = deps.defaultSaveDir;

  const openDialog = (options: OpenDialogOptions) => {
    const win = deps.window();
    return win ? deps.dialog.showOpenDialog(win, options) : deps.dialog.showOpenDialog(options);
  };
  const saveDialog = (options: SaveDialogOptions) => {
    const win = deps.window();
    return win ? deps.dialog.showSaveDialog(win, options) : deps.dialog.showSaveDialog(options);
  };

  return {
    async chooseImportPaths({ kind }) {
      const r = await openDialog(kind === 'folder'
        ? { title: 'Import Dataset Folders', properties: ['openDirectory', 'multiSelections'] }
        : {
          title: 'Import Dataset Files',
          properties: ['openFile', 'multiSelections'],
          // IDX files have no extension of their own (train-images-idx3-ubyte): All Files stays on offer
          filters: [{ name: 'Datasets (archives, CSV, IDX)', extensions: ['zip', 'tar', 'gz', 'tgz', 'csv', 'ubyte'] }, { name: 'All Files', extensions: ['*'] }],
        });
      return { ok: true, value: { paths: r.canceled ? [] : r.filePaths } };
    },

    async saveExport({ runId, format, snapshotId }) {
      const r = await saveDialog({
        title: `Export Run ${runId}`,
        defaultPath: join(saveDir, defaultExportName(runId, format)),
        filters: [FORMAT_FILTERS[format]],
        properties: ['createDirectory', 'showOverwriteConfirmation'],
      });
      if (r.canceled || !r.filePath) return { ok: true, value: null };
      const target = exportTarget(r.filePath, format);
      const folder = format === 'pytorch';
      const exported = await deps.service.call('exportRun', { runId, format, ...(folder ? {} : { fileName: basename(target) }), ...(snapshotId !== undefined ? { snapshotId } : {}) });
      if (!exported.ok) return exported;
      const paths: string[] = [];
      try {
        // the main file under the chosen name; a model JSON's weights beside it under the name it
        // gives them; a PyTorch project's files in the folder of the chosen name
        if (folder) mkdirSync(target, { recursive: true });
        for (const f of exported.value.files) {
          const path = join(folder ? target : dirname(target), f.name);
          writeAtomic(path, Buffer.from(f.base64, 'base64'));
          paths.push(path);
        }
      } catch (e) {
        return fail('internal', `cannot write ${target}: ${(e as Error).message}`);
      }
      paths.forEach((p) => written.add(p));
      saveDir = dirname(target);
      return { ok: true, value: { paths, format, bytes: exported.value.files.reduce((n, f) => n + f.bytes, 0) } };
    },

    async revealPath({ path }) {
      if (!written.has(path)) return fail('unauthorized', 'revealPath: only a file this app saved can be revealed');
      deps.shell.showItemInFolder(path);
      return { ok: true, value: { revealed: true } };
    },

    async openDataFolder() {
      const problem = await deps.shell.openPath(deps.dataDir);
      return problem ? fail('internal', `cannot open ${deps.dataDir}: ${problem}`) : { ok: true, value: { path: deps.dataDir } };
    },
  };
}
