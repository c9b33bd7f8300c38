/**
 * Recognising the well-known IDX sets from their labels: Debian's Fashion-MNIST (other gzip bytes
 * than the published archives, no classes.txt) by its training labels' hash, a subset (the first N
 * of each split) by shape and the first labels, and nothing else.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { areDefaultNames, recognize } from '../well-known.js';

const DEBIAN = '/usr/share/datasets/fashion-mnist';
const labels = (file: string) => new Uint8Array(gunzipSync(readFileSync(`${DEBIAN}/${file}`)).subarray(8));
const train = labels('train-labels-idx1-ubyte.gz');
const test = labels('t10k-labels-idx1-ubyte.gz');
const split = (l: Uint8Array, n = l.length) => ({ labels: l, n });

describe('well-known datasets', () => {
  it('Debian\'s full Fashion-MNIST 60,000 + 10,000 28×28×1 is Fashion-MNIST, with its ten class names', () => {
    const known = recognize({ shape: [28, 28, 1], classCount: 10, train: split(train), test: split(test) });
    expect(known?.name).toBe('Fashion-MNIST');
    expect(known?.classNames).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
  });

  it('the first 1,000 + 200 images of it are too; the train split alone as well', () => {
    expect(recognize({ shape: [28, 28, 1], classCount: 10, train: split(train, 1000), test: split(test, 200) })?.name).toBe('Fashion-MNIST');
    expect(recognize({ shape: [28, 28, 1], classCount: 10, train: split(train, 1000), test: null })?.name).toBe('Fashion-MNIST');
  });

  it('the same labels in another order, another shape or another class count are not recognised', () => {
    const shuffled = Uint8Array.from(train).reverse();
    expect(recognize({ shape: [28, 28, 1], classCount: 10, train: split(shuffled), test: split(test) })).toBeNull();
    expect(recognize({ shape: [32, 32, 1], classCount: 10, train: split(train), test: split(test) })).toBeNull();
    expect(recognize({ shape: [28, 28, 1], classCount: 9, train: split(train), test: split(test) })).toBeNull();
  });

  it('MNIST\'s first labels (5 0 4 1 9 2 1 3 1 4 / 7 2 1 0 4 1 4 9 5 9) are MNIST', () => {
    const mnistTrain = Uint8Array.from([5, 0, 4, 1, 9, 2, 1, 3, 1, 4, 3, 5]);
    const mnistTest = Uint8Array.from([7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0]);
    expect(recognize({ shape: [28, 28, 1], classCount: 10, train: split(mnistTrain), test: split(mnistTest) })?.name).toBe('MNIST');
  });

  it('only label-number names are replaced: "0".."9" are defaults, a classes.txt\'s names are not', () => {
    expect(areDefaultNames(['0', '1', '2'])).toBe(true);
    expect(areDefaultNames(['cat', 'dog'])).toBe(false);
    expect(areDefaultNames(['1', '2'])).toBe(false);
  });
});
