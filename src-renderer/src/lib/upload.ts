/**
 * The browser mode's upload of a dropped file (or a tar of a dropped folder) to the local server,
 * which imports it like a path (POST /api/upload, src-main/contract/upload.ts). XMLHttpRequest, not
 * fetch: only it reports upload progress, which the import queue shows while the bytes go out.
 */
import { UPLOAD_PATH } from '../../../src-main/contract/upload.js';
import type { ImportDatasetResponse, Result } from './api.js';

export interface Upload {
  /** What the user dropped ("fashion-mnist", "data.csv"). */
  label: string;
  /** The name the server gives the file (its extension says what it is). */
  fileName: string;
  blob: Blob;
}

export type Uploader = (upload: Upload, o: { importId: string; name?: string; onProgress(sent: number, total: number): void; signal: AbortSignal }) => Promise<Result<ImportDatasetResponse>>;

export function createUploader(base: URL, token: string | null): Uploader {
  return (upload, o) => new Promise((resolve) => {
    const url = new URL(UPLOAD_PATH.replace(/^\//, ''), base);
    url.searchParams.set('fileName', upload.fileName);
    url.searchParams.set('importId', o.importId);
    if (o.name) url.searchParams.set('name', o.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => o.onProgress(e.loaded, e.lengthComputable ? e.total : upload.blob.size);
    const failed = (message: string) => resolve({ ok: false, error: { code: 'internal', message } });
    xhr.onload = () => {
      try {
        resolve(JSON.parse(xhr.responseText) as Result<ImportDatasetResponse>);
      } catch {
        failed(`the upload of ${upload.label} was answered with HTTP ${xhr.status} and no result`);
      }
    };
    xhr.onerror = () => failed(`the upload of ${upload.label} did not reach the studio's server at ${base.origin}; is npm run web still running?`);
    xhr.onabort = () => resolve({ ok: false, error: { code: 'cancelled', message: 'upload cancelled' } });
    o.signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(upload.blob);
  });
}
