/**
 * POST /api/upload on the real server and service: a tar of a dropped folder and a dropped CSV are
 * imported with the same lint report as a path import; above the bound the refusal comes before
 * anything is written (declared size) or as soon as the bound is passed (chunked); the private
 * upload folder is gone afterwards, whatever happened.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportDatasetResponse, Result } from '../contract/index.js';
import { uploadTooLarge } from '../contract/upload.js';
import type { Service } from '../service/service.js';
import { openService, tempDir } from '../service/testing.js';
import { startWebServer, type WebServer } from './server.js';
// the page's own tar writer: what a browser packs of a dropped folder must be what the server reads
import { packTar } from '../../src-renderer/src/lib/tar.js';

const SAMPLE = fileURLToPath(new URL('../../resources/datasets/fashion-mnist-sample', import.meta.url));
const dir = tempDir('cnn-studio-upload-');
const uploads = join(dir.path, 'uploads');
const MAX = 4 * 1024 * 1024;
let service: Service;
let server: WebServer;
let sampleTar: Buffer;

beforeAll(async () => {
  service = await openService(join(dir.path, 'library'), { importSample: false });
  server = await startWebServer(service, { rendererDir: null, upload: { dir: uploads, maxBytes: MAX } });
  // what the page packs of a dropped folder: the folder itself at the top of a tar
  execFileSync('tar', ['-cf', join(dir.path, 'sample.tar'), '-C', join(SAMPLE, '..'), 'fashion-mnist-sample']);
  sampleTar = readFileSync(join(dir.path, 'sample.tar'));
});
afterAll(async () => {
  await server?.close();
  await service?.close();
  dir.remove();
});

const upload = async (query: Record<string, string>, bytes: Uint8Array, headers: Record<string, string> = {}) => {
  const res = await fetch(`http://127.0.0.1:${server.port}/api/upload?${new URLSearchParams(query)}`, {
    method: 'POST', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/octet-stream', ...headers }, body: new Uint8Array(bytes),
  });
  return { status: res.status, result: (await res.json()) as Result<ImportDatasetResponse> };
};

describe('POST /api/upload', () => {
  it('imports a dropped folder sent as a tar: the same dataset and lint report as importing its path; the upload folder is removed', async () => {
    const up = await upload({ fileName: 'fashion-mnist-sample.tar', importId: 'up-1', name: 'dropped sample' }, sampleTar);
    expect(up.status).toBe(200);
    if (!up.result.ok) throw new Error(up.result.error.message);
    const byUpload = up.result.value.dataset;
    expect([byUpload.name, byUpload.trainCount, byUpload.testCount, byUpload.format, up.result.value.alreadyImported]).toEqual(['dropped sample', 5000, 1000, 'archive', false]);
    expect(readdirSync(uploads)).toEqual([]);

    const byPath = await service.call('importDataset', { path: SAMPLE });
    if (!byPath.ok) throw new Error(byPath.error.message);
    expect(byPath.value.alreadyImported).toBe(true);
    expect(byPath.value.dataset.contentHash).toBe(byUpload.contentHash);
    expect(byPath.value.dataset.lint).toEqual(byUpload.lint);
  });

  it('a folder packed by the page\'s tar writer (long names in prefix and pax fields too): GNU tar reads it, the server imports it', async () => {
    const deep = `fashion-mnist-sample/${Array.from({ length: 12 }, (_, i) => `level-${i}-with-a-long-folder-name`).join('/')}`;
    const files = readdirSync(SAMPLE).map((f) => ({ path: `fashion-mnist-sample/${f}`, data: new Blob([readFileSync(join(SAMPLE, f))]) }));
    // a file deep down (its path needs a pax record) beside the IDX files: the importer passes over it
    const entries = [...files, { path: `${deep}/notes.txt`, data: new Blob(['packed by the page']) }];
    const tar = new Uint8Array(await packTar(entries).arrayBuffer());
    writeFileSync(join(dir.path, 'page.tar'), tar);
    expect(execFileSync('tar', ['-tf', join(dir.path, 'page.tar')], { encoding: 'utf8' }).trim().split('\n')).toEqual(entries.map((e) => e.path));
    const up = await upload({ fileName: 'fashion-mnist-sample.tar', importId: 'up-page' }, tar);
    if (!up.result.ok) throw new Error(up.result.error.message);
    const byPath = await service.call('importDataset', { path: SAMPLE });
    expect(byPath.ok && byPath.value.dataset.contentHash).toBe(up.result.value.dataset.contentHash);
  });

  it('reports import progress under the page\'s importId', async () => {
    const phases: string[] = [];
    const off = service.on('importProgress', (p) => { if (p.importId === 'up-2') phases.push(p.phase); });
    const csv = Buffer.from(['label,' + Array.from({ length: 16 }, (_, i) => `p${i}`).join(','), ...Array.from({ length: 40 }, (_, r) => `${r % 2},${Array.from({ length: 16 }, (_, i) => (r * 7 + i * 13) % 256).join(',')}`)].join('\n'));
    const up = await upload({ fileName: 'tiny.csv', importId: 'up-2' }, csv);
    off();
    expect(up.result.ok && [up.result.value.dataset.name, up.result.value.dataset.trainCount, up.result.value.dataset.shape]).toEqual(['tiny', 40, [4, 4, 1]]);
    expect(phases).toContain('writing');
  });

  it('a failing import answers its error naming the uploaded file, not the private folder it waited in', async () => {
    const up = await upload({ fileName: 'broken.csv', importId: 'up-3' }, Buffer.from('label,a,b\n1,2,3\n0,1\n'));
    expect(up.result.ok).toBe(false);
    if (up.result.ok) return;
    expect(up.result.error.code).toBe('import_failed');
    expect(up.result.error.message).toMatch(/^broken\.csv/);
    expect(up.result.error.message).not.toContain(uploads);
    expect(readdirSync(uploads)).toEqual([]);
  });

  it('above the bound by its declared size: refused before the body is read (the test sends a few bytes of the promised size and waits)', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, method: 'POST', path: `/api/upload?fileName=big.tar&importId=up-4`, headers: { authorization: `Bearer ${server.token}`, 'content-length': String(MAX + 1) } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      // a server that read before refusing would wait here for the rest, and this test would time out
      req.write(Buffer.alloc(16));
    });
    expect(status).toBe(413);
    expect(JSON.parse(body)).toEqual({ ok: false, error: { code: 'bad_request', message: uploadTooLarge(MAX + 1, MAX) } });
    expect(uploadTooLarge(MAX + 1, MAX)).toMatch(/^4\.0 MB is more than the browser mode uploads at once \(4\.0 MB\): import it by its path instead/);
    expect(readdirSync(uploads)).toEqual([]);
  }, 30_000);

  it('above the bound while reading a body of undeclared length: refused as soon as it passes, the partial file removed', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, method: 'POST', path: `/api/upload?fileName=big.tar&importId=up-5`, headers: { authorization: `Bearer ${server.token}`, 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      // one byte past the bound, in chunks of undeclared total length, and then the request stays open:
      // the server must answer on its own count (and nothing is left unread to reset the connection)
      const chunk = Buffer.alloc(256 * 1024);
      for (let sent = 0; sent <= MAX; sent += chunk.length) req.write(sent + chunk.length > MAX ? chunk.subarray(0, MAX + 1 - sent) : chunk);
    });
    expect(status).toBe(413);
    expect((JSON.parse(body) as Result<never>).ok).toBe(false);
    expect(readdirSync(uploads)).toEqual([]);
  });

  it('refuses a file name with folders, a missing importId, an empty body, and a call without the token', async () => {
    expect((await upload({ fileName: '../../etc/x.tar', importId: 'a' }, sampleTar)).result).toMatchObject({ ok: false, error: { code: 'bad_request', detail: { field: 'fileName' } } });
    expect((await upload({ fileName: 'x.tar' }, sampleTar)).result).toMatchObject({ ok: false, error: { detail: { field: 'importId' } } });
    expect((await upload({ fileName: 'x.tar', importId: 'b', path: '/etc' }, sampleTar)).result).toMatchObject({ ok: false, error: { detail: { field: 'path' } } });
    expect((await upload({ fileName: 'empty.csv', importId: 'c' }, new Uint8Array(0))).result).toMatchObject({ ok: false, error: { message: 'upload: empty.csv is empty' } });
    const anonymous = await fetch(`http://127.0.0.1:${server.port}/api/upload?fileName=x.tar&importId=d`, { method: 'POST', body: new Uint8Array(sampleTar) });
    expect(anonymous.status).toBe(401);
    expect(existsSync(uploads) ? readdirSync(uploads) : []).toEqual([]);
  });
});

