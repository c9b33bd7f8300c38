#!/usr/bin/python3
"""One PyTorch contender of `npm run bench` (Debian's python3-torch, run with /usr/bin/python3):
the reference net, SGD lr 0.01 momentum 0.9, batch 32, one shuffled epoch, then the test images.
Images stay uint8 and are scaled per batch, as the engine does. Prints one `RESULT {json}` line.
usage: torch_bench.py <dataset dir> <train limit> <test limit> <threads> <seed>
"""
import gzip
import json
import resource
import sys
import time

import numpy as np
import torch


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


def main():
    directory, train_limit, test_limit, threads, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    x_train, y_train = load(directory, 'train', train_limit)
    x_test, y_test = load(directory, 't10k', test_limit)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(800, 10),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = x_train.shape[0]
    order = torch.randperm(n)
    model.train()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for start in range(0, n, 32):
        idx = order[start:start + 32]
        xb = x_train[idx].float().div_(255.0)
        optimizer.zero_grad(set_to_none=False)
        loss = loss_fn(model(xb), y_train[idx])
        loss.backward()
        optimizer.step()
    train_seconds = time.perf_counter() - t0
    train_cpu = time.process_time() - cpu0
    model.eval()
    correct = 0
    t1 = time.perf_counter()
    with torch.no_grad():
        for start in range(0, x_test.shape[0], 256):
            xb = x_test[start:start + 256].float().div_(255.0)
            correct += int((model(xb).argmax(1) == y_test[start:start + 256]).sum())
    infer_seconds = time.perf_counter() - t1
    m = x_test.shape[0]
    print('RESULT ' + json.dumps({
        'name': f'pytorch-{threads}', 'trainImages': n, 'trainSeconds': train_seconds,
        'trainImagesPerSecond': n / train_seconds, 'trainCpuSeconds': train_cpu, 'testImages': m, 'inferImagesPerSecond': m / infer_seconds,
        'testAccuracy': correct / m, 'maxRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        'notes': [f'PyTorch {torch.__version__}, torch.set_num_threads({threads})'],
    }))


main()
