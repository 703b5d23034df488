"""hashed_char: characters hashed into buckets (no vocabulary to build), embedded, convolved."""
from __future__ import annotations

import torch
from torch import nn


class HashedCharTokenizer:
    """One token per character; id = 1 + (code point mod buckets). 0 is padding."""

    def __init__(self, buckets: int):
        self.buckets = buckets

    def _one(self, text: str, text_pair: str | None) -> dict:
        chars = list(text) + (list(text_pair) if text_pair else [])
        ids = [1 + ord(c) % self.buckets for c in chars]
        offsets = [(i, i + 1) for i in range(len(text))] + [(i, i + 1) for i in range(len(text_pair or ""))]
        types = [0] * len(text) + [1] * len(text_pair or "")
        return {"input_ids": ids, "attention_mask": [1] * len(ids), "token_type_ids": types, "offset_mapping": offsets}

    def __call__(self, text, text_pair=None, return_offsets_mapping: bool = False, **_) -> dict:
        if isinstance(text, str):
            out = self._one(text, text_pair)
        else:
            pairs = text_pair if text_pair is not None else [None] * len(text)
            rows = [self._one(t, p) for t, p in zip(text, pairs)]
            out = {key: [row[key] for row in rows] for key in rows[0]} if rows else {}
        if not return_offsets_mapping:
            out.pop("offset_mapping", None)
        return out


class HashedCharEncoder(nn.Module):
    """Embedding of hashed characters followed by a same-length 1-D convolution."""

    def __init__(self, buckets: int, dim: int, kernel_size: int, max_length: int):
        super().__init__()
        self.tokenizer = HashedCharTokenizer(buckets)
        self.hidden_size, self.max_length = dim, max_length
        self.embed = nn.Embedding(buckets + 1, dim, padding_idx=0)
        self.conv = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_) -> torch.Tensor:
        x = self.embed(input_ids)  # (B, T, D)
        y = self.conv(x.transpose(1, 2)).transpose(1, 2)[:, : x.size(1)]  # (B, T, D)
        return torch.relu(y + x) * attention_mask.unsqueeze(-1)  # (B, T, D)


def build_hashed_char(buckets: int = 4096, dim: int = 64, kernel_size: int = 3, max_length: int = 512) -> HashedCharEncoder:
    """Build the hashed-character encoder.

    Args:
        buckets: number of hash buckets for characters.
        dim: embedding and output width.
        kernel_size: odd convolution width.
        max_length: longest accepted sequence.

    Returns:
        A zhnlp encoder (``hidden_size``, ``tokenizer``, ``forward -> (B, T, dim)``).
    """
    return HashedCharEncoder(buckets, dim, kernel_size, max_length)


build_hashed_char.example_kwargs = lambda tmp_dir: {"buckets": 64, "dim": 8}
