/**
 * Times importing datasets through the real import worker (decode, lint, hash, write the cache).
 * The target from issue 3: the full Fashion-MNIST IDX (70,000 images) in ≤ 10 s. A second import of
 * the same content (cache reuse) is timed too. Optionally the first N training images are written
 * out as an MNIST-CSV file (--csv N) and/or PNGs in class subfolders (--folder N, the sharp path),
 * untimed, and those imports are timed as well. Everything goes to a fresh temp folder.
 *
 *   npx tsx tools/bench-import.ts [idx-source] [--csv N] [--folder N] [--keep]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { type CachedTensors, importDataset, readCache } from '../src-main/datasets/index.js';

const args = process.argv.slice(2);
const countAfter = (flag: string): number => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : 0);
const csvCount = countAfter('--csv');
const folderCount = countAfter('--folder');
const keep = args.includes('--keep');
const source = args.find((a, i) => !a.startsWith('--') && !['--csv', '--folder'].includes(args[i - 1] ?? '')) ?? '/usr/share/datasets/fashion-mnist';
const work = mkdtempSync(join(tmpdir(), 'bench-import-'));
const cacheDir = join(work, 'cache');

async function timed(label: string, path: string, target?: number): Promise<{ seconds: number; cacheFile: string }> {
  const phaseStart = new Map<string, number>();
  const start = performance.now();
  const result = await importDataset(path, cacheDir, {}, {
    onProgress: (p) => {
      if (!phaseStart.has(p.phase)) phaseStart.set(p.phase, performance.now() - start);
    },
  });
  const seconds = (performance.now() - start) / 1000;
  const phases = [...phaseStart].map(([phase, t]) => `${phase}@${(t / 1000).toFixed(2)}s`).join(' ');
  const images = result.trainCount + result.testCount;
  const verdict = target ? `; target ≤ ${target} s ${seconds <= target ? 'met' : 'NOT met'} (${(seconds / target).toFixed(2)} of it)` : '';
  console.log(`${label}: ${images.toLocaleString('en')} images ${result.shape.join('×')} in ${seconds.toFixed(2)} s ` +
    `(${Math.round(images / seconds).toLocaleString('en')} images/s; ${phases}; reused=${result.reused}; ` +
    `cache ${(result.cacheBytes / 1e6).toFixed(1)} MB${verdict})`);
  return { seconds, cacheFile: result.cacheFile };
}

function writeCsv(tensors: CachedTensors, count: number, path: string): void {
  const size = tensors.shape[0] * tensors.shape[1] * tensors.shape[2];
  const lines = [['label', ...Array.from({ length: size }, (_, i) => `pixel${i}`)].join(',')];
  for (let i = 0; i < count; i++) lines.push(`${tensors.train.labels[i]},${tensors.train.images.subarray(i * size, (i + 1) * size).join(',')}`);
  writeFileSync(path, lines.join('\n') + '\n');
}

async function writePngFolder(tensors: CachedTensors, count: number, root: string): Promise<void> {
  const [h, w, c] = tensors.shape;
  for (let i = 0; i < count; i++) {
    const dir = join(root, tensors.classNames[tensors.train.labels[i]!]!.replace(/[/\\]/g, '-'));
    mkdirSync(dir, { recursive: true });
    const pixels = Buffer.from(tensors.train.images.subarray(i * h * w * c, (i + 1) * h * w * c));
    let image = sharp(pixels, { raw: { width: w, height: h, channels: c as 1 | 3 } });
    if (c === 1) image = image.toColourspace('b-w');
    writeFileSync(join(dir, `${i}.png`), await image.png().toBuffer());
  }
}

try {
  const first = await timed('IDX first import ', source, 10);
  const again = await timed('IDX second import', source);
  console.log(`re-import / first import = ${(again.seconds / first.seconds).toFixed(2)}`);
  const tensors = readCache(first.cacheFile);
  if (csvCount > 0) {
    const count = Math.min(csvCount, tensors.train.n);
    const path = join(work, 'train.csv');
    writeCsv(tensors, count, path);
    const csv = await timed(`CSV (${count} rows)    `, path);
    console.log(`CSV images/s ÷ IDX images/s = ${((count / csv.seconds) / ((tensors.train.n + (tensors.test?.n ?? 0)) / first.seconds)).toFixed(3)}`);
  }
  if (folderCount > 0) {
    const count = Math.min(folderCount, tensors.train.n);
    const root = join(work, 'png-folder');
    await writePngFolder(tensors, count, root);
    const folder = await timed(`PNG folder (${count})  `, root);
    console.log(`PNG images/s ÷ IDX images/s = ${((count / folder.seconds) / ((tensors.train.n + (tensors.test?.n ?? 0)) / first.seconds)).toFixed(3)}`);
  }
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
}
