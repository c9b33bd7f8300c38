/**
 * Writes the app's bundled sample: the first TRAIN_COUNT training and TEST_COUNT test images of
 * Fashion-MNIST (Debian's dataset-fashion-mnist, MIT licence), in the same gzipped IDX layout, to
 * resources/datasets/fashion-mnist-sample/. Taking the first N keeps it reproducible; the classes
 * are balanced enough there (checked and printed below).
 *
 *   npx tsx tools/extract-sample.ts [sourceDir] [trainCount] [testCount]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

const source = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';
const trainCount = Number(process.argv[3] ?? 5000);
const testCount = Number(process.argv[4] ?? 1000);
const out = new URL('../resources/datasets/fashion-mnist-sample/', import.meta.url).pathname;
mkdirSync(out, { recursive: true });

function cut(prefix: string, count: number): void {
  const images = gunzipSync(readFileSync(join(source, `${prefix}-images-idx3-ubyte.gz`)));
  const labels = gunzipSync(readFileSync(join(source, `${prefix}-labels-idx1-ubyte.gz`)));
  if (images.readUInt32BE(0) !== 0x803 || labels.readUInt32BE(0) !== 0x801) throw new Error(`${prefix}: not IDX`);
  const rows = images.readUInt32BE(8), cols = images.readUInt32BE(12);
  const img = Buffer.from(images.subarray(0, 16 + count * rows * cols));
  img.writeUInt32BE(count, 4);
  const lab = Buffer.from(labels.subarray(0, 8 + count));
  lab.writeUInt32BE(count, 4);
  // mtime 0 in the gzip header keeps the output byte-identical across runs
  writeFileSync(join(out, `${prefix}-images-idx3-ubyte.gz`), gzipSync(img, { level: 9 }));
  writeFileSync(join(out, `${prefix}-labels-idx1-ubyte.gz`), gzipSync(lab, { level: 9 }));
  const perClass = new Array(10).fill(0);
  for (let i = 0; i < count; i++) perClass[lab[8 + i]!]++;
  console.log(`${prefix}: ${count} images ${rows}×${cols}, per class ${perClass.join(' ')}`);
}

cut('train', trainCount);
cut('t10k', testCount);
writeFileSync(join(out, 'classes.txt'), ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'].join('\n') + '\n');
writeFileSync(join(out, 'LICENSE.txt'), 'Fashion-MNIST (c) 2017 Zalando SE, MIT licence. https://github.com/zalandoresearch/fashion-mnist\nThis folder holds the first images of its training and test sets, unchanged.\n');
