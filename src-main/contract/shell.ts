/**
 * The shell contract: what only the desktop shell can do, beside the service's contract (like
 * desktop/desktop's shell channels next to its app channels). Requests are schemas of the same
 * schema language, validated where they enter the main process; answers are Results, errors as
 * data. Pure: the renderer imports the types, the preload and src-main/ipc.ts the values.
 *
 * Paths on disk are chosen by the local user — a dialog, a drop — never by a page's request: the
 * page asks for a dialog and gets the chosen paths back, asks to save an export and the main process
 * writes it where the save dialog says, and can reveal only a file the shell itself wrote.
 */
import type { Result } from './types.js';
import { id, none, oneOf, optional, request, string, type Infer, type Schema } from './schema.js';

/** 'pytorch' is a folder of files (the save dialog names the folder); the others are files. */
export const EXPORT_FORMATS = ['onnx', 'json', 'csv', 'html', 'pytorch'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const SHELL_COMMANDS = {
  /** An open dialog for datasets: folders (class subfolders, IDX pairs) or files (archives, CSV, IDX). */
  chooseImportPaths: request({ kind: oneOf(['folder', 'file'] as const) }),
  /** A save dialog for a run's export; the main process writes the file(s) where the user says. */
  saveExport: request({ runId: id(), format: oneOf(EXPORT_FORMATS), snapshotId: optional(id()) }),
  /** Shows a file the shell saved in the system file manager. */
  revealPath: request({ path: string({ minLength: 1, maxLength: 4096 }) }),
  /** Opens the data folder (the library: database, dataset cache) in the system file manager. */
  openDataFolder: none(),
} satisfies Record<string, Schema<unknown>>;

export type ShellCommandName = keyof typeof SHELL_COMMANDS;
export type ShellRequestOf<C extends ShellCommandName> = Infer<(typeof SHELL_COMMANDS)[C]>;

export interface ShellResponses {
  /** Empty when the user cancelled. */
  chooseImportPaths: { paths: string[] };
  /** `paths`: every file written (a model JSON and its .bin, a PyTorch project's files); null when the user cancelled. */
  saveExport: { paths: string[]; format: ExportFormat; bytes?: number } | null;
  revealPath: { revealed: true };
  openDataFolder: { path: string };
}
type Exact<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : never;
const _responsesCoverCommands: Exact<ShellResponses, typeof SHELL_COMMANDS> = true;
void _responsesCoverCommands;

export type ShellResponseOf<C extends ShellCommandName> = ShellResponses[C];

export const SHELL_COMMAND_NAMES = Object.keys(SHELL_COMMANDS) as ShellCommandName[];

/** What the shell tells the renderer (the application menu's actions and the quit sequence). */
export interface ShellEvents {
  /** File › Import Dataset… chose these paths: import them as if they were dropped. */
  importPaths: { paths: string[] };
  /** File › Export…: export the run on screen (the renderer knows which) through saveExport. */
  exportRequested: { format: ExportFormat };
  /** The app is quitting: running trainings are pausing and snapshotting before the window closes. */
  quitting: { runs: number };
}
export type ShellEventName = keyof ShellEvents;
export const SHELL_EVENT_NAMES: readonly ShellEventName[] = ['importPaths', 'exportRequested', 'quitting'];

/** window.cnnStudioShell: one function per shell command, the dropped file's path, and events. */
export type ShellApi = {
  [C in ShellCommandName]: (request: ShellRequestOf<C>) => Promise<Result<ShellResponseOf<C>>>;
} & {
  /** The path of a File dropped on the window (webUtils.getPathForFile; File.path is gone since Electron 32); '' if it has none. */
  pathForFile(file: File): Promise<string>;
  on<E extends ShellEventName>(event: E, listener: (payload: ShellEvents[E]) => void): () => void;
};

export const SHELL_API_KEY = 'cnnStudioShell';

