"""Shared pieces of the PyTorch cross-checks of fpsim's training runner.

Used by scripts/torch_replay.py and scripts/torch_step_time.py; run with
/usr/bin/python3 (torch + numpy). Everything here is written from the
documented contracts (docs/training.md: "Models", "Data sets", "Data order",
"Optimizers", "Learning rate"), not from fpsim's C++, so that a replay that
agrees is an independent check.

Contents:
  - read_safetensors: the safetensors format (8-byte little-endian header
    length, JSON header, raw little-endian data), parsed with json + numpy;
  - philox4x32_10 / uniform_below: Philox4x32-10 (Salmon et al., SC 2011,
    Random123's constants), vectorised over numpy arrays;
  - the data sets (real digits / Devil's Dictionary, synthetic stand-ins) and
    the data order (MLP epoch permutations, GPT window offsets);
  - the two models as torch.nn.Modules with fpsim's state_dict keys;
  - fpsim's learning-rate schedule and its AdamW / SGD parameter groups.
"""

import gzip
import json
import math
import os
import re
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------
# safetensors


class InputError(Exception):
    """Bad or missing input: the scripts exit with status 2."""


_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I32": np.dtype("<i4"), "I64": np.dtype("<i8")}


def read_safetensors(path):
    """Returns ({name: numpy array}, metadata dict) of a .safetensors file."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}") from e
    if len(blob) < 8:
        raise InputError(f"{path}: shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise InputError(f"{path}: header length {n} exceeds the file size {len(blob)}")
    try:
        header = json.loads(blob[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: header is not JSON ({e})") from e
    data = blob[8 + n :]
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, t in header.items():
        dt = _DTYPES.get(t.get("dtype"))
        if dt is None:
            raise InputError(f"{path}: tensor {name!r} has unsupported dtype {t.get('dtype')!r}")
        shape = [int(s) for s in t["shape"]]
        begin, end = (int(x) for x in t["data_offsets"])
        count = int(np.prod(shape)) if shape else 1
        if not (0 <= begin <= end <= len(data)) or end - begin != count * dt.itemsize:
            raise InputError(f"{path}: tensor {name!r} has data_offsets {begin}..{end} that do not fit shape {shape}")
        out[name] = np.frombuffer(data, dtype=dt, count=count, offset=begin).reshape(shape).copy()
    return out, meta


# ---------------------------------------------------------------------------
# Philox4x32-10, vectorised. Counter (c0, c1, c2, c3), key (k0, k1); each round
# multiplies c0 and c2 by the Philox constants, mixes the high halves with the
# other words and the key, and bumps the key by the Weyl constants (Salmon et
# al. 2011, Fig. 2; Random123 philox.h).

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
_MASK = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)


def philox4x32_10(c0, c1, c2, c3, k0, k1):
    b = np.broadcast_arrays(*(np.asarray(v, dtype=np.uint64) for v in (c0, c1, c2, c3, k0, k1)))
    c0, c1, c2, c3, k0, k1 = (x.copy() for x in b)
    for _ in range(10):
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = (p1 >> _S32) ^ c1 ^ k0, p1 & _MASK, (p0 >> _S32) ^ c3 ^ k1, p0 & _MASK
        k0 = (k0 + _W0) & _MASK
        k1 = (k1 + _W1) & _MASK
    return c0, c1, c2, c3


# Random123's known-answer vectors (kat_vectors, philox4x32 10):
# (counter, key) -> output.
_PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


def check_philox():
    for ctr, key, want in _PHILOX_KAT:
        got = tuple(int(w) for w in philox4x32_10(*ctr, *key))
        if got != want:
            raise AssertionError(f"philox4x32_10 known-answer test failed: {got} != {want}")


# Counter word 2 of each use (docs/training.md, "Data order").
P_SHUFFLE, P_WINDOW, P_DIGIT_PROTOTYPE, P_DIGIT_LABEL, P_DIGIT_NOISE = 0, 1, 2, 3, 4
P_TEXT_FIRST, P_TEXT_KEEP, P_TEXT_RANDOM = 5, 6, 7


def uniform_below(rng, key0, key1, c0, c1, purpose):
    """Unbiased uniform integers in [0, rng) (arrays broadcast): word 0 of
    philox(counter = (c0, c1, purpose, attempt), key) for attempt = 0, 1, ...,
    accepted when below 2^32 - (2^32 mod rng), then taken mod rng."""
    rng, key0, key1, c0, c1 = np.broadcast_arrays(*(np.asarray(v, dtype=np.uint64) for v in (rng, key0, key1, c0, c1)))
    shape = rng.shape
    rng, key0, key1, c0, c1 = (a.reshape(-1) for a in (rng, key0, key1, c0, c1))
    limit = np.uint64(1 << 32) - (np.uint64(1 << 32) % rng)
    out = np.zeros(rng.shape, dtype=np.uint64)
    todo = np.ones(rng.shape, dtype=bool)
    attempt = 0
    while todo.any():
        idx = np.nonzero(todo)
        x = philox4x32_10(c0[idx], c1[idx], purpose, attempt, key0[idx], key1[idx])[0]
        ok = x < limit[idx]
        sel = tuple(i[ok] for i in idx)
        out[sel] = x[ok] % rng[sel]
        todo[sel] = False
        attempt += 1
    return out.astype(np.int64).reshape(shape)


# ---------------------------------------------------------------------------
# Data sets (docs/training.md, "Data sets").

SYNTHETIC_DATA_SEED = 20261205  # the fixed seed of data = synthetic
SYNTHETIC_DIGITS_ROWS = 1000
SYNTHETIC_TEXT_CHARS = 20000
DIGITS_KEY1 = 0x64696769  # "digi"
TEXT_KEY1 = 0x74657874  # "text"


def default_data_dir():
    env = os.environ.get("FPSIM_DATA_DIR", "")
    if env:
        return env
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")


def _split_digits(pixels, labels):
    n = len(labels)
    n_test = n // 5
    x = (pixels.astype(np.float32) / np.float32(16)).astype(np.float32)
    return {
        "train_x": x[: n - n_test],
        "train_y": labels[: n - n_test].astype(np.int64),
        "test_x": x[n - n_test :],
        "test_y": labels[n - n_test :].astype(np.int64),
        "features": 64,
        "classes": 10,
    }


def load_digits(data_dir):
    path = os.path.join(data_dir, "digits.csv.gz")
    try:
        text = gzip.open(path, "rb").read().decode("ascii")
    except OSError as e:
        raise InputError(f"cannot read {path} ({e}): run scripts/fetch_data.sh") from e
    rows = np.array([[int(v) for v in line.split(",")] for line in text.split("\n") if line], dtype=np.int64)
    if rows.ndim != 2 or rows.shape[1] != 65:
        raise InputError(f"{path}: expected rows of 65 integers")
    return _split_digits(rows[:, :64], rows[:, 64])


def synthetic_digits(seed, n):
    c = np.arange(10)[:, None]
    k = np.arange(64)[None, :]
    proto = uniform_below(17, seed, DIGITS_KEY1, 64 * c + k, 0, P_DIGIT_PROTOTYPE)  # [10, 64]
    i = np.arange(n)
    labels = uniform_below(10, seed, DIGITS_KEY1, i, 0, P_DIGIT_LABEL)
    noise = uniform_below(7, seed, DIGITS_KEY1, i[:, None], np.arange(64)[None, :], P_DIGIT_NOISE)  # [n, 64]
    pixels = np.clip(proto[labels] + noise - 3, 0, 16)
    return _split_digits(pixels, labels)


def _text_split(tokens, vocab_chars):
    n = len(tokens)
    n_train = 9 * n // 10
    return {
        "train": tokens[:n_train].astype(np.int64),
        "val": tokens[n_train:].astype(np.int64),
        "vocab": len(vocab_chars),
        "vocab_chars": vocab_chars,
    }


def load_devil(data_dir):
    path = os.path.join(data_dir, "devil.dict.dz")
    try:
        raw = gzip.open(path, "rb").read()
    except OSError as e:
        raise InputError(f"cannot read {path} ({e}): run scripts/fetch_data.sh") from e
    m = re.search(rb"^[A-Z]{2,}, ", raw, re.M)  # the first headword line
    if m is None or not raw.endswith(b"\n"):
        raise InputError(f"{path}: no headword line / not newline-terminated")
    last = raw[:-1].rfind(b"\n") + 1  # the start of the last line (the alphabet entry)
    text = raw[m.start() : last]
    vocab = sorted(set(text))
    lut = np.full(256, -1, dtype=np.int64)
    lut[vocab] = np.arange(len(vocab))
    tokens = lut[np.frombuffer(text, dtype=np.uint8)]
    return _text_split(tokens, bytes(vocab).decode("ascii"))


def synthetic_text(seed, n):
    i = np.arange(n)
    first = int(uniform_below(16, seed, TEXT_KEY1, 0, 0, P_TEXT_FIRST))
    keep = uniform_below(4, seed, TEXT_KEY1, i, 0, P_TEXT_KEEP) != 0
    rand = uniform_below(16, seed, TEXT_KEY1, i, 0, P_TEXT_RANDOM)
    t = np.empty(n, dtype=np.int64)
    t[0] = first
    for j in range(1, n):
        t[j] = (5 * t[j - 1] + 3) % 16 if keep[j] else rand[j]
    return _text_split(t, "abcdefghijklmnop")


def load_data(model, data, data_dir):
    if model == "mlp":
        return synthetic_digits(SYNTHETIC_DATA_SEED, SYNTHETIC_DIGITS_ROWS) if data == "synthetic" else load_digits(data_dir)
    return synthetic_text(SYNTHETIC_DATA_SEED, SYNTHETIC_TEXT_CHARS) if data == "synthetic" else load_devil(data_dir)


# ---------------------------------------------------------------------------
# Data order (docs/training.md, "Data order").


def epoch_permutation(data_seed, epoch, n):
    i = np.arange(n - 1, 0, -1)
    j = uniform_below(i + 1, data_seed, epoch, i, 0, P_SHUFFLE)
    perm = list(range(n))
    for a, b in zip(i.tolist(), j.tolist()):
        perm[a], perm[b] = perm[b], perm[a]
    return np.array(perm, dtype=np.int64)


def mlp_batch_order(data_seed, n_train, batch, steps):
    need = batch * steps
    parts, have, epoch = [], 0, 0
    while have < need:
        parts.append(epoch_permutation(data_seed, epoch, n_train))
        have += n_train
        epoch += 1
    return np.concatenate(parts)[:need].reshape(steps, batch)


def gpt_window_offsets(data_seed, n_train, context, batch, steps):
    s = np.arange(steps)[:, None]
    b = np.arange(batch)[None, :]
    return uniform_below(n_train - context, data_seed, s, b, 0, P_WINDOW)


# ---------------------------------------------------------------------------
# Models (docs/training.md, "Models").


class Mlp(nn.Module):
    """Linear(in, H)-ReLU-...-Linear(H, classes): fc1..fc<hidden_layers>, head."""

    def __init__(self, inputs, hidden, hidden_layers, classes):
        super().__init__()
        self.names = [f"fc{i + 1}" for i in range(hidden_layers)] + ["head"]
        dims = [inputs] + [hidden] * hidden_layers + [classes]
        for name, a, b in zip(self.names, dims[:-1], dims[1:]):
            setattr(self, name, nn.Linear(a, b))

    def forward(self, x):
        for name in self.names[:-1]:
            x = F.relu(getattr(self, name)(x))
        return self.head(x)


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width, eps=1e-5)
        self.attn = nn.Module()
        self.attn.c_attn = nn.Linear(width, 3 * width)
        self.attn.c_proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width, eps=1e-5)
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(width, 4 * width)
        self.mlp.c_proj = nn.Linear(4 * width, width)
        self.heads = heads

    def attention(self, x):
        B, T, C = x.shape
        hs = C // self.heads
        q, k, v = self.attn.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, hs).transpose(1, 2) for t in (q, k, v))
        # The scale is applied after Q·Kᵀ (docs: attention), as nanoGPT's
        # non-flash path does.
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.attn.c_proj(y)

    def forward(self, x):
        x = x + self.attention(self.ln_1(x))
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x)), approximate="tanh"))


class Gpt(nn.Module):
    """nanoGPT's GPT (no dropout), lm_head tied to transformer.wte.weight."""

    def __init__(self, vocab, layers, width, heads, context):
        super().__init__()
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(vocab, width)
        self.transformer.wpe = nn.Embedding(context, width)
        self.transformer.h = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.transformer.ln_f = nn.LayerNorm(width, eps=1e-5)
        self.lm_head = nn.Linear(width, vocab, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied

    def forward(self, idx):
        T = idx.shape[1]
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(T))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


def state_keys(module):
    """The stored parameter names: state_dict keys less the tied lm_head."""
    return [k for k in module.state_dict().keys() if k != "lm_head.weight"]


def build_model(cfg, vocab=None):
    """The module of a summary.json "config" (strings)."""
    if cfg["model"] == "mlp":
        return Mlp(64, int(cfg["mlp.hidden"]), int(cfg.get("mlp.hidden_layers", "2")), 10)
    return Gpt(vocab, int(cfg["gpt.layers"]), int(cfg["gpt.width"]), int(cfg["gpt.heads"]), int(cfg["gpt.context"]))


def model_loss(model, cfg, batch):
    """Mean cross-entropy of one batch ((x, y) for the MLP, (idx, targets) for the GPT)."""
    inp, target = batch
    if inp.is_floating_point():
        inp = inp.to(next(model.parameters()).dtype)
    logits = model(inp)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))


# ---------------------------------------------------------------------------
# Optimizer and schedule (docs/training.md, "Optimizers", "Learning rate").


def param_groups(model, weight_decay):
    """fpsim decays matrices and embeddings (2-D tensors), not biases or
    LayerNorm parameters (1-D): nanoGPT's configure_optimizers rule."""
    seen, decay, no_decay = set(), [], []
    for p in model.parameters():  # the tied weight appears once
        if id(p) in seen:
            continue
        seen.add(id(p))
        (decay if p.dim() >= 2 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(model, cfg):
    wd = float(cfg["weight_decay"])
    groups = param_groups(model, wd)
    lr = float(cfg["lr"])
    if cfg["optimizer"] == "adamw":
        return torch.optim.AdamW(
            groups,
            lr=lr,
            betas=(float(cfg["beta1"]), float(cfg["beta2"])),
            eps=float(cfg["eps"]),
            weight_decay=wd,
            foreach=False,
        )
    if cfg["optimizer"] == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=float(cfg["momentum"]), dampening=0.0, weight_decay=wd, foreach=False)
    raise InputError(f"unknown optimizer {cfg['optimizer']!r}")


def learning_rate(cfg, step):
    """fpsim's schedule for 0-based `step`: linear warm-up lr*(step+1)/warmup,
    then cosine decay to min_lr at step = steps, in double."""
    lr, min_lr = float(cfg["lr"]), float(cfg["min_lr"])
    warmup, decay = int(cfg["warmup_steps"]), int(cfg["steps"])
    if step < warmup:
        return lr * float(step + 1) / float(warmup)
    if decay == 0:
        return lr
    if step >= decay:
        return min_lr
    r = float(step - warmup) / float(decay - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * r)) * (lr - min_lr)
