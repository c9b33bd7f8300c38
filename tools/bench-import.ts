/**
 * Times importing a dataset through the real import worker (decode, lint, hash, write the cache).
 * The target from issue 3: the full Fashion-MNIST IDX (70,000 images) in ≤ 10 s. A second import of
 * the same content (cache reuse) is timed too; the cache goes to a fresh temp folder.
 *
 *   npx tsx tools/bench-import.ts [source] [--keep]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importDataset } from '../src-main/datasets/index.js';

const source = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? '/usr/share/datasets/fashion-mnist';
const keep = process.argv.includes('--keep');
const cacheDir = mkdtempSync(join(tmpdir(), 'bench-import-'));

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
  console.log(`target ≤ 10 s for 70,000 images: ${first <= 10 ? 'met' : 'NOT met'} (${first.toFixed(2)} s; ratio to target ${(first / 10).toFixed(2)}); re-import/first = ${(second / first).toFixed(2)}`);
} finally {
  if (!keep) rmSync(cacheDir, { recursive: true, force: true });
}
