/** Saving what the service hands back as base64 files (an export) as the browser's downloads. */
import type { ExportRunResponse } from './api.js';

const TYPES: Record<string, string> = { json: 'application/json', csv: 'text/csv' };

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
