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

/** After a refusal, the rest of the body is read and dropped (closing on unread data resets the
 *  connection, and a client can lose the answer), up to this much; past it the connection is cut. */
const DISCARD_LIMIT = 64 * 1024 * 1024;

function discardRest(req: IncomingMessage): void {
  let discarded = 0;
  req.removeAllListeners('data');
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_LIMIT) req.destroy();
  });
  req.resume();
}

/** The body into `file`, or 'too large' as soon as it passes `max` bytes (the file then incomplete). */
function receive(req: IncomingMessage, file: string, max: number): Promise<{ received: number; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(file, { flags: 'wx' });
    let received = 0;
    let settled = false;
    const settle = (r: { received: number; tooLarge: boolean } | Error) => {
      if (settled) return;
      settled = true;
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    out.on('error', settle);
    req.on('error', settle);
    req.on('aborted', () => settle(new Error('the upload was aborted')));
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > max) {
        req.pause();
        out.destroy();
        return settle({ received, tooLarge: true });
      }
      if (!out.write(chunk)) {
        req.pause();
        out.once('drain', () => req.resume());
      }
    });
    req.on('end', () => out.end(() => settle({ received, tooLarge: false })));
  });
}

export async function handleUpload(req: IncomingMessage, res: ServerResponse, url: URL, handler: Pick<ContractHandler, 'call'>, options: UploadOptions): Promise<void> {
  const max = options.maxBytes ?? MAX_UPLOAD_BYTES;
  const refuse = (status: number, message: string, field?: string) => {
    respond(res, status, { ok: false, error: { code: 'bad_request', message, ...(field ? { detail: { field } } : {}) } }, true);
    if (!req.complete) discardRest(req);
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
    const { received, tooLarge } = await receive(req, file, max);
    if (tooLarge) return refuse(413, uploadTooLarge(received, max));
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
