#!/usr/bin/python3
"""
Golden values from PyTorch for the engine's tests (src-engine/test/golden.test.ts).

For each configuration below, builds the same network in PyTorch in float64 (nn.Conv2d, nn.MaxPool2d,
F.avg_pool2d, F.batch_norm, nn.Linear, the activations, F.cross_entropy), runs it on a seeded random
batch and writes one JSON fixture to src-engine/test/fixtures/golden/<name>.json:

  { name, description, seed, torchVersion, spec (our ModelSpec), n, x (flat NHWC), labels,
    params: [{name, shape, value}]   our layout and order,
    probs (n × classes), loss (mean cross-entropy),     in training mode (batch norm: batch statistics)
    grads: [{name, value}]           our layout and order,
    inputGradient (flat NHWC),
    and for a network with batch norm:
    initial: {params, statistics}    the weights before STEPS plain SGD steps in training mode,
    steps: {learningRate, batches: [{x, labels}]}
    statistics: [{name, shape, value}]  the running mean/variance after those steps (= the state
                                     `params` and the results are computed in)
    eval: {probs, loss, grads, inputGradient}   the same batch in evaluation mode (running statistics) }

It also writes the optimizer trajectories to src-engine/test/fixtures/trajectories/<name>.json: a
small conv net with batch norm trained 10 steps (5 epochs of 2 batches, no shuffle) by each
optimizer with a schedule, PyTorch's own (torch.optim.SGD/Adam/AdamW; LinearLR warm-up per step,
then StepLR, CosineAnnealingLR or ReduceLROnPlateau per epoch), every value after every step:

  { name, description, torchVersion, spec, config (our TrainConfig), train: {x, labels, n},
    validation: {x, labels, n}, initial: [{name, value}], torchFloat32Error (PyTorch's own float32 run
    against this float64 one, the test's measure: the floor of float32 arithmetic),
    steps: [{learningRate, loss, values: [{name, value}]}] }   values: parameters and statistics

Run with Debian's interpreter, which is the one that sees python3-torch:

  /usr/bin/python3 tools/make-golden.py

Layout conversions, done once here and nowhere else:
  conv weight  torch (Cout, Cin, KH, KW) → ours (KH, KW, Cin, Cout) = permute(2, 3, 1, 0)
  dense weight torch (out, in)           → ours (in, out)           = transpose
  flatten      torch flattens C, H, W; ours H, W, C (channel fastest), so the torch model permutes
               NCHW → NHWC before flattening and the dense weights line up.
  'same' pad   TensorFlow rule, total = max((ceil(H/s) − 1)·s + k − H, 0), odd pixel at bottom/right,
               done with F.pad then a valid conv (torch's padding='same' refuses stride > 1).

  average pool 'same': the mean of the window's cells inside the input (padding not counted), done
               as avg_pool of the zero-padded input over avg_pool of the padded ones.
  batch norm   F.batch_norm with running buffers; its weight/bias are our scale/shift, its
               running_mean/running_var our runningMean/runningVar statistics.

Inputs and weights are drawn as float32 numbers (then widened), so the float32 engine and this
float64 reference start from the same values and only the arithmetic differs. A draw is rejected
(and the next seed tried) if any (leaky) ReLU pre-activation lies within MARGIN·max|z| of zero
(TRAJECTORY_MARGIN for the trajectories) or any
max-pool window's two largest values are within MARGIN·max|a| of each other, in any pass (every SGD
or optimizer step included): there a float32 rounding could flip a branch, and ties are the gradient
checks' business, not the golden values'.
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
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src-engine', 'test', 'fixtures')
OUT_DIR = os.path.join(FIXTURES, 'golden')
TRAJECTORY_DIR = os.path.join(FIXTURES, 'trajectories')

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
    ('activations',
     'conv leakyRelu α 0.2 → conv tanh s2 same → conv sigmoid → dense leakyRelu (α 0.01) → dense tanh → dense sigmoid → softmax, batch of 3',
     3,
     {'inputShape': [8, 7, 2], 'layers': [
         {'type': 'conv2d', 'filters': 4, 'kernelSize': 3, 'activation': 'leakyRelu', 'alpha': 0.2},
         {'type': 'conv2d', 'filters': 5, 'kernelSize': 3, 'stride': 2, 'padding': 'same', 'activation': 'tanh'},
         {'type': 'conv2d', 'filters': 3, 'kernelSize': 2, 'activation': 'sigmoid'},
         {'type': 'flatten'},
         {'type': 'dense', 'units': 8, 'activation': 'leakyRelu'},
         {'type': 'dense', 'units': 7, 'activation': 'tanh'},
         {'type': 'dense', 'units': 6, 'activation': 'sigmoid'},
         {'type': 'dense', 'units': 4, 'activation': 'softmax'}]}),
    ('avgpool',
     "avg pool 2 valid (leftover row/col dropped) → avg pool 3 s2 'same' on 4×4 (pads 0/1: partial windows) → avg pool [2,1] s[1,2] valid, batch of 2",
     2,
     {'inputShape': [9, 9, 3], 'layers': [
         {'type': 'conv2d', 'filters': 4, 'kernelSize': 2, 'activation': 'linear'},
         {'type': 'avgpool2d', 'poolSize': 2},
         {'type': 'avgpool2d', 'poolSize': 3, 'stride': 2, 'padding': 'same'},
         {'type': 'avgpool2d', 'poolSize': [2, 1], 'stride': [1, 2]},
         {'type': 'flatten'},
         {'type': 'dense', 'units': 3, 'activation': 'softmax'}]}),
    ('globalavgpool',
     'conv relu same → global avg pool → dense straight after it (no flatten), batch of 3',
     3,
     {'inputShape': [6, 5, 2], 'layers': [
         {'type': 'conv2d', 'filters': 6, 'kernelSize': 3, 'padding': 'same'},
         {'type': 'globalavgpool2d'},
         {'type': 'dense', 'units': 4, 'activation': 'softmax'}]}),
    ('batchnorm-conv',
     'conv linear → batch norm (channels over N·H·W) → conv relu → batch norm momentum 0.3, ε 1e-3 → max pool, batch of 4; 3 SGD steps move the running statistics',
     4,
     {'inputShape': [7, 6, 2], 'layers': [
         {'type': 'conv2d', 'filters': 3, 'kernelSize': 3, 'activation': 'linear'},
         {'type': 'batchnorm'},
         {'type': 'conv2d', 'filters': 4, 'kernelSize': 2},
         {'type': 'batchnorm', 'momentum': 0.3, 'epsilon': 1e-3},
         {'type': 'maxpool2d', 'poolSize': 2},
         {'type': 'flatten'},
         {'type': 'dense', 'units': 3, 'activation': 'softmax'}]}),
    ('batchnorm-dense',
     'flatten → dense linear → batch norm over features → dense tanh → batch norm → softmax, batch of 5; 3 SGD steps',
     5,
     {'inputShape': [3, 3, 2], 'layers': [
         {'type': 'flatten'},
         {'type': 'dense', 'units': 6, 'activation': 'linear'},
         {'type': 'batchnorm'},
         {'type': 'dense', 'units': 5, 'activation': 'tanh'},
         {'type': 'batchnorm', 'momentum': 0.05},
         {'type': 'dense', 'units': 3, 'activation': 'softmax'}]}),
    ('batchnorm-whole-model',
     'conv relu same → batch norm → avg pool same → conv leakyRelu → batch norm → global avg pool → dense sigmoid → batch norm → softmax, batch of 3; 3 SGD steps',
     3,
     {'inputShape': [8, 7, 1], 'layers': [
         {'type': 'conv2d', 'filters': 4, 'kernelSize': 3, 'padding': 'same'},
         {'type': 'batchnorm'},
         {'type': 'avgpool2d', 'poolSize': 2, 'padding': 'same'},
         {'type': 'conv2d', 'filters': 5, 'kernelSize': 2, 'activation': 'leakyRelu', 'alpha': 0.1},
         {'type': 'batchnorm', 'momentum': 0.2},
         {'type': 'globalavgpool2d'},
         {'type': 'dense', 'units': 6, 'activation': 'sigmoid'},
         {'type': 'batchnorm'},
         {'type': 'dense', 'units': 4, 'activation': 'softmax'}]}),
]

# plain SGD steps in training mode before a batch-norm fixture's results: they move the running statistics
STEPS = 3
STEP_LR = 0.1


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
        self.activation = spec.get('activation', 'relu')
        self.alpha = spec.get('alpha', 0.01)
        self.conv = nn.Conv2d(c, spec['filters'], (kh, kw), stride=(sh, sw), padding=0, dtype=torch.float64)
        oh = (h + top + bottom - kh) // sh + 1
        ow = (w + left + right - kw) // sw + 1
        self.out_hwc = (oh, ow, spec['filters'])

    def forward(self, a, record):
        return activate(self.conv(F.pad(a, self.pad)), self.activation, self.alpha, record)


def activate(z, activation, alpha, record):
    """The activation after a conv or dense layer; the rectifiers' pre-activations go to the margin check."""
    if activation in ('relu', 'leakyRelu'):
        record['relu'].append(z)
        return F.relu(z) if activation == 'relu' else F.leaky_relu(z, alpha)
    if activation == 'tanh':
        return torch.tanh(z)
    if activation == 'sigmoid':
        return torch.sigmoid(z)
    return z  # 'linear', or the logits of the softmax head (softmax is fused with the loss)


class AvgPool(nn.Module):
    def __init__(self, spec, in_hwc):
        super().__init__()
        h, w, c = in_hwc
        self.size = pair(spec['poolSize'])
        self.stride = pair(spec.get('stride', spec['poolSize']))
        self.same = spec.get('padding', 'valid') == 'same'
        if self.same:
            top, bottom = same_padding(h, self.size[0], self.stride[0])
            left, right = same_padding(w, self.size[1], self.stride[1])
            self.pad = (left, right, top, bottom)
            self.out_hwc = (math.ceil(h / self.stride[0]), math.ceil(w / self.stride[1]), c)
        else:
            self.out_hwc = ((h - self.size[0]) // self.stride[0] + 1, (w - self.size[1]) // self.stride[1] + 1, c)

    def forward(self, a, record):
        if not self.same:
            return F.avg_pool2d(a, self.size, self.stride)
        # the mean over the cells inside the input: padded sums over padded counts
        ones = torch.ones_like(a[:, :1])
        return F.avg_pool2d(F.pad(a, self.pad), self.size, self.stride) / F.avg_pool2d(F.pad(ones, self.pad), self.size, self.stride)


class GlobalAvgPool(nn.Module):
    def __init__(self, in_hwc):
        super().__init__()
        self.out_hwc = (1, 1, in_hwc[2])

    def forward(self, a, record):
        return a.mean(dim=(2, 3), keepdim=True)


class BatchNorm(nn.Module):
    def __init__(self, spec, in_hwc):
        super().__init__()
        c = in_hwc[2]
        self.momentum = spec.get('momentum', 0.1)
        self.eps = spec.get('epsilon', 1e-5)
        self.weight = nn.Parameter(torch.ones(c, dtype=torch.float64))
        self.bias = nn.Parameter(torch.zeros(c, dtype=torch.float64))
        self.register_buffer('running_mean', torch.zeros(c, dtype=torch.float64))
        self.register_buffer('running_var', torch.ones(c, dtype=torch.float64))
        self.out_hwc = in_hwc

    def forward(self, a, record):
        # (N, C, H, W) after a conv, (N, F) after a dense layer: channel axis 1 either way
        return F.batch_norm(a, self.running_mean, self.running_var, self.weight, self.bias, self.training, self.momentum, self.eps)


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
        self.alpha = spec.get('alpha', 0.01)
        self.linear = nn.Linear(in_hwc[2], spec['units'], dtype=torch.float64)
        self.out_hwc = (1, 1, spec['units'])

    def forward(self, a, record):
        # a 1×1 image (after global average pooling) is already its C features in order
        return activate(self.linear(a.reshape(a.shape[0], -1)), self.activation, self.alpha, record)


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
            elif t == 'avgpool2d':
                m = AvgPool(ls, shape)
            elif t == 'globalavgpool2d':
                m = GlobalAvgPool(shape)
            elif t == 'batchnorm':
                m = BatchNorm(ls, shape)
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
            elif isinstance(m, BatchNorm):
                out.append((f'batchnorm{i + 1}.weight', m.weight, lambda t: t))
                out.append((f'batchnorm{i + 1}.bias', m.bias, lambda t: t))
        return out

    def statistics(self):
        """(name, torch buffer) in our order: after every parameter, layers in order."""
        out = []
        for i, m in enumerate(self.mods):
            if isinstance(m, BatchNorm):
                out.append((f'batchnorm{i + 1}.runningMean', m.running_mean))
                out.append((f'batchnorm{i + 1}.runningVar', m.running_var))
        return out

    def has_batchnorm(self):
        return any(isinstance(m, BatchNorm) for m in self.mods)


def float32_normal(rng, shape, std):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32).astype(np.float64) * np.float64(np.float32(std)))


def draw(net, spec, n, seed):
    """Fills the weights and draws x and labels; all values are float32 numbers."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for m in net.mods:
            if isinstance(m, BatchNorm):
                # scale and shift away from 1 and 0, so that a mixed-up pair shows
                m.weight.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, m.weight.shape).astype(np.float32).astype(np.float64)))
                m.bias.copy_(float32_normal(rng, tuple(m.bias.shape), 0.1))
                m.running_mean.zero_()
                m.running_var.fill_(1)
                continue
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


def margins_ok(record, margin=MARGIN):
    """True when no float32 rounding can flip a ReLU or a max-pool choice."""
    for z in record['relu']:
        if z.abs().min().item() <= margin * z.abs().max().item():
            return False
    for a, (ph, pw), (sh, sw) in record['pool']:
        cols = F.unfold(a, (ph, pw), stride=(sh, sw))  # (N, C·ph·pw, L)
        cols = cols.reshape(a.shape[0], a.shape[1], ph * pw, -1)
        top2 = cols.topk(2, dim=2).values
        gap = top2[:, :, 0] - top2[:, :, 1]
        # an all-zero ReLU window is fine: the ReLU stops its gradient whichever element gets it;
        # so is an exact tie (ReLU zeros through batch norm): equal in both precisions, and both
        # engines give the gradient to the first maximum in row-major order
        dead = top2[:, :, 0] == 0
        if bool(((gap <= margin * a.abs().max()) & (gap > 0) & ~dead).any()):
            return False
    return True


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def batch_of(rng, spec, n):
    h, w, c = spec['inputShape']
    x = torch.from_numpy(rng.random((n, h, w, c)).astype(np.float32).astype(np.float64))
    labels = torch.from_numpy(rng.integers(0, spec['layers'][-1]['units'], size=n)).long()
    return x, labels


def results(net, x, labels):
    """probs, loss, grads (ours) and the input gradient of one batch, in the net's current mode."""
    x = x.clone().requires_grad_(True)
    net.zero_grad()
    record = {'relu': [], 'pool': []}
    logits = net(x, record)
    loss = F.cross_entropy(logits, labels)  # mean over the batch
    loss.backward()
    out = {
        'probs': flat(F.softmax(logits, dim=1)),
        'loss': float(loss.item()),
        'grads': [{'name': pname, 'value': flat(to_ours(tw.grad))} for pname, tw, to_ours in net.ours()],
        'inputGradient': flat(x.grad),
    }
    return out, record


def state_of(net):
    params = [{'name': pname, 'shape': list(to_ours(tw.detach()).shape), 'value': flat(to_ours(tw.detach()))} for pname, tw, to_ours in net.ours()]
    stats = [{'name': sname, 'shape': list(buf.shape), 'value': flat(buf)} for sname, buf in net.statistics()]
    return params, stats


def make(name, description, n, spec, base_seed):
    net = Net(spec)
    for attempt in range(200):
        seed = base_seed + attempt
        x, labels = draw(net, spec, n, seed)
        rng = np.random.default_rng(seed + 7919)
        records = []
        fixture = {}
        if net.has_batchnorm():
            # a few plain SGD steps in training mode: the running statistics move away from (0, 1)
            params0, stats0 = state_of(net)
            batches = [batch_of(rng, spec, n) for _ in range(STEPS)]
            net.train()
            for bx, by in batches:
                _, record = results(net, bx, by)
                records.append(record)
                with torch.no_grad():
                    for p in net.parameters():
                        p -= STEP_LR * p.grad
            fixture['initial'] = {'params': params0, 'statistics': stats0}
            fixture['steps'] = {'learningRate': STEP_LR, 'batches': [{'x': flat(bx), 'labels': [int(v) for v in by.tolist()]} for bx, by in batches]}
            params, stats = state_of(net)
            net.eval()
            fixture['eval'], record = results(net, x, labels)
            records.append(record)
            net.train()
        else:
            params, stats = state_of(net)
        main_results, record = results(net, x, labels)  # training mode (batch statistics)
        records.append(record)
        if all(margins_ok(r) for r in records):
            break
    else:
        raise RuntimeError(f'{name}: no draw within the margins after 200 seeds')
    out = {
        'name': name,
        'description': description,
        'seed': seed,
        'torchVersion': torch.__version__,
        'spec': spec,
        'n': n,
        'x': flat(x),
        'labels': [int(v) for v in labels.tolist()],
        'params': params,
        **main_results,
    }
    if stats:
        out['statistics'] = stats
    out.update(fixture)
    return out


# ---- optimizer trajectories -------------------------------------------------------------------

# conv relu → batch norm, as the studio's templates have it. Batch norm nearly cancels the conv
# bias's gradient, which makes that bias the most rounding-sensitive value: PyTorch's own float32
# run is stored beside each trajectory (torchFloat32Error) as the floor float32 arithmetic reaches.
TRAJECTORY_SPEC = {'inputShape': [8, 8, 1], 'layers': [
    {'type': 'conv2d', 'filters': 4, 'kernelSize': 3, 'padding': 'same'},
    {'type': 'batchnorm'},
    {'type': 'maxpool2d', 'poolSize': 2},
    {'type': 'conv2d', 'filters': 6, 'kernelSize': 3, 'activation': 'tanh'},
    {'type': 'flatten'},
    {'type': 'dense', 'units': 5, 'activation': 'leakyRelu'},
    {'type': 'dense', 'units': 3, 'activation': 'softmax'}]}
TRAJECTORY_EPOCHS = 5
TRAJECTORY_BATCH = 4
TRAJECTORY_BATCHES = 2  # per epoch: 10 steps in all
# Ten steps in float32 drift ~1e-6 (relative) from float64, so 2e-5 still keeps every ReLU and max
# pool on its side with room; 1e-4 over ~15 passes of a ReLU/max-pool net leaves few seeds.
TRAJECTORY_MARGIN = 2e-5

# name, what it covers, our optimizer config, our schedule config
TRAJECTORIES = [
    ('sgd-momentum-step', 'SGD momentum 0.9, step schedule (every 2 epochs × 0.5)',
     {'type': 'sgd', 'learningRate': 0.05, 'momentum': 0.9}, {'type': 'step', 'stepSize': 2, 'gamma': 0.5}),
    ('sgd-nesterov-decay-cosine', 'SGD Nesterov momentum 0.9, weight decay 5e-3, cosine to 1e-3',
     {'type': 'sgd', 'learningRate': 0.05, 'momentum': 0.9, 'nesterov': True, 'weightDecay': 5e-3}, {'type': 'cosine', 'minLearningRate': 1e-3}),
    ('adam-l2-warmup-cosine', "Adam with L2 weight decay 1e-2 (torch.optim.Adam's weight_decay), 1 epoch linear warm-up then cosine",
     {'type': 'adam', 'learningRate': 0.01, 'weightDecay': 1e-2}, {'type': 'cosine', 'warmupEpochs': 1}),
    ('adamw-warmup-step', 'AdamW decoupled weight decay 0.1, 1 epoch linear warm-up then step (every epoch × 0.7)',
     {'type': 'adamw', 'learningRate': 0.01, 'weightDecay': 0.1}, {'type': 'step', 'stepSize': 1, 'gamma': 0.7, 'warmupEpochs': 1}),
    ('sgd-plateau', 'SGD momentum 0.5, reduce-on-plateau on the validation loss (factor 0.5, patience 0, threshold 0.5: it reduces)',
     {'type': 'sgd', 'learningRate': 0.05, 'momentum': 0.5}, {'type': 'plateau', 'factor': 0.5, 'patience': 0, 'threshold': 0.5}),
]


def torch_optimizer(params, cfg):
    lr = cfg['learningRate']
    if cfg['type'] == 'sgd':
        return torch.optim.SGD(params, lr=lr, momentum=cfg.get('momentum', 0), nesterov=cfg.get('nesterov', False), weight_decay=cfg.get('weightDecay', 0))
    if cfg['type'] == 'adam':
        return torch.optim.Adam(params, lr=lr, weight_decay=cfg.get('weightDecay', 0))
    return torch.optim.AdamW(params, lr=lr, weight_decay=cfg.get('weightDecay', 0.01))


def torch_schedule(opt, cfg, epochs):
    """The schedule after warm-up, created when warm-up ends (the rate is then the base one)."""
    if cfg['type'] == 'step':
        return torch.optim.lr_scheduler.StepLR(opt, step_size=cfg['stepSize'], gamma=cfg['gamma'])
    if cfg['type'] == 'cosine':
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=cfg.get('minLearningRate', 0))
    return torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode='min', factor=cfg['factor'], patience=cfg['patience'],
                                                      threshold=cfg.get('threshold', 1e-4), threshold_mode='rel',
                                                      cooldown=0, min_lr=cfg.get('minLearningRate', 0))


def short(t):
    """Trajectory values to 9 significant digits: float32's precision, a third of the bytes."""
    return [float(f'{v:.9g}') for v in t.detach().reshape(-1).tolist()]


def values_of(net):
    return [{'name': pname, 'value': short(to_ours(tw.detach()))} for pname, tw, to_ours in net.ours()] + \
        [{'name': sname, 'value': short(buf)} for sname, buf in net.statistics()]


def run_trajectory(net, x, labels, vx, vy, optimizer, schedule):
    """Trains `net` as the Trainer does: per step its learning rate, loss and every value after it."""
    epochs, warmup = TRAJECTORY_EPOCHS, schedule.get('warmupEpochs', 0)
    opt = torch_optimizer(net.parameters(), optimizer)
    per_step = warmup * TRAJECTORY_BATCHES
    warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1 / per_step, end_factor=1.0, total_iters=per_step - 1) if warmup else None
    main = None
    records, steps = [], []
    for epoch in range(epochs):
        if epoch == warmup:
            main = torch_schedule(opt, schedule, epochs - warmup)
        net.train()
        for b in range(TRAJECTORY_BATCHES):
            lr = opt.param_groups[0]['lr']
            xb, yb = x[b * TRAJECTORY_BATCH:(b + 1) * TRAJECTORY_BATCH], labels[b * TRAJECTORY_BATCH:(b + 1) * TRAJECTORY_BATCH]
            opt.zero_grad()
            record = {'relu': [], 'pool': []}
            loss = F.cross_entropy(net(xb, record), yb)
            loss.backward()
            opt.step()
            records.append(record)
            steps.append({'learningRate': lr, 'loss': float(loss.item()), 'values': values_of(net)})
            if warm is not None and epoch < warmup:
                warm.step()
        net.eval()
        with torch.no_grad():
            record = {'relu': [], 'pool': []}
            val_loss = float(F.cross_entropy(net(vx, record), vy).item())
            records.append(record)
        if main is not None:
            if schedule['type'] == 'plateau':
                main.step(val_loss)
            else:
                main.step()
    return steps, records


def worst_error(steps, reference):
    """max over steps and tensors of max|a − b| / max|b|: the test's measure."""
    worst = 0.0
    for s, r in zip(steps, reference):
        for a, b in zip(s['values'], r['values']):
            scale = max(abs(v) for v in b['value'])
            worst = max(worst, max(abs(u - v) for u, v in zip(a['value'], b['value'])) / max(scale, 1e-6))
    return worst


def make_trajectory(name, description, optimizer, schedule, base_seed):
    spec = TRAJECTORY_SPEC
    n = TRAJECTORY_BATCH * TRAJECTORY_BATCHES
    for attempt in range(200):
        net = Net(spec)
        seed = base_seed + attempt
        x, labels = draw(net, spec, n, seed)
        vx, vy = batch_of(np.random.default_rng(seed + 104729), spec, TRAJECTORY_BATCH)
        initial = values_of(net)
        start = {k: v.clone() for k, v in net.state_dict().items()}
        steps, records = run_trajectory(net, x, labels, vx, vy, optimizer, schedule)
        if all(margins_ok(r, TRAJECTORY_MARGIN) for r in records):
            break
    else:
        raise RuntimeError(f'{name}: no trajectory within the margins after 200 seeds')
    # the same run in PyTorch's float32: how far float32 arithmetic itself gets from float64
    net32 = Net(spec)
    net32.load_state_dict(start)
    steps32, _ = run_trajectory(net32.float(), x.float(), labels, vx.float(), vy, optimizer, schedule)
    return {
        'name': name,
        'description': description,
        'seed': seed,
        'torchVersion': torch.__version__,
        'spec': spec,
        'config': {'epochs': TRAJECTORY_EPOCHS, 'batchSize': TRAJECTORY_BATCH, 'shuffle': False, 'optimizer': optimizer, 'schedule': schedule},
        'train': {'x': flat(x), 'labels': [int(v) for v in labels.tolist()], 'n': n},
        'validation': {'x': flat(vx), 'labels': [int(v) for v in vy.tolist()], 'n': TRAJECTORY_BATCH},
        'initial': initial,
        'torchFloat32Error': float(f'{worst_error(steps32, steps):.3g}'),
        'steps': steps,
    }


def main():
    torch.set_default_dtype(torch.float64)
    os.makedirs(OUT_DIR, exist_ok=True)
    os.makedirs(TRAJECTORY_DIR, exist_ok=True)
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
    golden = total
    for i, (name, description, optimizer, schedule) in enumerate(TRAJECTORIES):
        fixture = make_trajectory(name, description, optimizer, schedule, base_seed=50000 + 1000 * i)
        text = json.dumps(fixture, separators=(',', ':')) + '\n'
        with open(os.path.join(TRAJECTORY_DIR, f'{name}.json'), 'w') as f:
            f.write(text)
        total += len(text)
        lrs = ' '.join(f'{s["learningRate"]:.4g}' for s in fixture['steps'])
        print(f'{name:32s} seed {fixture["seed"]:5d}  loss {fixture["steps"][0]["loss"]:.4f} → {fixture["steps"][-1]["loss"]:.4f}  torch float32 {fixture["torchFloat32Error"]:.1e}  lr {lrs}  {len(text) / 1024:6.1f} KB')
    print(f'total {(total - golden) / 1024:.1f} KB in {os.path.relpath(TRAJECTORY_DIR)}')
    if total > 1536 * 1024:
        sys.exit('fixtures over the 1.5 MB budget')


if __name__ == '__main__':
    main()
