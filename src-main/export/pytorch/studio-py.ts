/** studio.py of an exported PyTorch project: CNN Studio's layers with its layout, init and
 *  semantics, its model file format, and batch norm over the whole batch under DDP. The same text
 *  in every project (model.py, generated per spec, builds on it). */
export const STUDIO_PY = String.raw`"""CNN Studio's layers, init, layout and model file format for PyTorch.

Written by the studio's PyTorch export; the same in every project. model.py builds the network from
these, so it computes what the studio's engine computes:
  - images arrive NHWC (the studio's layout) and are permuted to NCHW once, in Net.forward;
  - conv 'same' padding is TensorFlow's rule (the odd pixel at the bottom/right), done with F.pad;
  - average pooling 'same' averages only the window's cells inside the image;
  - flatten keeps H, W, C order (channel fastest), so dense weights line up with the studio's;
  - batch norm: batch statistics (biased variance) in training, running ones in eval, the running
    variance updated unbiased, as nn.BatchNorm2d; under DistributedDataParallel the statistics are
    over the whole global batch (every process's sums are all-reduced), as the studio's
    data-parallel training computes them;
  - init: He normal (gain 2, or 2/(1+alpha^2) for a leaky ReLU) before a rectifier, Glorot uniform
    otherwise, biases 0; batch norm scale 1, shift 0, running mean 0 and variance 1.
"""
import json
import math
import struct
import zlib

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F


def pair(v):
    return (int(v), int(v)) if isinstance(v, (int, float)) else (int(v[0]), int(v[1]))


def same_padding(size, k, s):
    """TensorFlow/Keras 'same': total = max((ceil(size/s) - 1)*s + k - size, 0), the odd pixel after."""
    total = max((math.ceil(size / s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def activate(z, activation, alpha):
    if activation == 'relu':
        return F.relu(z)
    if activation == 'leakyRelu':
        return F.leaky_relu(z, alpha)
    if activation == 'tanh':
        return torch.tanh(z)
    if activation == 'sigmoid':
        return torch.sigmoid(z)
    return z  # linear, or the logits of the softmax head (softmax is the loss's)


def init_weight(weight, fan_in, fan_out, activation, alpha, generator=None):
    """The studio's init: He normal before a rectifier, Glorot uniform otherwise."""
    with torch.no_grad():
        if activation in ('relu', 'leakyRelu'):
            gain = 2.0 if activation == 'relu' else 2.0 / (1.0 + alpha * alpha)
            weight.normal_(0.0, math.sqrt(gain / fan_in), generator=generator)
        else:
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            weight.uniform_(-limit, limit, generator=generator)


class Conv2d(nn.Module):
    """conv2d: weight (Cout, Cin, KH, KW), bias (Cout); padding 'valid' or 'same' (TensorFlow's)."""

    def __init__(self, in_shape, filters, kernel_size, stride=1, padding='valid', activation='relu', alpha=0.01):
        super().__init__()
        h, w, c = in_shape
        self.kernel, self.stride = pair(kernel_size), pair(stride)
        top = bottom = left = right = 0
        if padding == 'same':
            top, bottom = same_padding(h, self.kernel[0], self.stride[0])
            left, right = same_padding(w, self.kernel[1], self.stride[1])
        self.pad = (left, right, top, bottom)  # F.pad order: last dimension first
        self.activation, self.alpha = activation, alpha
        self.weight = nn.Parameter(torch.empty(filters, c, *self.kernel))
        self.bias = nn.Parameter(torch.zeros(filters))

    def reset_parameters(self, generator=None):
        cout, cin, kh, kw = self.weight.shape
        init_weight(self.weight, kh * kw * cin, kh * kw * cout, self.activation, self.alpha, generator)
        nn.init.zeros_(self.bias)

    def forward(self, x):
        if any(self.pad):
            x = F.pad(x, self.pad)
        return activate(F.conv2d(x, self.weight, self.bias, self.stride), self.activation, self.alpha)


class MaxPool2d(nn.Module):
    """maxpool2d: floor mode, leftover rows/columns dropped."""

    def __init__(self, pool_size, stride=None):
        super().__init__()
        self.size = pair(pool_size)
        self.stride = pair(stride if stride is not None else pool_size)

    def forward(self, x):
        return F.max_pool2d(x, self.size, self.stride)


class AvgPool2d(nn.Module):
    """avgpool2d: 'valid' (floor mode) or 'same' (the mean of the window's cells inside the image)."""

    def __init__(self, in_shape, pool_size, stride=None, padding='valid'):
        super().__init__()
        h, w, _ = in_shape
        self.size = pair(pool_size)
        self.stride = pair(stride if stride is not None else pool_size)
        self.pad = None
        if padding == 'same':
            top, bottom = same_padding(h, self.size[0], self.stride[0])
            left, right = same_padding(w, self.size[1], self.stride[1])
            self.pad = (left, right, top, bottom)

    def forward(self, x):
        if self.pad is None:
            return F.avg_pool2d(x, self.size, self.stride)
        ones = torch.ones_like(x[:1, :1])
        return F.avg_pool2d(F.pad(x, self.pad), self.size, self.stride) / F.avg_pool2d(F.pad(ones, self.pad), self.size, self.stride)


class GlobalAvgPool2d(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3), keepdim=True)


class Flatten(nn.Module):
    """H, W, C order (channel fastest), as the studio flattens NHWC."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)


class Dense(nn.Module):
    """dense: weight (out, in) as nn.Linear (the studio stores its transpose), then the activation."""

    def __init__(self, in_features, units, activation='relu', alpha=0.01):
        super().__init__()
        self.activation, self.alpha = activation, alpha
        self.weight = nn.Parameter(torch.empty(units, in_features))
        self.bias = nn.Parameter(torch.zeros(units))

    def reset_parameters(self, generator=None):
        units, fan_in = self.weight.shape
        init_weight(self.weight, fan_in, units, self.activation, self.alpha, generator)
        nn.init.zeros_(self.bias)

    def forward(self, x):
        # a 1×1 image (after global average pooling) is already its C features in order
        return activate(F.linear(x.reshape(x.shape[0], -1), self.weight, self.bias), self.activation, self.alpha)


class _WholeBatchNorm(torch.autograd.Function):
    """Batch norm's training pass given the whole batch's mean and variance; the backward's sums
    of dy and dy·x̂ are all-reduced too, so dx is the whole batch's. Parameter gradients stay this
    process's part: DistributedDataParallel averages them with the others'."""

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, count, eps):
        shape = [1, -1] + [1] * (x.dim() - 2)
        invstd = torch.rsqrt(var + eps)
        xhat = (x - mean.view(shape)) * invstd.view(shape)
        ctx.save_for_backward(xhat, weight, invstd)
        ctx.count = count
        return xhat * weight.view(shape) + bias.view(shape)

    @staticmethod
    def backward(ctx, dy):
        xhat, weight, invstd = ctx.saved_tensors
        shape = [1, -1] + [1] * (dy.dim() - 2)
        dims = [0] + list(range(2, dy.dim()))
        local = torch.cat([dy.sum(dims), (dy * xhat).sum(dims)])
        total = local.clone()
        dist.all_reduce(total)
        c = weight.numel()
        sum_dy, sum_dy_xhat = total[:c], total[c:]
        dx = (weight * invstd).view(shape) * (dy - (sum_dy / ctx.count).view(shape) - xhat * (sum_dy_xhat / ctx.count).view(shape))
        return dx, local[c:], local[:c], None, None, None, None


class BatchNorm(nn.Module):
    """batchnorm over channel axis 1 (NCHW after a conv, features after a dense layer)."""

    def __init__(self, channels, momentum=0.1, eps=1e-5):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer('running_mean', torch.zeros(channels))
        self.register_buffer('running_var', torch.ones(channels))

    def reset_parameters(self, generator=None):
        nn.init.ones_(self.weight)
        nn.init.zeros_(self.bias)
        self.running_mean.zero_()
        self.running_var.fill_(1)

    def forward(self, x):
        distributed = self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
        if not distributed:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training, self.momentum, self.eps)
        dims = [0] + list(range(2, x.dim()))
        shape = [1, -1] + [1] * (x.dim() - 2)
        with torch.no_grad():
            # two passes over the global batch, as the studio (and PyTorch's CPU kernel) computes them
            sums = torch.cat([x.new_tensor([x.numel() / x.shape[1]]), x.sum(dims)])
            dist.all_reduce(sums)
            count, mean = sums[0], sums[1:] / sums[0]
            squares = ((x - mean.view(shape)) ** 2).sum(dims)
            dist.all_reduce(squares)
            var = squares / count
            m = self.momentum
            self.running_mean.mul_(1 - m).add_(m * mean)
            self.running_var.mul_(1 - m).add_(m * var * (count / (count - 1) if count > 1 else 1))
        return _WholeBatchNorm.apply(x, self.weight, self.bias, mean, var, count, self.eps)


# ---- the studio's model file (.cnnm) --------------------------------------------------------
# magic "CNNM" · version u32 · header length u32 · JSON header · blobs · CRC-32 of all before it;
# integers little-endian; the "weights" blob is float32: every parameter, then every statistic, in
# the studio's layout (conv (KH, KW, Cin, Cout), dense (in, out)), as LAYOUT in model.py lists them.

MAGIC = b'CNNM'
VERSION = 1


def _to_studio(kind, t):
    if kind == 'conv':
        return t.permute(2, 3, 1, 0)  # (Cout, Cin, KH, KW) → (KH, KW, Cin, Cout)
    if kind == 'dense':
        return t.t()  # (out, in) → (in, out)
    return t


def _from_studio(kind, values, shape):
    t = torch.from_numpy(np.array(values, dtype=np.float32).reshape(shape))
    if kind == 'conv':
        return t.permute(3, 2, 0, 1)
    if kind == 'dense':
        return t.t()
    return t


def read_studio_model(path):
    """The header and the float32 weights of a .cnnm file (checks magic, version, CRC)."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] != MAGIC:
        raise ValueError(f'{path}: not a CNN Studio model file (magic {data[:4]!r})')
    version, header_length = struct.unpack('<II', data[4:12])
    if version != VERSION:
        raise ValueError(f'{path}: model format version {version}, this reads {VERSION}')
    if zlib.crc32(data[:-4]) & 0xffffffff != struct.unpack('<I', data[-4:])[0]:
        raise ValueError(f'{path}: checksum mismatch (the file is damaged)')
    header = json.loads(data[12:12 + header_length].decode('utf-8'))
    offset = 12 + header_length
    blobs = {}
    for info in header['blobs']:
        dtype = '<f4' if info['type'] == 'f32' else '<u4'
        blobs[info['name']] = np.frombuffer(data, dtype=dtype, count=info['length'], offset=offset)
        offset += 4 * info['length']
    return header, blobs


def load_studio_weights(net, path, layout, spec_hash):
    header, blobs = read_studio_model(path)
    if header.get('specHash') != spec_hash:
        raise ValueError(f'{path}: its spec (hash {header.get("specHash")}) is not this model\'s ({spec_hash})')
    weights = blobs['weights']
    state = net.state_dict()
    with torch.no_grad():
        for name, key, shape, kind, offset, length in layout:
            state[key].copy_(_from_studio(kind, weights[offset:offset + length], shape))
    return header


def studio_weights(net, layout):
    """Every value in the studio's layout, float32, as one flat array."""
    state = net.state_dict()
    total = sum(entry[5] for entry in layout)
    out = np.zeros(total, dtype=np.float32)
    for name, key, shape, kind, offset, length in layout:
        out[offset:offset + length] = _to_studio(kind, state[key].detach().float().cpu()).reshape(-1).numpy()
    return out


def write_studio_model(path, net, layout, spec_json, spec_hash, trained_by):
    """Writes net as a .cnnm the studio imports (cnn-studio import-model FILE --dataset D)."""
    weights = studio_weights(net, layout)
    blobs = [{'name': 'weights', 'type': 'f32', 'length': int(weights.size)}]
    # the spec goes in as the studio wrote it, so its hash (checked on import) is the studio's
    header = ('{"spec":' + spec_json + ',"specHash":' + json.dumps(spec_hash) + ',"trainedBy":' + json.dumps(trained_by)
              + ',"blobs":' + json.dumps(blobs, separators=(',', ':')) + '}').encode('utf-8')
    body = MAGIC + struct.pack('<II', VERSION, len(header)) + header + weights.astype('<f4').tobytes()
    with open(path, 'wb') as f:
        f.write(body + struct.pack('<I', zlib.crc32(body) & 0xffffffff))
`;
