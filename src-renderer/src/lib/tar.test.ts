/**
 * The page's tar writer, read back by a minimal ustar/pax reader written here from the format's
 * definition (POSIX.1-2001): checksums, sizes, names in the name field, the prefix field or a pax
 * record, contents and padding. (src-main/web/upload.test.ts reads the same archives with GNU tar
 * and with the server's importer.)
 */
import { describe, expect, test } from 'vitest';
import { packTar, tarSize } from './tar.js';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251);
const long = (parts: number) => Array.from({ length: parts }, (_, i) => `folder-with-a-long-name-${i}`).join('/');
const text = (b: Uint8Array) => new TextDecoder().decode(b.subarray(0, b.indexOf(0) < 0 ? b.length : b.indexOf(0)));

/** [path, contents] of every file; throws on a bad checksum or a truncated archive. */
function readTar(tar: Uint8Array): [string, Uint8Array][] {
  const out: [string, Uint8Array][] = [];
  let paxPath: string | null = null;
  for (let at = 0; at + 512 <= tar.length;) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const stored = parseInt(text(h.subarray(148, 156)).trim(), 8);
    const sum = h.reduce((n, b, i) => n + (i >= 148 && i < 156 ? 0x20 : b), 0);
    if (stored !== sum) throw new Error(`bad checksum at ${at}: ${stored} ≠ ${sum}`);
    expect(text(h.subarray(257, 263))).toBe('ustar');
    const size = parseInt(text(h.subarray(124, 136)), 8);
    const body = tar.subarray(at + 512, at + 512 + size);
    if (body.length < size) throw new Error('truncated');
    const type = String.fromCharCode(h[156]!);
    if (type === 'x') {
      paxPath = /\d+ path=(.*)\n/.exec(new TextDecoder().decode(body))![1]!;
    } else {
      const prefix = text(h.subarray(345, 500));
      out.push([paxPath ?? (prefix ? `${prefix}/${text(h.subarray(0, 100))}` : text(h.subarray(0, 100))), body.slice()]);
      paxPath = null;
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

describe('packTar', () => {
  test('every file under its path (name field, prefix field, pax record), byte for byte; tarSize is the archive\'s size', async () => {
    const files: [string, Uint8Array][] = [
      ['fashion/train/0/a.png', bytes(1000, 1)],
      ['fashion/train/1/b.png', bytes(512, 2)],
      ['fashion/empty.txt', new Uint8Array(0)],
      [`fashion/${long(5)}/c.png`, bytes(3, 3)], // 100 < length ≤ 255: the prefix field
      [`fashion/${long(14)}/d.png`, bytes(700, 4)], // longer than ustar holds: a pax record
    ];
    expect(files[3]![0].length).toBeGreaterThan(100);
    expect(files[4]![0].length).toBeGreaterThan(255);
    const entries = files.map(([path, b]) => ({ path, data: new Blob([b as Uint8Array<ArrayBuffer>]) }));
    const blob = packTar(entries);
    expect(blob.size).toBe(tarSize(entries.map((e) => ({ path: e.path, size: e.data.size }))));
    expect(blob.size % 512).toBe(0);
    expect(readTar(new Uint8Array(await blob.arrayBuffer()))).toEqual(files);
  });

  test('an empty folder is an archive of two zero blocks', async () => {
    const blob = packTar([]);
    expect(blob.size).toBe(1024);
    expect(new Uint8Array(await blob.arrayBuffer()).every((b) => b === 0)).toBe(true);
  });
});
