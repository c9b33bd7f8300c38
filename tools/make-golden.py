#!/usr/bin/python3
"""
Golden values from PyTorch for the engine's tests (src-engine/test/golden.test.ts).

For each configuration below, builds the same network in PyTorch in float64 (nn.Conv2d, nn.MaxPool2d,
nn.Linear, F.cross_entropy), runs it on a seeded random batch and writes one JSON fixture to
src-engine/test/fixtures/golden/<name>.json:

  { name, description, seed, torchVersion, spec (our ModelSpec), n, x (flat NHWC), labels,
    params: [{name, shape, value}]   our layout and order,
    probs (n × classes), loss (mean cross-entropy),
    grads: [{name, value}]           our layout and order,
    inputGradient (flat NHWC) }

Run with Debian's interpreter, which is the one that sees python3-torch:

  /usr/bin/python3 tools/make-golden.py

Layout conversions, done once here and nowhere else:
  conv weight  torch (Cout, Cin, KH, KW) → ours (KH, KW, Cin, Cout) = permute(2, 3, 1, 0)
  dense weight torch (out, in)           → ours (in, out)           = transpose
  flatten      torch flattens C, H, W; ours H, W, C (channel fastest), so the torch model permutes
               NCHW → NHWC before flattening and the dense weights line up.
  'same' pad   TensorFlow rule, total = max((ceil(H/s) − 1)·s + k − H, 0), odd pixel at bottom/right,
               done with F.pad then a valid conv (torch's padding='same' refuses stride > 1).

Inputs and weights are drawn as float32 numbers (then widened), so the float32 engine and this
float64 reference start from the same values and only the arithmetic differs. A draw is rejected
(and the next seed tried) if any ReLU pre-activation lies within MARGIN·max|z| of zero or any max-pool
window's two largest values are within MARGIN·max|a| of each other: there a float32 rounding could
flip a branch, and ties are the gradient checks' business, not the golden values'.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MARGIN = 1e-4
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src-engine', 'test', 'fixtures', 'golden')

# name, what it covers, n, ModelSpec
CONFIGS = [
    ('reference-14x14x1',
     "the issue's reference net at small size: conv 4 3×3 → maxpool 2 → conv 8 3×3 → maxpool 2 → dense 10",
     2,
     {'inputShape': [14, 14, 1], 'layers': [
         {'type': 'conv2d', 'filters': 4, 'kernelSize': 3},
         {'type': 'maxpool2d', 'poolSize': 2},
         {'type': 'conv2d', 'filters': 8, 'kernelSize': 3},
         {'type': 'maxpool2d', 'poolSize': 2},
         {'type': 'flatten'},
         {'type': 'dense', 'units': 10, 'activation': 'softmax'}]}),
    ('conv-stride2-valid',
     'stride 2, valid padding, multi-channel input, batch of 3',
     3,
     {'inputShape': [9, 9, 2], 'layers': [
         {'type': 'conv2d', 'filters': 3, 'kernelSize': 3, 'stride': 2},
         {'type': 'flatten'},
         {'type': 'dense', 'units': 4, 'activation': 'softmax'}]}),
    ('same-stride1-even-kernel',
     "'same' padding, stride 1, odd input 7×5×3, kernel 4×3 (pad top 1 / bottom 2: odd pixel at the bottom)",
     2,
     {'inputShape': [7, 5, 3], 'layers': [
         {'type': 'conv2d', 'filters': 4, 'kernelSize': [4, 3], 'padding': 'same'},
         {'type': 'flatten'},
         {'type': 'dense', 'units': 4, 'activation': 'softmax'}]}),
    ('same-stride2-odd',
     "'same' padding, stride 2, odd input 7×5×3 (pads 1/1, 1/1), then 4×3 → 2×2 (pads 0/1 rows, 1/1 cols)",
     2,
     {'inputShape': [7, 5, 3], 'layers': [
         {'type': 'conv2d', 'filters': 4, 'kernelSize': 3, 'stride': 2, 'padding': 'same'},
         {'type': 'conv2d', 'filters': 5, 'kernelSize': 3, 'stride': 2, 'padding': 'same'},
         {'type': 'flatten'},
         {'type': 'dense', 'units': 3, 'activation': 'softmax'}]}),
    ('nonsquare-kernel-stride-pool',
     'non-square input 10×7×2, kernel [3,2], stride [2,1], pool [2,3]',
     2,
     {'inputShape': [10, 7, 2], 'layers': [
         {'type': 'conv2d', 'filters': 4, 'kernelSize': [3, 2], 'stride': [2, 1]},
         {'type': 'maxpool2d', 'poolSize': [2, 3]},
         {'type': 'flatten'},
         {'type': 'dense', 'units': 3, 'activation': 'softmax'}]}),
    ('overlapping-pool',
     'overlapping max pool 3 stride 2 on 8×8 (windows share rows/cols; row/col 7 left over)',
     2,
     {'inputShape': [10, 10, 1], 'layers': [
         {'type': 'conv2d', 'filters': 3, 'kernelSize': 3},
         {'type': 'maxpool2d', 'poolSize': 3, 'stride': 2},
         {'type': 'flatten'},
         {'type': 'dense', 'units': 5, 'activation': 'softmax'}]}),
    ('linear-conv-pool-leftover',
     "linear conv (no ReLU) into maxpool 2 on 9×10 (row 8 left over), then linear 'same' conv [2,3] stride 2 on 4×5 (pads 0/0 rows, 1/1 cols), batch of 3",
     3,
     {'inputShape': [10, 11, 2], 'layers': [
         {'type': 'conv2d', 'filters': 3, 'kernelSize': 2, 'activation': 'linear'},
         {'type': 'maxpool2d', 'poolSize': 2},
         {'type': 'conv2d', 'filters': 4, 'kernelSize': [2, 3], 'stride': 2, 'padding': 'same', 'activation': 'linear'},
         {'type': 'flatten'},
         {'type': 'dense', 'units': 4, 'activation': 'softmax'}]}),
    ('dense-hidden',
     'conv → flatten → dense 12 relu → dense 6 linear → dense 5 softmax, batch of 3',
     3,
     {'inputShape': [6, 6, 2], 'layers': [
         {'type': 'conv2d', 'filters': 4, 'kernelSize': 3},
         {'type': 'flatten'},
         {'type': 'dense', 'units': 12, 'activation': 'relu'},
         {'type': 'dense', 'units': 6, 'activation': 'linear'},
         {'type': 'dense', 'units': 5, 'activation': 'softmax'}]}),
]


def pair(v):
    return (v, v) if isinstance(v, int) else (v[0], v[1])


def same_padding(size, k, s):
    total = max((math.ceil(size / s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class Conv(nn.Module):
    def __init__(self, spec, in_hwc):
        super().__init__()
        h, w, c = in_hwc
        kh, kw = pair(spec['kernelSize'])
        sh, sw = pair(spec.get('stride', 1))
        if spec.get('padding', 'valid') == 'same':
            top, bottom = same_padding(h, kh, sh)
            left, right = same_padding(w, kw, sw)
        else:
            top = bottom = left = right = 0
        self.pad = (left, right, top, bottom)  # F.pad order: last dim first
        self.relu = spec.get('activation', 'relu') == 'relu'
        self.conv = nn.Conv2d(c, spec['filters'], (kh, kw), stride=(sh, sw), padding=0, dtype=torch.float64)
        oh = (h + top + bottom - kh) // sh + 1
        ow = (w + left + right - kw) // sw + 1
        self.out_hwc = (oh, ow, spec['filters'])

    def forward(self, a, record):
        z = self.conv(F.pad(a, self.pad))
        if self.relu:
            record['relu'].append(z)
            return F.relu(z)
        return z


class Pool(nn.Module):
    def __init__(self, spec, in_hwc):
        super().__init__()
        h, w, c = in_hwc
        self.size = pair(spec['poolSize'])
        self.stride = pair(spec.get('stride', spec['poolSize']))
        self.pool = nn.MaxPool2d(self.size, stride=self.stride)  # floor mode: leftover rows dropped
        self.out_hwc = ((h - self.size[0]) // self.stride[0] + 1, (w - self.size[1]) // self.stride[1] + 1, c)

    def forward(self, a, record):
        record['pool'].append((a, self.size, self.stride))
        return self.pool(a)


class Flatten(nn.Module):
    def __init__(self, in_hwc):
        super().__init__()
        self.out_hwc = (1, 1, in_hwc[0] * in_hwc[1] * in_hwc[2])

    def forward(self, a, record):
        # ours flattens H, W, C (channel fastest): NCHW → NHWC first
        return a.permute(0, 2, 3, 1).reshape(a.shape[0], -1)


class Dense(nn.Module):
    def __init__(self, spec, in_hwc, is_last):
        super().__init__()
        self.activation = spec.get('activation', 'softmax' if is_last else 'relu')
        self.linear = nn.Linear(in_hwc[2], spec['units'], dtype=torch.float64)
        self.out_hwc = (1, 1, spec['units'])

    def forward(self, a, record):
        z = self.linear(a)
        if self.activation == 'relu':
            record['relu'].append(z)
            return F.relu(z)
        return z  # 'linear', or the logits of the softmax head (softmax is fused with the loss)


class Net(nn.Module):
    def __init__(self, spec):
        super().__init__()
        shape = tuple(spec['inputShape'])
        mods = []
        for i, ls in enumerate(spec['layers']):
            t = ls['type']
            if t == 'conv2d':
                m = Conv(ls, shape)
            elif t == 'maxpool2d':
                m = Pool(ls, shape)
            elif t == 'flatten':
                m = Flatten(shape)
            elif t == 'dense':
                m = Dense(ls, shape, i == len(spec['layers']) - 1)
            else:
                raise ValueError(f'layer #{i + 1}: {t} has no golden fixture support')
            mods.append(m)
            shape = m.out_hwc
        self.mods = nn.ModuleList(mods)

    def forward(self, x_nhwc, record):
        a = x_nhwc.permute(0, 3, 1, 2)
        for m in self.mods:
            a = m(a, record)
        return a

    def ours(self):
        """(name, torch weight, to-ours function) in our order: layer order, weight then bias."""
        out = []
        for i, m in enumerate(self.mods):
            if isinstance(m, Conv):
                out.append((f'conv2d{i + 1}.weight', m.conv.weight, lambda t: t.permute(2, 3, 1, 0)))
                out.append((f'conv2d{i + 1}.bias', m.conv.bias, lambda t: t))
            elif isinstance(m, Dense):
                out.append((f'dense{i + 1}.weight', m.linear.weight, lambda t: t.t()))
                out.append((f'dense{i + 1}.bias', m.linear.bias, lambda t: t))
        return out


def float32_normal(rng, shape, std):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32).astype(np.float64) * np.float64(np.float32(std)))


def draw(net, spec, n, seed):
    """Fills the weights and draws x and labels; all values are float32 numbers."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for m in net.mods:
            lin = m.conv if isinstance(m, Conv) else m.linear if isinstance(m, Dense) else None
            if lin is None:
                continue
            fan_in = lin.weight[0].numel()
            # He scale keeps activations O(1) so the softmax is neither flat nor saturated
            w = float32_normal(rng, tuple(lin.weight.shape), math.sqrt(2.0 / fan_in))
            lin.weight.copy_(w.to(torch.float32).to(torch.float64))
            lin.bias.copy_(float32_normal(rng, tuple(lin.bias.shape), 0.1).to(torch.float32).to(torch.float64))
    h, w, c = spec['inputShape']
    x = torch.from_numpy(rng.random((n, h, w, c)).astype(np.float32).astype(np.float64))
    classes = spec['layers'][-1]['units']
    labels = torch.from_numpy(rng.integers(0, classes, size=n)).long()
    return x, labels


def margins_ok(record):
    """True when no float32 rounding can flip a ReLU or a max-pool choice."""
    for z in record['relu']:
        if z.abs().min().item() <= MARGIN * z.abs().max().item():
            return False
    for a, (ph, pw), (sh, sw) in record['pool']:
        cols = F.unfold(a, (ph, pw), stride=(sh, sw))  # (N, C·ph·pw, L)
        cols = cols.reshape(a.shape[0], a.shape[1], ph * pw, -1)
        top2 = cols.topk(2, dim=2).values
        gap = top2[:, :, 0] - top2[:, :, 1]
        # an all-zero ReLU window is fine: the ReLU stops its gradient whichever element gets it
        dead = top2[:, :, 0] == 0
        if bool(((gap <= MARGIN * a.abs().max()) & ~dead).any()):
            return False
    return True


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def make(name, description, n, spec, base_seed):
    net = Net(spec)
    for attempt in range(200):
        seed = base_seed + attempt
        x, labels = draw(net, spec, n, seed)
        x.requires_grad_(True)
        net.zero_grad()
        record = {'relu': [], 'pool': []}
        logits = net(x, record)
        if margins_ok(record):
            break
    else:
        raise RuntimeError(f'{name}: no draw within the margins after 200 seeds')
    loss = F.cross_entropy(logits, labels)  # mean over the batch
    loss.backward()
    probs = F.softmax(logits, dim=1)
    params, grads = [], []
    for pname, tw, to_ours in net.ours():
        ours = to_ours(tw.detach())
        params.append({'name': pname, 'shape': list(ours.shape), 'value': flat(ours)})
        grads.append({'name': pname, 'value': flat(to_ours(tw.grad))})
    return {
        'name': name,
        'description': description,
        'seed': seed,
        'torchVersion': torch.__version__,
        'spec': spec,
        'n': n,
        'x': flat(x),
        'labels': [int(v) for v in labels.tolist()],
        'params': params,
        'probs': flat(probs),
        'loss': float(loss.item()),
        'grads': grads,
        'inputGradient': flat(x.grad),
    }


def main():
    torch.set_default_dtype(torch.float64)
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for i, (name, description, n, spec) in enumerate(CONFIGS):
        fixture = make(name, description, n, spec, base_seed=1000 * (i + 1))
        text = json.dumps(fixture, separators=(',', ':')) + '\n'
        path = os.path.join(OUT_DIR, f'{name}.json')
        with open(path, 'w') as f:
            f.write(text)
        total += len(text)
        nparams = sum(len(p['value']) for p in fixture['params'])
        print(f'{name:32s} seed {fixture["seed"]:5d}  n {n}  params {nparams:5d}  loss {fixture["loss"]:.6f}  {len(text) / 1024:6.1f} KB')
        if len(text) > 200 * 1024:
            sys.exit(f'{name}: fixture is {len(text)} bytes, over the 200 KB budget')
    print(f'total {total / 1024:.1f} KB in {os.path.relpath(OUT_DIR)}')
    if total > 1024 * 1024:
        sys.exit('fixtures over the 1 MB budget')


if __name__ == '__main__':
    main()
