/**
 * What the user dropped (or picked) as import sources, one per dropped thing. In the desktop app a
 * dropped file or folder has a path (the shell's pathForFile) and is imported from where it is. In a
 * browser it has none: a file is uploaded as itself, a folder as a tar of it (packed lazily from the
 * files: nothing is read before it is sent), bounded by the same limit the server applies.
 */
import { MAX_UPLOAD_BYTES, uploadTooLarge } from '../../../src-main/contract/upload.js';
import type { ShellApi } from './shell.js';
import { packTar, tarSize, type TarEntry } from './tar.js';
import type { Upload } from './upload.js';

export type ImportSource =
  | { kind: 'path'; label: string; path: string; name?: string }
  | { kind: 'upload'; label: string; upload: Upload };

export interface Refusal {
  label: string;
  message: string;
}

export interface Sources {
  sources: ImportSource[];
  refused: Refusal[];
}

const basename = (path: string) => path.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || path;

/** Desktop: each dropped File's path; one the OS gave none (a dragged snippet of text) is refused. */
export async function pathSources(files: readonly File[], shell: Pick<ShellApi, 'pathForFile'>): Promise<Sources> {
  const out: Sources = { sources: [], refused: [] };
  for (const file of files) {
    const path = await shell.pathForFile(file);
    if (path) out.sources.push({ kind: 'path', label: basename(path), path });
    else out.refused.push({ label: file.name, message: `${file.name}: not a file or folder on this computer` });
  }
  return out;
}

/** The directory entries of a drop; read during the drop event (a DataTransfer is emptied after it). */
export function entriesOf(data: DataTransfer): (FileSystemEntry | File)[] {
  const out: (FileSystemEntry | File)[] = [];
  for (const item of data.items) {
    if (item.kind !== 'file') continue;
    // no entry (a synthetic drop, an old browser): the File itself, which cannot be a folder
    const entry = item.webkitGetAsEntry?.() ?? null;
    const file = entry ? null : item.getAsFile();
    if (entry) out.push(entry);
    else if (file) out.push(file);
  }
  return out;
}

const readBatch = (reader: FileSystemDirectoryReader) => new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
const fileOf = (entry: FileSystemFileEntry) => new Promise<File>((resolve, reject) => entry.file(resolve, reject));

/** Every file under a dropped folder, its path starting with the folder's own name. */
export async function walk(entry: FileSystemEntry, prefix = ''): Promise<TarEntry[]> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const file = await fileOf(entry as FileSystemFileEntry);
    return [{ path, data: file, mtime: file.lastModified }];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const out: TarEntry[] = [];
  // readEntries answers in batches (100 at a time in Chromium) until an empty one
  for (let batch = await readBatch(reader); batch.length > 0; batch = await readBatch(reader)) {
    for (const child of batch) out.push(...(await walk(child, path)));
  }
  return out;
}

function folderUpload(name: string, files: TarEntry[], max: number): ImportSource | Refusal {
  const size = tarSize(files.map((f) => ({ path: f.path, size: f.data.size })));
  if (size > max) return { label: name, message: `${name}: ${uploadTooLarge(size, max)}` };
  return { kind: 'upload', label: name, upload: { label: name, fileName: `${name}.tar`, blob: packTar(files) } };
}

function fileUpload(file: File, max: number): ImportSource | Refusal {
  if (file.size > max) return { label: file.name, message: `${file.name}: ${uploadTooLarge(file.size, max)}` };
  return { kind: 'upload', label: file.name, upload: { label: file.name, fileName: file.name, blob: file } };
}

const sort = (items: (ImportSource | Refusal)[]): Sources => ({
  sources: items.filter((i): i is ImportSource => 'kind' in i),
  refused: items.filter((i): i is Refusal => !('kind' in i)),
});

/** Browser: one upload per dropped thing: a file as itself, a folder as <name>.tar. */
export async function uploadSources(dropped: readonly (FileSystemEntry | File)[], max: number = MAX_UPLOAD_BYTES): Promise<Sources> {
  const items: (ImportSource | Refusal)[] = [];
  for (const d of dropped) {
    if (d instanceof File) items.push(fileUpload(d, max));
    else if (d.isFile) items.push(fileUpload(await fileOf(d as FileSystemFileEntry), max));
    else items.push(folderUpload(d.name, await walk(d), max));
  }
  return sort(items);
}

/** Browser, from a picker (<input webkitdirectory> gives each file's relative path): one tar per top folder. */
export function pickedSources(files: readonly File[], max: number = MAX_UPLOAD_BYTES): Sources {
  const folders = new Map<string, TarEntry[]>();
  const items: (ImportSource | Refusal)[] = [];
  for (const file of files) {
    const relative = file.webkitRelativePath;
    if (!relative) {
      items.push(fileUpload(file, max));
      continue;
    }
    const top = relative.split('/')[0]!;
    if (!folders.has(top)) folders.set(top, []);
    folders.get(top)!.push({ path: relative, data: file, mtime: file.lastModified });
  }
  for (const [name, entries] of folders) items.push(folderUpload(name, entries, max));
  return sort(items);
}
