/** data.py of an exported PyTorch project: the dataset read from its own files (IDX, CSV, or a
 *  folder of class subfolders) as dataset.json describes them, the run's validation split, and the
 *  studio's augmentation. */
export const DATA_PY = String.raw`"""The dataset, read from its own files as the studio read them, and the run's split.

dataset.json says where the files are and what the studio made of them (shape, classes, counts);
split.json holds the run's validation images (indices into the training images). A count or shape
that differs from dataset.json is an error: the files changed, or the studio imported them with
options (resizing, channels) this reader does not repeat.
"""
import csv
import json
import os
import re

import numpy as np
import torch


def _moved(path, data_root):
    return os.path.join(data_root, os.path.basename(path)) if data_root else path


def _read_idx(path):
    import gzip
    with open(path, 'rb') as f:
        raw = f.read()
    if raw[:2] == b'\x1f\x8b':
        raw = gzip.decompress(raw)
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _load_idx(pairs, shape, data_root):
    xs, ys = [], []
    for images, labels in pairs:
        x = _read_idx(_moved(images, data_root))
        xs.append(x.reshape(x.shape[0], *shape))
        ys.append(_read_idx(_moved(labels, data_root)))
    return np.concatenate(xs), np.concatenate(ys)


def _load_csv(paths, shape, data_root):
    xs, ys = [], []
    for path in paths:
        with open(_moved(path, data_root), newline='') as f:
            first = f.readline()
            f.seek(0)
            delimiter = ',' if (',' in first or ';' not in first) else ';'
            rows = [r for r in csv.reader(f, delimiter=delimiter) if r and any(cell.strip() for cell in r)]
        try:
            float(rows[0][0].strip().strip('"'))
        except ValueError:
            rows = rows[1:]  # a header
        values = np.array([[float(cell.strip().strip('"')) for cell in r] for r in rows])
        pixels = values[:, 1:]
        # intensities in 0..1 are scaled by 255, as the studio does
        if np.any(pixels != np.round(pixels)) and pixels.max() <= 1:
            pixels = pixels * 255
        xs.append(np.minimum(255, np.round(pixels)).astype(np.uint8).reshape(len(rows), *shape))
        ys.append(values[:, 0].astype(np.uint8))
    return np.concatenate(xs), np.concatenate(ys)


def _natural(name):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r'(\d+)', name)]


def _entries(folder):
    names = [n for n in os.listdir(folder) if not (n.startswith('.') or n in ('Thumbs.db', 'desktop.ini', '__MACOSX'))]
    paths = sorted((os.path.join(folder, n) for n in names), key=lambda p: _natural(os.path.basename(p)))
    return [p for p in paths if os.path.isfile(p)], [p for p in paths if os.path.isdir(p)]


def _walk(folder):
    files, dirs = _entries(folder)
    for d in dirs:
        files += _walk(d)
    return files


def _load_folder(root, shape, class_names, data_root):
    from PIL import Image, ImageOps
    root = data_root or root
    h, w, c = shape
    files, dirs = _entries(root)
    train_dir = next((d for d in dirs if re.fullmatch(r'train|training', os.path.basename(d), re.I)), None)
    test_dir = next((d for d in dirs if re.fullmatch(r'test|testing', os.path.basename(d), re.I)), None)
    split = train_dir is not None and len(_entries(train_dir)[1]) > 0
    parents = [(train_dir, 'train')] + ([(test_dir, 'test')] if test_dir else []) if split else [(root, 'train')]
    out = {'train': ([], []), 'test': ([], [])}
    for parent, which in parents:
        for d in _entries(parent)[1]:
            label = class_names.index(os.path.basename(d))
            for path in _walk(d):
                try:
                    image = ImageOps.exif_transpose(Image.open(path))
                except Exception:
                    continue  # not an image the studio would read: it skips those too
                if image.mode in ('RGBA', 'LA', 'P'):
                    image = image.convert('RGBA')
                    black = Image.new('RGBA', image.size, (0, 0, 0, 255))
                    image = Image.alpha_composite(black, image)
                if image.size != (w, h):
                    continue  # the studio skips images that are not the majority size
                rgb = np.asarray(image.convert('RGB'), dtype=np.uint8)
                if c == 1:
                    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
                    gray = np.where((r == g) & (g == b), r, np.floor(0.299 * r + 0.587 * g + 0.114 * b + 0.5))
                    pixels = gray.astype(np.uint8)[..., None]
                else:
                    pixels = rgb
                out[which][0].append(pixels)
                out[which][1].append(label)
    return {k: (np.stack(v[0]), np.array(v[1], dtype=np.uint8)) if v[0] else None for k, v in out.items()}


def load(here, data_root=None):
    """{'train': (images uint8 (N, H, W, C), labels uint8 (N,)), 'test': the same or None}."""
    with open(os.path.join(here, 'dataset.json')) as f:
        d = json.load(f)
    shape = d['shape']
    if d['format'] == 'idx':
        sets = {'train': _load_idx(d['files']['train'], shape, data_root),
                'test': _load_idx(d['files']['test'], shape, data_root) if d['files']['test'] else None}
    elif d['format'] == 'csv':
        sets = {'train': _load_csv(d['files']['train'], shape, data_root),
                'test': _load_csv(d['files']['test'], shape, data_root) if d['files']['test'] else None}
    elif d['format'] == 'folder':
        sets = _load_folder(d['files']['root'], shape, d['classNames'], data_root)
    else:
        raise ValueError(f'dataset format {d["format"]!r} is not one this reader knows (idx, csv, folder)')
    for which, expected in (('train', d['trainCount']), ('test', d['testCount'])):
        got = 0 if sets[which] is None else len(sets[which][1])
        if got != expected:
            raise ValueError(f'{which}: {got} images in the files, the studio imported {expected} '
                             '(the files changed, or the import resized or converted them: re-export after importing them as they are)')
    return sets


def split(here, train, hp):
    """The run's training and validation indices (ascending), as the studio split them."""
    with open(os.path.join(here, 'split.json')) as f:
        s = json.load(f)
    n = len(train[1])
    validation = np.array(s['validation'], dtype=np.int64)
    mask = np.ones(n, dtype=bool)
    mask[validation] = False
    train_idx = np.nonzero(mask)[0]
    if hp.get('trainLimit') is not None:
        train_idx = train_idx[:hp['trainLimit']]
    return train_idx, validation


def to_float(images, device):
    """uint8 NHWC → float32 in [0, 1], as the studio scales them."""
    return torch.from_numpy(np.ascontiguousarray(images)).to(device=device, dtype=torch.float32).div_(255)


def augment_batch(x, flip, max_shift):
    """The studio's augmentation per image: a left-right flip with probability 1/2, then a shift
    by up to max_shift pixels in y and x (zero fill). x is (N, H, W, C)."""
    n, h, w, _ = x.shape
    if flip:
        flips = torch.rand(n) < 0.5
        x = torch.where(flips.view(n, 1, 1, 1).to(x.device), x.flip(2), x)
    if max_shift > 0:
        k = max_shift
        padded = torch.nn.functional.pad(x, (0, 0, k, k, k, k))
        shifts = torch.randint(-k, k + 1, (n, 2))
        x = torch.stack([padded[i, k - int(dy):k - int(dy) + h, k - int(dx):k - int(dx) + w] for i, (dy, dx) in enumerate(shifts)])
    return x
`;
