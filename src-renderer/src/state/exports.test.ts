import { describe, expect, test } from 'vitest';
import { FakeService } from '../../test/fake-client.js';
import type { ExportRunResponse } from '../lib/api.js';
import { decodeBase64 } from '../lib/downloads.js';
import { ExportState } from './exports.svelte.js';

const b64 = (text: string) => btoa(text);

/** The entries of a ustar archive: name (prefix/name) and content. */
function untar(bytes: Uint8Array): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const str = (o: number, n: number) => new TextDecoder().decode(bytes.subarray(o, o + n)).replace(/\0.*$/s, '');
  for (let o = 0; o + 512 <= bytes.length && bytes[o] !== 0;) {
    const size = parseInt(str(o + 124, 12), 8);
    const prefix = str(o + 345, 155);
    out.push({ path: `${prefix ? `${prefix}/` : ''}${str(o, 100)}`, text: new TextDecoder().decode(bytes.subarray(o + 512, o + 512 + size)) });
    o += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

function exporter() {
  const service = new FakeService();
  const downloads: ExportRunResponse['files'][] = [];
  return { service, downloads, state: new ExportState(service.client, null, (f) => void downloads.push(f)) };
}

describe('exports in a browser', () => {
  test('a PyTorch project is downloaded as one tar of its folder, run-<id>-pytorch/, with every file the service gave', async () => {
    const { service, downloads, state } = exporter();
    service.answer('exportRun', { files: [
      { name: 'model.py', bytes: 12, base64: b64('import torch') },
      { name: 'weights.cnnm', bytes: 3, base64: b64('\u0001\u0002\u00ff') },
    ] });
    await state.export(4, 'pytorch');
    expect(service.requestsOf('exportRun')).toEqual([{ runId: 4, format: 'pytorch' }]);
    expect(downloads).toHaveLength(1);
    const [tar] = downloads[0]!;
    expect(tar!.name).toBe('run-4-pytorch.tar');
    const bytes = decodeBase64(tar!.base64);
    expect(tar!.bytes).toBe(bytes.length);
    const entries = untar(bytes);
    expect(entries.map((e) => e.path)).toEqual(['run-4-pytorch/model.py', 'run-4-pytorch/weights.cnnm']);
    expect(entries[0]!.text).toBe('import torch');
    expect(Array.from(bytes.subarray(512 * 3, 512 * 3 + 3))).toEqual([1, 2, 255]);
    expect(state.downloaded).toEqual({ runId: 4, format: 'pytorch', names: ['run-4-pytorch.tar'], bytes: bytes.length });
  });

  test('a web page is downloaded as the one file the service gave, its size said', async () => {
    const { service, downloads, state } = exporter();
    const files = [{ name: 'run-2.html', bytes: 15, base64: b64('<!doctype html>') }];
    service.answer('exportRun', { files });
    await state.export(2, 'html');
    expect(downloads).toEqual([files]);
    expect(state.downloaded).toEqual({ runId: 2, format: 'html', names: ['run-2.html'], bytes: 15 });
  });

  test('a refused export is said, and nothing downloaded', async () => {
    const { service, downloads, state } = exporter();
    service.refuse('exportRun', { code: 'bad_request', message: 'run 9: the page would be 33.9 MiB (…), more than the 32 MiB a self-contained page may be' });
    await state.export(9, 'html');
    expect(state.error).toMatch(/more than the 32 MiB/);
    expect(downloads).toEqual([]);
    expect(state.downloaded).toBeNull();
  });
});
