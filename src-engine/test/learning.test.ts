import { describe, expect, it } from 'vitest';
import { Sequential } from '../sequential.js';
import { loadModel } from '../serialize.js';
import { loadSample } from './sample.js';

describe('learning real data (bundled Fashion-MNIST sample, reference kernels)', () => {
  it('reference net 28×28×1 → conv16 3×3 → pool2 → conv32 3×3 → pool2 → dense10 reaches ≥ 80% test accuracy', () => {
    const train = loadSample('train'); // 5,000 images
    const test = loadSample('t10k'); // 1,000 images
    const net = new Sequential({ seed: 1 })
      .addConv(16, 3, [28, 28, 1])
      .addMaxPool(2)
      .addConv(32, 3)
      .addMaxPool(2)
      .addFlatten()
      .addDense(10);
    const history = net.fit(train.images, train.labels, { classes: 10, optimizer: 'adam', learningRate: 0.002, epochs: 3, batchSize: 32 });
    const predicted = net.predictClasses(test.images);
    let correct = 0;
    for (let i = 0; i < test.n; i++) if (predicted[i] === test.labels[i]) correct++;
    const accuracy = correct / test.n;
    console.log(`reference net, 3 epochs on 5,000 images: train loss ${history.epochs.map((e) => e.trainLoss.toFixed(3)).join(' → ')}, test accuracy ${accuracy}`);
    expect(history.epochs[2]!.trainLoss).toBeLessThan(history.epochs[0]!.trainLoss);
    expect(accuracy).toBeGreaterThanOrEqual(0.8);
    // the saved model predicts the same
    const back = loadModel(net.save());
    const x = Float32Array.from(test.images.subarray(0, 784 * 20), (v) => v / 255);
    expect(Array.from(back.predict(x, 20))).toEqual(Array.from(net.predict(test.images.subarray(0, 784 * 20))));
  });
});

describe('Sequential, the seed builder mended', () => {
  const small = () => new Sequential({ seed: 2 }).addConv(4, 5, [28, 28, 1], 2).addMaxPool(2);

  it('class count comes from the declared classes, not the labels present (only 0..4 here, 10 declared)', () => {
    const d = loadSample('train', 400);
    const keep = Array.from({ length: d.n }, (_, i) => i).filter((i) => d.labels[i]! < 5).slice(0, 100);
    const x = new Uint8Array(keep.length * 784);
    keep.forEach((i, j) => x.set(d.images.subarray(i * 784, (i + 1) * 784), j * 784));
    const y = keep.map((i) => d.labels[i]!);
    const net = small();
    net.fit(x, y, { classes: 10, epochs: 1 });
    expect(net.predict(x).length).toBe(keep.length * 10);
    expect(net.toSpec(10).layers.map((l) => l.type)).toEqual(['conv2d', 'maxpool2d', 'flatten', 'dense']);
    expect(() => net.fit(x, y, { classes: 5 })).toThrow(/built for 10 classes, the data declares 5/);
  });

  it('fit again continues from the trained weights (loss keeps going down)', () => {
    const d = loadSample('train', 256);
    const net = small();
    const first = net.fit(d.images, d.labels, { classes: 10, epochs: 2, optimizer: 'adam', learningRate: 0.005 });
    const weights = Float32Array.from(net.built!.values);
    const second = net.fit(d.images, d.labels, { epochs: 1, optimizer: 'adam', learningRate: 0.005 });
    expect(second.epochs[0]!.trainLoss).toBeLessThan(first.epochs[0]!.trainLoss);
    expect(Array.from(net.built!.values)).not.toEqual(Array.from(weights));
  });

  it('the input shape goes on the first layer only, and fit needs the classes to add the head', () => {
    expect(() => new Sequential().addConv(4, 3).addConv(4, 3, [8, 8, 1])).toThrow(/inputShape is only given on the first layer/);
    expect(() => new Sequential().addConv(4, 3).toSpec(10)).toThrow(/give inputShape on the first layer/);
    expect(() => small().fit(new Uint8Array(784), [0])).toThrow(/fit needs options.classes/);
    // the head gets a flatten before it only when the layers so far end in an image
    const types = (s: Sequential) => s.toSpec(3).layers.map((l) => l.type);
    expect(types(new Sequential().addConv(4, 8, [8, 8, 1]))).toEqual(['conv2d', 'dense']); // 1×1×4 is flat already
    expect(types(new Sequential().addConv(4, 3, [8, 8, 1]).addDropout(0.1))).toEqual(['conv2d', 'dropout', 'flatten', 'dense']);
    expect(types(new Sequential().addConv(4, 3, [8, 8, 1]).addFlatten().addDense(5, 'relu').addDropout(0.1))).toEqual(['conv2d', 'flatten', 'dense', 'dropout', 'dense']);
    expect(() => small().predict(new Uint8Array(784))).toThrow(/predict before fit/);
  });
});
