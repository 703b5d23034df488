"""Collate feature dicts into padded tensors (dynamic padding: to the longest row in the batch)."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

PAD_ID = 0
IGNORE_INDEX = -100


def pad_stack(tensors: list[torch.Tensor], value: float) -> torch.Tensor:
    """Stack tensors of equal rank, padding every dimension to the largest size.

    Args:
        tensors: N tensors of the same rank and dtype, e.g. shapes (T_i,) or (K, T_i, T_i).
        value: fill value for the padding.

    Returns:
        (N, *max_shape) tensor.
    """
    shape = [max(sizes) for sizes in zip(*(t.shape for t in tensors))]
    out = tensors[0].new_full((len(tensors), *shape), value)
    for i, t in enumerate(tensors):
        out[(i, *(slice(0, s) for s in t.shape))] = t
    return out


def pad_ids(rows: list) -> torch.Tensor:
    """Integer id rows -> (N, T_max) long tensor padded with ``PAD_ID``; rows of lists (e.g. per-token
    feature ids) or tensors go through :func:`pad_stack`."""
    if all(isinstance(r, list) for r in rows) and not any(r and isinstance(r[0], (list, tuple)) for r in rows):
        out = np.full((len(rows), max((len(r) for r in rows), default=0)), PAD_ID, dtype=np.int64)  # (N, T_max)
        for i, r in enumerate(rows):
            out[i, : len(r)] = r  # numpy converts a Python list ~3x faster than torch.tensor
        return torch.from_numpy(out)
    return pad_stack([torch.as_tensor(r, dtype=torch.long) for r in rows], PAD_ID)


def collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Turn a list of features (see ``DataModule``) into a batch.

    Encoder keys (``item["inputs"]``) are padded with 0 to (B, T); head targets
    (``item["targets"]``) are padded with -100 (integers) or 0.0 (floats).
    """
    batch: dict[str, Any] = {}
    encoder_keys = list(items[0]["inputs"])
    for key in encoder_keys:
        batch[key] = pad_ids([it["inputs"][key] for it in items])
    for key in items[0].get("targets", {}):
        values = [torch.as_tensor(it["targets"][key]) for it in items]
        fill = 0.0 if values[0].is_floating_point() else IGNORE_INDEX
        batch[key] = pad_stack(values, fill) if values[0].dim() else torch.stack(values)
    batch["encoder_keys"] = encoder_keys
    batch["examples"] = [it["example"] for it in items]
    batch["offsets"] = [it["offsets"] for it in items]
    batch["index"] = torch.tensor([it["index"] for it in items], dtype=torch.long)
    return batch


def nonempty(batch: dict[str, Any]) -> dict[str, Any]:
    """A batch of only empty texts (T = 0) as one padding position per row (T = 1, attention 0,
    offsets ``(0, 0)``), so encoders and decoders see a normal, fully masked sequence."""
    if batch[batch["encoder_keys"][0]].size(1) > 0:
        return batch
    rows = batch[batch["encoder_keys"][0]].size(0)
    out = {**batch, **{k: torch.zeros(rows, 1, dtype=torch.long) for k in batch["encoder_keys"]}}
    out["offsets"] = [[(0, 0)] for _ in batch["offsets"]]
    return out
