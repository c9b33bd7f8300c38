/**
 * A ustar archive of a dropped folder, packed in the page (the browser mode uploads it as one tar;
 * the server's importer reads tar). Names longer than ustar's 100 bytes use its 155-byte prefix
 * field; longer still, a pax header carries the path. The archive is a Blob of headers and the
 * dropped files themselves, so nothing is read into memory before it is sent.
 */
export interface TarEntry {
  /** Forward slashes, relative ("fashion/train/0/a.png"). */
  path: string;
  /** A dropped File is a Blob: the tar is a Blob of headers and the files themselves, read only as it uploads. */
  data: Blob;
  mtime?: number;
}

const BLOCK = 512;
const encoder = new TextEncoder();

function writeString(block: Uint8Array, offset: number, length: number, text: string): void {
  const bytes = encoder.encode(text);
  block.set(bytes.subarray(0, length), offset);
}

function writeOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  writeString(block, offset, length - 1, value.toString(8).padStart(length - 1, '0'));
}

function header(name: string, size: number, mtime: number, type: '0' | 'x', prefix = ''): Uint8Array<ArrayBuffer> {
  const h = new Uint8Array(BLOCK);
  writeString(h, 0, 100, name);
  writeOctal(h, 100, 8, 0o644);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, Math.floor(mtime / 1000));
  h.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  writeString(h, 156, 1, type);
  writeString(h, 257, 6, 'ustar');
  writeString(h, 263, 2, '00');
  writeString(h, 345, 155, prefix);
  let sum = 0;
  for (const b of h) sum += b;
  writeString(h, 148, 7, `${sum.toString(8).padStart(6, '0')}\0`);
  return h;
}

/** ustar's split: a name of ≤ 100 bytes and a prefix of ≤ 155 bytes, cut at a slash; null if none fits. */
function splitName(path: string): { name: string; prefix: string } | null {
  if (encoder.encode(path).length <= 100) return { name: path, prefix: '' };
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (encoder.encode(name).length <= 100 && encoder.encode(prefix).length <= 155) return { name, prefix };
  }
  return null;
}

function padding(size: number): Uint8Array<ArrayBuffer>[] {
  const rest = size % BLOCK;
  return rest === 0 ? [] : [new Uint8Array(BLOCK - rest)];
}

function paxRecord(key: string, value: string): string {
  // "<length> <key>=<value>\n", where length counts itself
  const body = ` ${key}=${value}\n`;
  let length = encoder.encode(body).length;
  length += String(length + String(length).length).length;
  return `${length}${body}`;
}

const paddedSize = (size: number) => Math.ceil(size / BLOCK) * BLOCK;

/** The header blocks of one entry: its ustar header, plus a pax header and record for a long path. */
function headerBytes(path: string): number {
  return splitName(path) ? BLOCK : BLOCK + paddedSize(encoder.encode(paxRecord('path', path)).length) + BLOCK;
}

/** The size of packTar's archive, known before anything is read (the upload bound is checked on it). */
export function tarSize(entries: readonly { path: string; size: number }[]): number {
  return entries.reduce((n, e) => n + headerBytes(e.path) + paddedSize(e.size), BLOCK * 2);
}

export function packTar(entries: readonly TarEntry[]): Blob {
  const parts: BlobPart[] = [];
  for (const e of entries) {
    const mtime = e.mtime ?? 0;
    const split = splitName(e.path);
    if (split) {
      parts.push(header(split.name, e.data.size, mtime, '0', split.prefix));
    } else {
      const pax = encoder.encode(paxRecord('path', e.path));
      parts.push(header('PaxHeader', pax.length, mtime, 'x'), pax, ...padding(pax.length));
      parts.push(header(e.path.slice(-100), e.data.size, mtime, '0'));
    }
    parts.push(e.data, ...padding(e.data.size));
  }
  parts.push(new Uint8Array(BLOCK * 2));
  return new Blob(parts, { type: 'application/x-tar' });
}
