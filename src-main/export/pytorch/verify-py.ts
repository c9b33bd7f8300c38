/** verify.py of an exported PyTorch project: PyTorch's loss and gradients of a batch against the
 *  studio engine's, which the export computed and stored in verify.json / verify.bin. */
export const VERIFY_PY = String.raw`"""Checks that this PyTorch model computes what the studio's engine computed at export.

  python3 verify.py [--tolerance 1e-4]

verify.json names a batch of training images and the engine's mean loss on it (training mode:
batch norm over the batch, dropout off, the run's label smoothing); verify.bin holds the engine's
gradient of every parameter, float32, in the studio's layout. This loads weights.cnnm, computes the
same in PyTorch (float64) and prints the largest relative errors as JSON; exit status 1 when one is
over the tolerance. Error per tensor: max|ours − torch| / max|torch|; a bias right before batch
norm after a linear layer has a gradient of exactly 0 (both sides are rounding noise), so its error
is taken on the scale of its layer's weight gradient.
"""
import argparse
import json
import os
import re
import sys

import numpy as np
import torch

import data
import model as studio_model

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--tolerance', type=float, default=1e-4)
    p.add_argument('--data-root')
    args = p.parse_args()
    with open(os.path.join(HERE, 'verify.json')) as f:
        v = json.load(f)
    engine = np.fromfile(os.path.join(HERE, 'verify.bin'), dtype='<f4')
    torch.set_default_dtype(torch.float64)
    net = studio_model.build_model().double()
    studio_model.load_weights(net, os.path.join(HERE, 'weights.cnnm'))
    net.train()
    for m in net.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    images, labels = data.load(HERE, args.data_root)['train']
    idx = np.array(v['indices'], dtype=np.int64)
    x = data.to_float(images[idx], 'cpu').double()
    y = torch.from_numpy(labels[idx].astype(np.int64))
    loss = torch.nn.CrossEntropyLoss(label_smoothing=v['labelSmoothing'])(net(x), y)
    loss.backward()
    grads = {key: t.grad for key, t in net.named_parameters()}
    worst, where, errors = 0.0, None, {}
    layers = studio_model.SPEC['layers']
    for name, key, shape, kind, offset, length in studio_model.LAYOUT:
        if key not in grads:
            continue  # a statistic: no gradient
        torch_grad = studio_model.to_studio(kind, grads[key]).reshape(-1).numpy()
        ours = engine[offset:offset + length].astype(np.float64)
        scale = np.abs(torch_grad).max()
        layer = int(re.search(r'(\d+)$', name.split('.')[0]).group(1))  # 1-based: the next layer's index
        if name.endswith('.bias') and layer < len(layers) and layers[layer]['type'] == 'batchnorm':
            weight_key = key[:-len('bias')] + 'weight'
            scale = max(scale, float(grads[weight_key].abs().max()))
        err = float(np.abs(ours - torch_grad).max() / max(scale, 1e-12))
        errors[name] = err
        if err > worst:
            worst, where = err, name
    loss_error = abs(float(loss) - v['loss']) / abs(float(loss))
    ok = worst <= args.tolerance and loss_error <= args.tolerance
    print(json.dumps({'ok': ok, 'images': len(idx), 'loss': {'engine': v['loss'], 'torch': float(loss), 'relativeError': loss_error},
                      'worstGradientError': worst, 'worstAt': where, 'gradientErrors': errors}))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
`;
