/** Test helper: a dataset cache file (what an import writes and a job reads) cut from the bundled
 *  Fashion-MNIST sample, so a job can run without a service or a database. */
import { join } from 'node:path';
import { loadSample } from '../../../src-engine/test/sample.js';
import { contentHashOf, writeCache, type TensorSet } from '../../datasets/cache.js';

export const SAMPLE_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

export function writeSampleCache(dir: string, trainCount: number, testCount: number): string {
  const train = loadSample('train', trainCount);
  const test = loadSample('t10k', testCount);
  const set: TensorSet = {
    shape: [28, 28, 1],
    classNames: SAMPLE_CLASSES,
    train: { images: train.images, labels: train.labels, n: train.n },
    test: { images: test.images, labels: test.labels, n: test.n },
  };
  return writeCache(dir, set, contentHashOf(set), join(dir, 'cache.partial')).cacheFile;
}
