/**
 * Times importing a dataset through the real import worker (decode, lint, hash, write the cache).
 * The target from issue 3: the full Fashion-MNIST IDX (70,000 images) in ≤ 10 s. A second import of
 * the same content (cache reuse) is timed too; the cache goes to a fresh temp folder.
 * With --folder N, the first N training images of the bundled sample are first written as PNGs in
 * class subfolders (not timed) and that folder is imported instead: the sharp decoding path.
 *
 *   npx tsx tools/bench-import.ts [source] [--folder N] [--keep]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { bundledSamplePath, importDataset, readCache } from '../src-main/datasets/index.js';

const args = process.argv.slice(2);
const folderIndex = args.indexOf('--folder');
const folderCount = folderIndex >= 0 ? Number(args[folderIndex + 1]) : 0;
const keep = args.includes('--keep');
const cacheDir = mkdtempSync(join(tmpdir(), 'bench-import-'));
let source = args.find((a, i) => !a.startsWith('--') && i !== folderIndex + 1) ?? '/usr/share/datasets/fashion-mnist';

if (folderCount > 0) {
  const sample = readCache((await importDataset(bundledSamplePath(), cacheDir)).cacheFile);
  source = join(cacheDir, 'png-folder');
  const count = Math.min(folderCount, sample.train.n);
  for (let i = 0; i < count; i++) {
    const dir = join(source, `class-${sample.train.labels[i]}`);
    mkdirSync(dir, { recursive: true });
    const pixels = Buffer.from(sample.train.images.subarray(i * 784, (i + 1) * 784));
    writeFileSync(join(dir, `${i}.png`), await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).toColourspace('b-w').png().toBuffer());
  }
  console.log(`wrote ${count} PNGs 28×28 into ${source}`);
}

async function timed(label: string): Promise<number> {
  const phaseStart = new Map<string, number>();
  const start = performance.now();
  const result = await importDataset(source, cacheDir, {}, {
    onProgress: (p) => {
      if (!phaseStart.has(p.phase)) phaseStart.set(p.phase, performance.now() - start);
    },
  });
  const seconds = (performance.now() - start) / 1000;
  const phases = [...phaseStart].map(([phase, t]) => `${phase}@${(t / 1000).toFixed(2)}s`).join(' ');
  const images = result.trainCount + result.testCount;
  console.log(`${label}: ${images.toLocaleString('en')} images ${result.shape.join('×')} in ${seconds.toFixed(2)} s ` +
    `(${Math.round(images / seconds).toLocaleString('en')} images/s; ${phases}; reused=${result.reused}; ` +
    `cache ${(result.cacheBytes / 1e6).toFixed(1)} MB; ${result.lint.warnings.length} lint warnings)`);
  return seconds;
}

try {
  const first = await timed('first import ');
  const second = await timed('second import');
  if (folderCount === 0) console.log(`target ≤ 10 s for 70,000 images: ${first <= 10 ? 'met' : 'NOT met'} (${first.toFixed(2)} s; ratio to target ${(first / 10).toFixed(2)})`);
  console.log(`re-import / first import = ${(second / first).toFixed(2)}`);
} finally {
  if (!keep) rmSync(cacheDir, { recursive: true, force: true });
}
