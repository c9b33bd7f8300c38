#!/usr/bin/python3
"""One PyTorch contender of `npm run bench` (Debian's python3-torch, run with /usr/bin/python3).

Builds the bench net from its ModelSpec JSON (tools/bench/nets.ts) as PyTorch layers in PyTorch's
own NCHW layout, trains one shuffled epoch (or the first <train limit> images) with the net's
optimizer at batch 32, then classifies the test images in batches of 256 after one untimed warm-up
batch. Images stay uint8 and are scaled per batch, as the engine does. Prints one `RESULT {json}`.

usage: torch_bench.py <dataset dir> <train limit> <test limit> <threads> <seed> <spec json> <optimizer json> <batch>
The environment (OPENBLAS_NUM_THREADS, MALLOC_*) is the caller's: the bench runs it tuned and default.
"""
import gzip
import json
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn


def read_idx(path, magic):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    if int.from_bytes(data[0:4], 'big') != magic:
        raise SystemExit(f'{path}: bad IDX magic')
    return data


def load(directory, split, limit):
    img = read_idx(f'{directory}{split}-images-idx3-ubyte.gz', 0x803)
    lab = read_idx(f'{directory}{split}-labels-idx1-ubyte.gz', 0x801)
    n = min(int.from_bytes(img[4:8], 'big'), limit)
    images = np.frombuffer(img, dtype=np.uint8, offset=16, count=n * 784).reshape(n, 1, 28, 28).copy()
    labels = np.frombuffer(lab, dtype=np.uint8, offset=8, count=n).astype(np.int64)
    return torch.from_numpy(images), torch.from_numpy(labels)


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def activation(name, alpha):
    if name == 'relu':
        return [nn.ReLU()]
    if name == 'leakyRelu':
        return [nn.LeakyReLU(alpha)]
    if name == 'tanh':
        return [nn.Tanh()]
    if name == 'sigmoid':
        return [nn.Sigmoid()]
    if name in ('linear', 'softmax'):  # the softmax head gives logits: CrossEntropyLoss has the softmax
        return []
    raise SystemExit(f'no PyTorch activation for {name!r}')


def build(spec):
    """The spec's layers as an nn.Sequential over NCHW images (the studio's semantics, PyTorch's layout)."""
    h, w, c = spec['inputShape']
    features = None  # set once the layers see flat rows
    layers = []
    count = len(spec['layers'])
    for i, layer in enumerate(spec['layers']):
        kind = layer['type']
        last = i == count - 1
        if kind == 'conv2d':
            k, s = pair(layer['kernelSize']), pair(layer.get('stride', 1))
            same = layer.get('padding', 'valid') == 'same'
            if same and s != (1, 1):
                raise SystemExit("'same' padding with a stride is not benchmarked")
            layers.append(nn.Conv2d(c, layer['filters'], k, s, padding='same' if same else 0))
            if not same:
                h, w = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
            c = layer['filters']
            layers += activation(layer.get('activation', 'relu'), layer.get('alpha', 0.01))
        elif kind in ('maxpool2d', 'avgpool2d'):
            if layer.get('padding', 'valid') != 'valid':
                raise SystemExit(f"{kind} with 'same' padding is not benchmarked")
            p = pair(layer['poolSize'])
            s = pair(layer.get('stride', layer['poolSize']))
            layers.append((nn.MaxPool2d if kind == 'maxpool2d' else nn.AvgPool2d)(p, s))
            h, w = (h - p[0]) // s[0] + 1, (w - p[1]) // s[1] + 1
        elif kind == 'globalavgpool2d':
            layers.append(nn.AdaptiveAvgPool2d(1))
            h, w = 1, 1
        elif kind == 'batchnorm':
            momentum, eps = layer.get('momentum', 0.1), layer.get('epsilon', 1e-5)
            layers.append(nn.BatchNorm2d(c, eps, momentum) if features is None else nn.BatchNorm1d(features, eps, momentum))
        elif kind == 'flatten':
            layers.append(nn.Flatten())
            features = h * w * c
        elif kind == 'dense':
            if features is None:
                layers.append(nn.Flatten())
                features = h * w * c
            layers.append(nn.Linear(features, layer['units']))
            features = layer['units']
            layers += activation(layer.get('activation', 'softmax' if last else 'relu'), layer.get('alpha', 0.01))
        elif kind == 'dropout':
            layers.append(nn.Dropout(layer['rate']))
        else:
            raise SystemExit(f'no PyTorch layer for {kind!r}')
    return nn.Sequential(*layers)


def optimizer_of(config, parameters):
    kind, lr = config['type'], config['learningRate']
    betas = (config.get('beta1', 0.9), config.get('beta2', 0.999))
    if kind == 'sgd':
        return torch.optim.SGD(parameters, lr=lr, momentum=config.get('momentum', 0), weight_decay=config.get('weightDecay', 0), nesterov=config.get('nesterov', False))
    if kind == 'adam':
        return torch.optim.Adam(parameters, lr=lr, betas=betas, eps=config.get('epsilon', 1e-8), weight_decay=config.get('weightDecay', 0))
    if kind == 'adamw':
        return torch.optim.AdamW(parameters, lr=lr, betas=betas, eps=config.get('epsilon', 1e-8), weight_decay=config.get('weightDecay', 0.01))
    raise SystemExit(f'no PyTorch optimizer for {kind!r}')


def main():
    directory, train_limit, test_limit, threads, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    spec, optimizer_config, batch = json.loads(sys.argv[6]), json.loads(sys.argv[7]), int(sys.argv[8])
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    x_train, y_train = load(directory, 'train', train_limit)
    x_test, y_test = load(directory, 't10k', test_limit)
    model = build(spec)
    optimizer = optimizer_of(optimizer_config, model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    n = x_train.shape[0]
    order = torch.randperm(n)
    model.train()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for start in range(0, n, batch):
        idx = order[start:start + batch]
        xb = x_train[idx].float().div_(255.0)
        optimizer.zero_grad(set_to_none=False)
        loss = loss_fn(model(xb), y_train[idx])
        loss.backward()
        optimizer.step()
    train_seconds = time.perf_counter() - t0
    train_cpu = time.process_time() - cpu0
    model.eval()
    correct = 0
    m = x_test.shape[0]
    with torch.no_grad():
        model(x_test[:256].float().div_(255.0))  # warm-up, untimed (every contender gets one)
        t1 = time.perf_counter()
        for start in range(0, m, 256):
            xb = x_test[start:start + 256].float().div_(255.0)
            correct += int((model(xb).argmax(1) == y_test[start:start + 256]).sum())
        infer_seconds = time.perf_counter() - t1
    tuned = os.environ.get('MALLOC_MMAP_THRESHOLD_') is not None
    print('RESULT ' + json.dumps({
        'name': f'pytorch-{threads}', 'trainImages': n, 'trainSeconds': train_seconds,
        'trainImagesPerSecond': n / train_seconds, 'trainCpuSeconds': train_cpu, 'testImages': m, 'inferImagesPerSecond': m / infer_seconds,
        'testAccuracy': correct / m, 'maxRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        'notes': [f'PyTorch {torch.__version__}, torch.set_num_threads({threads})' + (', OPENBLAS_NUM_THREADS=1 and malloc thresholds raised' if tuned else ", glibc's malloc defaults")],
    }))


main()
