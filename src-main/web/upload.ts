/**
 * POST /api/upload (src-main/contract/upload.ts): a dropped file or a tar of a dropped folder,
 * written to a private folder of its own under `dir`, imported like a path, then removed — the
 * decoded dataset lives in the library's cache, not in the upload. Bounded before anything is
 * written (Content-Length) and while reading (chunked bodies), with the page's words for the refusal.
 * The server calls this after its token check; everything about uploads is here.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { ContractHandler, Result } from '../contract/index.js';
import { RequestError } from '../contract/schema.js';
import { MAX_UPLOAD_BYTES, uploadQuery, uploadTooLarge } from '../contract/upload.js';

export interface UploadOptions {
  /** Where uploads wait for their import (one private folder each, removed afterwards). */
  dir: string;
  maxBytes?: number;
}

function respond(res: ServerResponse, status: number, body: Result<unknown>, close = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...(close ? { connection: 'close' } : {}) });
  res.end(text);
}

class TooLarge extends Error {}

export async function handleUpload(req: IncomingMessage, res: ServerResponse, url: URL, handler: Pick<ContractHandler, 'call'>, options: UploadOptions): Promise<void> {
  const max = options.maxBytes ?? MAX_UPLOAD_BYTES;
  const refuse = (status: number, message: string, field?: string) => {
    respond(res, status, { ok: false, error: { code: 'bad_request', message, ...(field ? { detail: { field } } : {}) } }, true);
    // the rest of a refused body is not read: the connection closes once the answer is out
    res.once('finish', () => req.destroy());
  };
  if (req.method !== 'POST') return refuse(405, 'use POST for /api/upload');
  let query;
  try {
    const fields = Object.fromEntries([...url.searchParams].filter(([k]) => k !== 'token'));
    query = uploadQuery.parse(fields, '');
  } catch (e) {
    if (e instanceof RequestError) return refuse(400, `upload: ${e.message}`, e.field);
    throw e;
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > max) return refuse(413, uploadTooLarge(declared, max));

  const folder = join(options.dir, randomUUID());
  const file = join(folder, query.fileName);
  try {
    mkdirSync(folder, { recursive: true });
    let received = 0;
    const bound = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        done(received > max ? new TooLarge() : null, chunk);
      },
    });
    try {
      await pipeline(req, bound, createWriteStream(file, { flags: 'wx' }));
    } catch (e) {
      if (e instanceof TooLarge) return refuse(413, uploadTooLarge(received, max));
      throw e;
    }
    if (received === 0) return refuse(400, `upload: ${query.fileName} is empty`);
    const result = await handler.call('importDataset', { path: file, importId: query.importId, ...(query.name ? { name: query.name } : {}) });
    if (!result.ok) {
      // messages name the upload as the user knows it, not the private folder it waited in
      const rename = (text: string) => text.split(`${folder}${sep}`).join('').split(folder).join(query.fileName);
      result.error.message = rename(result.error.message);
      if (result.error.detail?.file) result.error.detail.file = rename(result.error.detail.file);
    }
    respond(res, 200, result);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
