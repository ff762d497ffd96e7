"""Model folders (models/README.md): config.json, model.safetensors, tokenizer.json.

The safetensors file is written by hand (the `safetensors` package is not installed here) in
the layout src/backbone/safetensors.ts writes: an 8-byte little-endian header length, compact
JSON with `__metadata__` {"format": "pt"} first and the tensors in name (code point) order, F32
data offsets, the header padded with spaces to a multiple of 8; then the data. For the same
tensors the bytes equal the TypeScript writer's (test/backbone/torch_parity.test.ts checks it).
"""
from __future__ import annotations

import json
import os
import struct
from typing import Dict, Optional, Tuple

import numpy as np
import torch

from cobra import Cobra

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
# Training-only readouts (train.py's dense head, the --oracle-tokens map): not part of the served
# model, kept beside it so a later stage started with --init goes on from them instead of from zero.
HEADS_FILE = "training_heads.safetensors"

_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2")}


def write_safetensors(path: str, tensors: Dict[str, np.ndarray], metadata: Dict[str, str] | None = None) -> None:
    names = sorted(tensors)  # Python str order is code point order, as the reference sorts
    parts = []
    if metadata is not None:
        parts.append('"__metadata__":' + json.dumps(metadata, separators=(",", ":")))
    offset = 0
    blobs = []
    for name in names:
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name}: weights must be finite")
        end = offset + a.nbytes
        shape = ",".join(str(d) for d in a.shape)
        parts.append(f'{json.dumps(name)}:{{"dtype":"F32","shape":[{shape}],"data_offsets":[{offset},{end}]}}')
        blobs.append(a.tobytes())
        offset = end
    header = ("{" + ",".join(parts) + "}").encode("utf-8")
    header += b" " * ((8 - len(header) % 8) % 8)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for a safetensors header")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > 100_000_000 or 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} is not valid")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = memoryview(raw)[8 + n:]
    meta = header.pop("__metadata__", None) or {}
    out: Dict[str, np.ndarray] = {}
    covered = 0
    for name, info in header.items():
        dt = info["dtype"]
        if dt == "BF16":
            b, e = info["data_offsets"]
            u = np.frombuffer(data[b:e], dtype="<u2").astype(np.uint32) << 16
            a = u.view(np.float32)
        elif dt in _DTYPES:
            b, e = info["data_offsets"]
            a = np.frombuffer(data[b:e], dtype=_DTYPES[dt]).astype(np.float32)
        else:
            raise ValueError(f"{path}: {name}: dtype {dt} is not supported (F32, F16, BF16 are)")
        shape = tuple(info["shape"])
        if a.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{path}: {name}: shape {shape} does not match its data_offsets")
        out[name] = a.reshape(shape)
        covered += e - b
    if covered != len(data):
        raise ValueError(f"{path}: tensors cover {covered} of {len(data)} data bytes")
    return out, meta


def read_config(folder: str) -> dict:
    with open(os.path.join(folder, CONFIG_FILE), encoding="utf-8") as f:
        c = json.load(f)
    if c.get("format") != "spatial-reward-cobra" or c.get("format_version") != 1:
        raise ValueError(f"{folder}/{CONFIG_FILE}: not a spatial-reward-cobra v1 config")
    return c


def load_model(folder: str) -> Tuple[Cobra, dict]:
    """A model folder (written by TypeScript or by save_model) → (Cobra, config)."""
    config = read_config(folder)
    model = Cobra(config)
    tensors, _ = read_safetensors(os.path.join(folder, WEIGHTS_FILE))
    want = model.state_dict()
    missing = sorted(set(want) - set(tensors))
    extra = sorted(set(tensors) - set(want))
    if missing or extra:
        raise ValueError(f"{folder}/{WEIGHTS_FILE}: missing {missing[:5]}, unexpected {extra[:5]}")
    state = {}
    for name, t in want.items():
        a = tensors[name]
        if tuple(a.shape) != tuple(t.shape):
            raise ValueError(f"{folder}/{WEIGHTS_FILE}: {name} has shape {a.shape}, the config needs {tuple(t.shape)}")
        state[name] = torch.from_numpy(a.copy())
    model.load_state_dict(state)
    return model, config


def save_model(folder: str, model: Cobra, tokenizer_json: dict, trained: bool = True) -> None:
    """Writes config.json (`trained` set), model.safetensors and tokenizer.json."""
    os.makedirs(folder, exist_ok=True)
    config = dict(model.config)
    config["trained"] = trained
    tensors = {k: v.detach().cpu().float().numpy() for k, v in model.state_dict().items()}
    write_safetensors(os.path.join(folder, WEIGHTS_FILE), tensors, {"format": "pt"})
    _write_text(os.path.join(folder, CONFIG_FILE), json.dumps(config, indent=2) + "\n")
    _write_text(os.path.join(folder, TOKENIZER_FILE), json.dumps(tokenizer_json, ensure_ascii=False, separators=(",", ":")))


def _write_text(path: str, text: str) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def save_training_heads(folder: str, heads: Dict[str, Optional[torch.nn.Module]], metadata: Dict[str, str]) -> None:
    """`heads` (prefix → module or None) into folder/HEADS_FILE as prefix.name tensors; nothing when all are None."""
    tensors = {f"{prefix}.{k}": v.detach().cpu().float().numpy()
               for prefix, m in heads.items() if m is not None for k, v in m.state_dict().items()}
    if tensors:
        write_safetensors(os.path.join(folder, HEADS_FILE), tensors, {"format": "pt", **metadata})


def load_training_head(folder: str, prefix: str, module: torch.nn.Module, metadata: Dict[str, str]) -> str:
    """Loads folder/HEADS_FILE's `prefix.*` tensors into module when they fit it and were saved with the
    same metadata (the dense targets' kind and colour lists); returns what happened, for the log."""
    path = os.path.join(folder, HEADS_FILE)
    if not os.path.exists(path):
        return f"{prefix}: none in {folder}, starts from zero"
    tensors, meta = read_safetensors(path)
    for k, v in metadata.items():
        if meta.get(k) != v:
            return f"{prefix}: saved with other {k}, starts from zero"
    want = module.state_dict()
    got = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
    if set(got) != set(want) or any(tuple(got[k].shape) != tuple(t.shape) for k, t in want.items()):
        return f"{prefix}: saved with other shapes, starts from zero"
    module.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in got.items()})
    return f"{prefix}: restored from {path}"
