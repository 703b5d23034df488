"""Reading pretrained weights from a hub-layout directory, old and new formats alike.

Hub checkpoints come in two layouts:
    model.safetensors   written by ``save_pretrained`` (current transformers)
    pytorch_model.bin   older uploads: a pickled state dict, often with a ``bert.`` prefix,
                        LayerNorm parameters named ``gamma``/``beta`` and pretraining-head keys

``read_weights`` reads either (the .bin only through ``torch.load(weights_only=True)``, never
unrestricted pickle) and normalises LayerNorm names; ``strip_prefix`` drops the model prefix and
the pretraining-head keys so the result matches a bare encoder's ``state_dict``.
"""
from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Iterable, Mapping

import torch

from zhnlp.errors import ConfigError

SAFETENSORS = "model.safetensors"
PYTORCH_BIN = "pytorch_model.bin"
WEIGHT_FILES = (SAFETENSORS, PYTORCH_BIN)

# Keys that belong to pretraining heads, not to the encoder: dropped by ``strip_prefix``.
HEAD_PREFIXES = (
    "cls.",
    "predictions.",
    "seq_relationship.",
    "sop_classifier.",
    "lm_head.",
    "qa_outputs.",
    "classifier.",
)


def weights_file(directory: str | Path) -> Path:
    """The weights file of a hub-layout directory (safetensors preferred).

    Raises:
        ConfigError: neither ``model.safetensors`` nor ``pytorch_model.bin`` exists there.
    """
    directory = Path(directory)
    for name in WEIGHT_FILES:
        if (directory / name).is_file():
            return directory / name
    raise ConfigError(
        f"No weights file in {directory}: expected {SAFETENSORS} or {PYTORCH_BIN}. "
        f"Point encoder.pretrained at a directory holding config.json, vocab.txt and one of "
        f"these files (sharded checkpoints must be merged first), or pass weights=false to "
        f"build the architecture from config.json with random weights."
    )


def _rename_legacy(key: str) -> str:
    """Old TF-converted checkpoints call LayerNorm parameters gamma/beta."""
    if key.endswith(".gamma"):
        return key[: -len("gamma")] + "weight"
    if key.endswith(".beta"):
        return key[: -len("beta")] + "bias"
    return key


def read_weights(directory: str | Path) -> dict[str, torch.Tensor]:
    """Read the state dict stored in a hub-layout directory.

    Args:
        directory: a folder holding ``model.safetensors`` or ``pytorch_model.bin``.

    Returns:
        Parameter name -> CPU tensor, with legacy LayerNorm names ``gamma``/``beta`` renamed to
        ``weight``/``bias``. Prefixes (``bert.`` ...) are kept; see ``strip_prefix``.

    Raises:
        ConfigError: no weights file, or one that cannot be read safely.
    """
    path = weights_file(directory)
    if path.name == SAFETENSORS:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            raw = load_file(str(path), device="cpu")
        except (SafetensorError, OSError) as exc:
            raise ConfigError(f"Cannot read weights file {path}: {exc}. Is it a complete "
                              f"safetensors file?") from exc
    else:
        try:
            raw = torch.load(str(path), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            found = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
            what = f" ({found.group(1)})" if found else ""
            raise ConfigError(
                f"Refusing to load {path}: it holds pickled Python objects{what}, not just "
                f"tensors. zhnlp reads .bin files with torch.load(weights_only=True) and never "
                f"runs arbitrary pickle code; convert the file to model.safetensors on a "
                f"machine where you trust its source."
            ) from exc
        except (RuntimeError, OSError, EOFError, ValueError) as exc:
            raise ConfigError(f"Cannot read weights file {path}: {type(exc).__name__}: {exc}. "
                              f"Is it a complete PyTorch state dict?") from exc
    if isinstance(raw, Mapping) and "state_dict" in raw and isinstance(raw["state_dict"], Mapping):
        raw = raw["state_dict"]
    if not isinstance(raw, Mapping) or not all(isinstance(v, torch.Tensor) for v in raw.values()):
        raise ConfigError(f"Weights file {path} does not hold a state dict of tensors.")
    return {_rename_legacy(k): v for k, v in raw.items()}


def strip_prefix(
    state_dict: Mapping[str, torch.Tensor],
    prefixes: Iterable[str],
    drop: Iterable[str] = HEAD_PREFIXES,
) -> dict[str, torch.Tensor]:
    """Drop a model prefix (``bert.``, ``nezha.``, ``albert.`` ...) and pretraining-head keys.

    Args:
        state_dict: parameter name -> tensor, as from ``read_weights``.
        prefixes: leading name parts to remove, e.g. ``("bert.",)``; the first that matches a
            key is removed (a trailing dot is added if missing).
        drop: key prefixes (checked after stripping) that belong to heads and are discarded.

    Returns:
        A new dict with stripped names. Keys without any prefix are kept as they are.
    """
    prefixes = tuple(p if p.endswith(".") else p + "." for p in prefixes)
    drop = tuple(drop)
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        for prefix in prefixes:
            if key.startswith(prefix):
                key = key[len(prefix):]
                break
        if drop and key.startswith(drop):
            continue
        out[key] = value
    return out
