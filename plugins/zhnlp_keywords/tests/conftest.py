"""Shared fixtures: a deterministic toy encoder (bag of characters), one intra-op thread."""
from __future__ import annotations

import pytest
import torch
from torch import nn


class ToyTokenizer:
    """One token per non-space char, with [CLS]/[SEP] (offsets (0, 0)) like BERT; id = ord."""

    def __init__(self, max_length: int = 512):
        self.model_max_length = max_length
        self.calls: list[str] = []

    def encode(self, text: str, specials: bool, limit: int | None) -> dict:
        ids, offsets = [], []
        for i, ch in enumerate(text):
            if not ch.isspace():
                ids.append(ord(ch) + 10)
                offsets.append((i, i + 1))
        if limit is not None:
            keep = limit - (2 if specials else 0)
            ids, offsets = ids[:keep], offsets[:keep]
        if specials:
            ids, offsets = [1] + ids + [2], [(0, 0)] + offsets + [(0, 0)]
        return {"input_ids": ids, "attention_mask": [1] * len(ids), "offset_mapping": offsets}

    def __call__(self, text, text_pair=None, *, add_special_tokens=True, truncation=False, max_length=None,
                 return_offsets_mapping=False, **_):
        single = isinstance(text, str)
        texts = [text] if single else list(text)
        self.calls += texts
        limit = (max_length or self.model_max_length) if truncation else None
        encs = [self.encode(t, add_special_tokens, limit) for t in texts]
        out = {k: [e[k] for e in encs] for k in ("input_ids", "attention_mask", "offset_mapping")}
        if not return_offsets_mapping:
            out.pop("offset_mapping")
        return {k: v[0] for k, v in out.items()} if single else out


class ToyEncoder(nn.Module):
    """Bag of characters: each char id -> a fixed pseudo-random unit vector, no context, so a
    mean-pooled text vector is its char histogram (cosine = char overlap). Specials map to a
    large vector so that including them by mistake changes every embedding."""

    num_special_tokens = 2  # [CLS] ... [SEP]

    def __init__(self, hidden_size: int = 256, max_length: int = 512):
        super().__init__()
        self.hidden_size, self.max_length = hidden_size, max_length
        self.tokenizer = ToyTokenizer(max_length)
        self.dummy = nn.Parameter(torch.zeros(1))

    def vector(self, ids: torch.Tensor) -> torch.Tensor:
        g = torch.Generator().manual_seed(0)
        table = torch.nn.functional.normalize(torch.randn(4096, self.hidden_size, generator=g), dim=-1)
        out = table[ids % 4096]  # (..., H)
        return torch.where((ids <= 2).unsqueeze(-1), 100.0 * torch.ones_like(out), out)

    def forward(self, input_ids, attention_mask, **_):
        return self.vector(input_ids) + 0 * self.dummy  # (B, T, H)


@pytest.fixture
def toy_encoder():
    return ToyEncoder()
