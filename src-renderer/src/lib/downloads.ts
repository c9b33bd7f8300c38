/** Saving what the service hands back as base64 files (an export) as the browser's downloads. */
import type { ExportRunResponse } from './api.js';
import { packTar } from './tar.js';

const TYPES: Record<string, string> = { json: 'application/json', csv: 'text/csv', html: 'text/html', tar: 'application/x-tar' };

export function decodeBase64(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** One download per file, under the name the service gave it (a JSON export is `x.json` and `x.json.bin`). */
export function downloadFiles(files: ExportRunResponse['files']): void {
  for (const f of files) {
    const type = TYPES[f.name.split('.').pop() ?? ''] ?? 'application/octet-stream';
    const url = URL.createObjectURL(new Blob([decodeBase64(f.base64)], { type }));
    const a = document.createElement('a');
    a.href = url;
    a.download = f.name;
    a.click();
    // The download has its own copy once it started; the object URL only has to outlive the click.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}

export function encodeBase64(bytes: Uint8Array): string {
  let text = '';
  // in slices: String.fromCharCode takes its bytes as arguments, and arguments are bounded
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** Files as one ustar archive of a folder `folder/` (name: folder + '.tar'), in the same base64 shape. */
export async function tarOfFiles(files: ExportRunResponse['files'], folder: string): Promise<ExportRunResponse['files'][number]> {
  const tar = new Uint8Array(await packTar(files.map((f) => ({ path: `${folder}/${f.name}`, data: new Blob([decodeBase64(f.base64)]) }))).arrayBuffer());
  return { name: `${folder}.tar`, bytes: tar.length, base64: encodeBase64(tar) };
}
