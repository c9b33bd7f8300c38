/**
 * Drops and picks as import sources: by path in the desktop app; in a browser, a file uploaded as
 * itself and a folder (walked through its directory entries, in the reader's batches) as one tar,
 * with the size bound applied before anything is sent.
 */
import { describe, expect, test } from 'vitest';
import { uploadTooLarge } from '../../../src-main/contract/upload.js';
import { pathSources, pickedSources, uploadSources } from './dropped.js';
import { tarSize } from './tar.js';

const file = (name: string, size: number, relative = '') => {
  const f = new File([new Uint8Array(size)], name);
  if (relative) Object.defineProperty(f, 'webkitRelativePath', { value: relative });
  return f;
};

/** A FileSystemEntry tree like Chromium's: directories answer readEntries in batches of `batch`. */
function entry(name: string, children: (FileSystemEntry | File)[] | File, batch = 2): FileSystemEntry {
  if (children instanceof File) {
    return { name, isFile: true, isDirectory: false, file: (ok: (f: File) => void) => ok(children) } as unknown as FileSystemEntry;
  }
  const kids = children.map((c) => (c instanceof File ? entry(c.name, c) : c));
  return {
    name, isFile: false, isDirectory: true,
    createReader: () => {
      let at = 0;
      return { readEntries: (ok: (e: FileSystemEntry[]) => void) => { ok(kids.slice(at, at + batch)); at += batch; } };
    },
  } as unknown as FileSystemEntry;
}

describe('desktop: by path', () => {
  test('each dropped thing by its path, named after its last part; one without a path is refused', async () => {
    const shell = { pathForFile: async (f: File) => (f.name === 'snippet' ? '' : `/home/u/data/${f.name}`) };
    const got = await pathSources([file('fashion', 0), file('digits.zip', 10), file('snippet', 3)], shell);
    expect(got.sources).toEqual([
      { kind: 'path', label: 'fashion', path: '/home/u/data/fashion' },
      { kind: 'path', label: 'digits.zip', path: '/home/u/data/digits.zip' },
    ]);
    expect(got.refused).toEqual([{ label: 'snippet', message: 'snippet: not a file or folder on this computer' }]);
  });
});

describe('browser: uploads', () => {
  test('a dropped folder is walked to the end of every batch and becomes <name>.tar holding the folder', async () => {
    const tree = entry('fashion', [entry('train', [entry('0', [file('a.png', 10), file('b.png', 20), file('c.png', 30)]), entry('1', [file('d.png', 40)])]), file('classes.txt', 5)]);
    const { sources, refused } = await uploadSources([tree]);
    expect(refused).toEqual([]);
    expect(sources).toHaveLength(1);
    const s = sources[0]!;
    if (s.kind !== 'upload') throw new Error('expected an upload');
    expect([s.label, s.upload.fileName]).toEqual(['fashion', 'fashion.tar']);
    const paths = ['fashion/train/0/a.png', 'fashion/train/0/b.png', 'fashion/train/0/c.png', 'fashion/train/1/d.png', 'fashion/classes.txt'];
    expect(s.upload.blob.size).toBe(tarSize(paths.map((path, i) => ({ path, size: [10, 20, 30, 40, 5][i]! }))));
    // every path is in the tar's headers, in walk order
    const text = new TextDecoder('latin1').decode(await s.upload.blob.arrayBuffer());
    const at = paths.map((p) => text.indexOf(p));
    expect(at.every((i, k) => i >= 0 && (k === 0 || i > at[k - 1]!))).toBe(true);
  });

  test('a dropped file goes as itself; a drop without entries (synthetic) gives Files, also as themselves', async () => {
    const csv = file('digits.csv', 100);
    const { sources } = await uploadSources([entry('digits.csv', csv), file('more.zip', 7)]);
    expect(sources.map((s) => s.kind === 'upload' && [s.label, s.upload.fileName, s.upload.blob.size])).toEqual([['digits.csv', 'digits.csv', 100], ['more.zip', 'more.zip', 7]]);
  });

  test('above the bound: refused with the server\'s words, before anything is sent; the rest still goes', async () => {
    const { sources, refused } = await uploadSources([entry('big', [file('x.bin', 3000)]), file('small.csv', 10), file('huge.zip', 5000)], 4096);
    expect(sources.map((s) => s.label)).toEqual(['small.csv']);
    const bigTar = tarSize([{ path: 'big/x.bin', size: 3000 }]);
    expect(refused).toEqual([
      { label: 'big', message: `big: ${uploadTooLarge(bigTar, 4096)}` },
      { label: 'huge.zip', message: `huge.zip: ${uploadTooLarge(5000, 4096)}` },
    ]);
  });

  test('picked with a folder picker: the files\' relative paths make one tar per top folder; plain picks go as themselves', () => {
    const { sources } = pickedSources([file('a.png', 1, 'cats/0/a.png'), file('b.png', 2, 'cats/1/b.png'), file('c.png', 3, 'dogs/0/c.png'), file('loose.csv', 4)]);
    expect(sources.map((s) => s.kind === 'upload' && [s.label, s.upload.fileName])).toEqual([['loose.csv', 'loose.csv'], ['cats', 'cats.tar'], ['dogs', 'dogs.tar']]);
  });
});
