/** The first bytes of a file, for recognising its format by content. */
import { closeSync, openSync, readSync } from 'node:fs';

export function readHead(path: string, length = 16): Buffer {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(length);
    const read = readSync(fd, head, 0, length, 0);
    return head.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

