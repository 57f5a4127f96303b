#!/usr/bin/python3
"""The ViT side of bench:peer: vit-fashion in PyTorch on CPU, beside the engine's CLI.

The GPT-2 peer (torch_prune.py beside this project) runs the papers' reference code; for a ViT
classifier there is none in those repositories, so this is the same algorithms written the
reference code's way: HF's ViTForImageClassification forward (pre-norm blocks, exact GELU, the
classifier on the CLS token) with its own safetensors reader, and
  magnitude  per-matrix threshold on |W| (locuslab/wanda prune_magnitude);
  wanda      |W| * sqrt(sum of x^2 over the calibration tokens), 50% of each output row (prune_wanda's
             metric and mask), the statistics from one pass of the dense model over the calibration
             images in one batch: what the engine's default one-shot mode computes for a ViT.
Calibration: the CLI's default, 128 images of calib.safetensors in the seeded order of
src/engine/pruning/calibration.ts makeCalibration (mulberry32, seed + 41). Evaluation: every image of
eval.safetensors in batches of --eval-batch images (bench:peer passes the engine's, metrics.ts's
classifierBatch), top-1 accuracy, as src/engine/eval/metrics.ts does.

Usage: peer-vit.py [--model DIR] [--methods magnitude,wanda|none] [--configs 0.5] [--threads 1]
                   [--calib-count 128] [--seed 0] [--eval-batch 120] [--dense] [--raw-env]
Needs /usr/bin/python3 with torch, numpy and OpenBLAS, as the GPT-2 peer. Prints one JSON object.
"""
import json
import os
import struct
import sys
import time


def _tuned_env(threads):
    """The GPT-2 peer's runtime settings (see its _tuned_env): passive OpenMP waiting, glibc malloc
    kept off mmap and trim, OpenBLAS on the torch threads. Set before the process starts."""
    return {
        'OMP_WAIT_POLICY': 'PASSIVE',
        'MALLOC_MMAP_THRESHOLD_': '33554432',
        'MALLOC_TRIM_THRESHOLD_': '1073741824',
        'OPENBLAS_NUM_THREADS': threads,
        'OMP_NUM_THREADS': threads,
    }


def _arg(name, default):
    for i, a in enumerate(sys.argv):
        if a == name and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith(name + '='):
            return a.split('=', 1)[1]
    return default


if '--raw-env' not in sys.argv and os.environ.get('PEER_TUNED') != '1':
    os.execve(sys.executable, [sys.executable] + sys.argv,
              dict(os.environ, PEER_TUNED='1', **_tuned_env(_arg('--threads', '1'))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

_DTYPES = {'F32': np.float32, 'U8': np.uint8}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, meta in header.items():
        if name == '__metadata__':
            continue
        s, e = meta['data_offsets']
        out[name] = np.frombuffer(data[8 + n + s:8 + n + e], dtype=_DTYPES[meta['dtype']]).reshape(meta['shape']).copy()
    return out


def mulberry32(n, seed):
    """src/engine/pruning/random.ts randomScores."""
    a, m = seed & 0xFFFFFFFF, 0xFFFFFFFF
    out = np.empty(n, dtype=np.float32)
    for i in range(n):
        a = (a + 0x6D2B79F5) & m
        t = a
        t = ((t ^ (t >> 15)) * (t | 1)) & m
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & m)) & m
        out[i] = ((t ^ (t >> 14)) & m) / 4294967296.0
    return out


class ViT:
    """ViTForImageClassification's forward on a dict of tensors (weights [out, in], as nn.Linear)."""

    def __init__(self, cfg, tensors):
        self.cfg = cfg
        self.w = {k: torch.from_numpy(v.copy()) for k, v in tensors.items()}
        self.hooks = None  # name -> callback(input) while calibrating

    def linear(self, name, x):
        if self.hooks is not None:
            self.hooks(name, x)
        return F.linear(x, self.w[name + '.weight'], self.w[name + '.bias'])

    def linears(self):
        names = []
        for i in range(self.cfg['num_hidden_layers']):
            p = f'vit.encoder.layer.{i}.'
            names += [p + 'attention.attention.query', p + 'attention.attention.key', p + 'attention.attention.value',
                      p + 'attention.output.dense', p + 'intermediate.dense', p + 'output.dense']
        return names

    @torch.no_grad()
    def __call__(self, pixels):
        w, c = self.w, self.cfg
        d, heads, eps = c['hidden_size'], c['num_attention_heads'], c['layer_norm_eps']
        x = F.conv2d(pixels, w['vit.embeddings.patch_embeddings.projection.weight'],
                     w['vit.embeddings.patch_embeddings.projection.bias'], stride=c['patch_size'])
        x = x.flatten(2).transpose(1, 2)
        cls = w['vit.embeddings.cls_token'].expand(x.shape[0], -1, -1)
        h = torch.cat([cls, x], 1) + w['vit.embeddings.position_embeddings']
        b, t, _ = h.shape
        for i in range(c['num_hidden_layers']):
            p = f'vit.encoder.layer.{i}.'
            a = F.layer_norm(h, (d,), w[p + 'layernorm_before.weight'], w[p + 'layernorm_before.bias'], eps)
            q, k, v = (self.linear(p + 'attention.attention.' + n, a).view(b, t, heads, -1).transpose(1, 2)
                       for n in ('query', 'key', 'value'))
            att = torch.softmax(q @ k.transpose(-1, -2) / (d // heads) ** 0.5, -1) @ v
            h = h + self.linear(p + 'attention.output.dense', att.transpose(1, 2).reshape(b, t, d))
            m = F.layer_norm(h, (d,), w[p + 'layernorm_after.weight'], w[p + 'layernorm_after.bias'], eps)
            h = h + self.linear(p + 'output.dense', F.gelu(self.linear(p + 'intermediate.dense', m)))
        h = F.layer_norm(h, (d,), w['vit.layernorm.weight'], w['vit.layernorm.bias'], eps)
        return F.linear(h[:, 0], w['classifier.weight'], w['classifier.bias'])


def to_input(images, pre):
    """ViTImageProcessor's rescale and normalize (the images are already the model's size)."""
    x = torch.from_numpy(images.astype(np.float32))[:, None] * pre['rescale_factor']
    return (x - pre['image_mean'][0]) / pre['image_std'][0]


@torch.no_grad()
def evaluate(model, pixels, labels, batch):
    right = 0
    for s in range(0, pixels.shape[0], batch):
        right += (model(pixels[s:s + batch]).argmax(-1) == labels[s:s + batch]).sum().item()
    return {'accuracy': right / pixels.shape[0], 'count': int(pixels.shape[0])}


def prune_magnitude(model, sparsity):
    for name in model.linears():
        W = model.w[name + '.weight']
        k = int(W.numel() * sparsity)
        thresh = torch.sort(torch.abs(W).flatten())[0][k - 1] if k > 0 else -1
        W[torch.abs(W) <= thresh] = 0


@torch.no_grad()
def prune_wanda(model, calib, sparsity):
    sq = {}

    def hook(name, x):
        x2 = x.reshape(-1, x.shape[-1]).float()
        sq[name] = sq.get(name, 0) + (x2 * x2).sum(0)

    model.hooks = hook
    model(calib)
    model.hooks = None
    for name in model.linears():
        W = model.w[name + '.weight']
        metric = torch.abs(W) * torch.sqrt(sq[name].reshape(1, -1))
        idx = torch.sort(metric, dim=-1, stable=True)[1][:, :int(W.shape[1] * sparsity)]
        mask = torch.zeros_like(metric, dtype=torch.bool).scatter_(1, idx, True)
        W[mask] = 0


def blas_in_use():
    """The BLAS and LAPACK libraries mapped into this process (OpenBLAS, or the slow reference BLAS)."""
    try:
        with open('/proc/self/maps') as f:
            libs = {line.split()[-1] for line in f if 'blas' in line or 'lapack' in line}
        return sorted(os.path.realpath(x) for x in libs if x.startswith('/'))
    except OSError:
        return None


def achieved_sparsity(model):
    ws = [model.w[n + '.weight'] for n in model.linears()]
    return sum((w == 0).sum().item() for w in ws) / sum(w.numel() for w in ws)


def main():
    model_dir = _arg('--model', 'public/models/vit-fashion')
    methods = [m for m in _arg('--methods', 'magnitude,wanda').split(',') if m and m != 'none']
    configs = _arg('--configs', '0.5').split(',')
    count, seed = int(_arg('--calib-count', '128')), int(_arg('--seed', '0'))
    batch = int(_arg('--eval-batch', '120'))
    torch.set_num_threads(int(_arg('--threads', '1')))
    t_load = time.perf_counter()
    cfg = json.load(open(os.path.join(model_dir, 'config.json')))
    pre = json.load(open(os.path.join(model_dir, 'preprocessor_config.json')))
    tensors = read_safetensors(os.path.join(model_dir, 'model.safetensors'))
    ev = read_safetensors(os.path.join(model_dir, 'eval.safetensors'))
    cal = read_safetensors(os.path.join(model_dir, 'calib.safetensors'))
    pixels, labels = to_input(ev['images'], pre), torch.from_numpy(ev['labels'].astype(np.int64))
    key = mulberry32(cal['images'].shape[0], seed + 41)
    order = sorted(range(len(key)), key=lambda i: (key[i], i))
    calib = to_input(cal['images'][[order[i % len(order)] for i in range(count)]], pre)
    out = {
        'peer': 'PyTorch ViT (bench/peer-vit.py): magnitude and Wanda as the reference code computes them',
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'interopThreads': torch.get_num_interop_threads(),
        'blas': blas_in_use(),
        'env': {k: os.environ.get(k) for k in _tuned_env('1')},
        'calibration': {'count': count, 'seed': seed},
        'loadMs': (time.perf_counter() - t_load) * 1000,
        'results': [],
    }
    prune = {'magnitude': lambda m, s: prune_magnitude(m, s), 'wanda': lambda m, s: prune_wanda(m, calib, s)}
    for method in methods:
        for c in configs:
            model = ViT(cfg, tensors)
            t0 = time.perf_counter()
            prune[method](model, float(c))
            t1 = time.perf_counter()
            metric = evaluate(model, pixels, labels, batch)
            out['results'].append({
                'method': method, 'config': c, 'sparsity': achieved_sparsity(model), 'metric': metric,
                'timeMs': {'calibrationAndPrune': (t1 - t0) * 1000, 'evaluate': (time.perf_counter() - t1) * 1000},
            })
    if '--dense' in sys.argv:
        model = ViT(cfg, tensors)
        t1 = time.perf_counter()
        metric = evaluate(model, pixels, labels, batch)
        out['dense'] = {'metric': metric, 'timeMs': {'evaluate': (time.perf_counter() - t1) * 1000}}
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
