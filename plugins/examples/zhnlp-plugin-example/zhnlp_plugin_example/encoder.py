"""``hashed_char``: characters hashed into buckets (no vocabulary to build), embedded, convolved.

The smallest useful encoder: one token per character, so token ``i`` is character ``i`` and the
tokenizer adds no special tokens (``num_special_tokens = 0``). Because the ids come from the
characters themselves there is nothing to ``fit``, and the config alone rebuilds the module.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from zhnlp import EncoderSpec
from zhnlp.errors import ConfigError
from zhnlp.text import same_length


class HashedCharTokenizer:
    """One token per character; id = 1 + (code point mod ``buckets``); 0 is padding.

    Called like a transformers tokenizer: a text or a list of texts, optional second texts.
    Returns ``input_ids``, ``attention_mask`` and, with ``return_offsets_mapping=True``,
    ``offset_mapping``: the (start, end) char span of each token in its own text.
    """

    def __init__(self, buckets: int, normalize: bool = True):
        self.buckets, self.normalize = buckets, normalize

    def _ids(self, text: str) -> list[int]:
        # same_length: full-width -> half-width, lower case, one char -> one char (offsets unchanged)
        chars = same_length(text) if self.normalize else text
        return [1 + ord(c) % self.buckets for c in chars]

    def _one(self, text: str, text_pair: str | None) -> dict:
        pair = text_pair or ""
        ids = self._ids(text) + self._ids(pair)
        offsets = [(i, i + 1) for i in range(len(text))] + [(i, i + 1) for i in range(len(pair))]
        return {"input_ids": ids, "attention_mask": [1] * len(ids), "offset_mapping": offsets}

    def __call__(self, text, text_pair=None, return_offsets_mapping: bool = False, **_) -> dict:
        if isinstance(text, str):
            out = self._one(text, text_pair)
        else:
            pairs = text_pair if text_pair is not None else [None] * len(text)
            rows = [self._one(t, p) for t, p in zip(text, pairs)]
            keys = ("input_ids", "attention_mask", "offset_mapping")
            out = {key: [row[key] for row in rows] for key in keys}
        if not return_offsets_mapping:
            out.pop("offset_mapping")
        return out


class HashedCharEncoder(nn.Module):
    """Embedding of hashed characters, then a same-length 1-D convolution with a residual.

    Attributes:
        hidden_size: ``dim``, the width of the (B, T, dim) output.
        tokenizer: a :class:`HashedCharTokenizer`.
        max_length: the longest sequence ``forward`` is given.
        num_special_tokens: 0 (one token per character, nothing around it).
    """

    num_special_tokens = 0

    def __init__(self, buckets: int, dim: int, kernel_size: int, dropout: float, max_length: int,
                 normalize: bool):
        super().__init__()
        self.tokenizer = HashedCharTokenizer(buckets, normalize)
        self.hidden_size, self.max_length = dim, max_length
        self.embed = nn.Embedding(buckets + 1, dim, padding_idx=0)  # row 0 stays zero: padding
        self.conv = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2)
        self.dropout = nn.Dropout(dropout)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_) -> torch.Tensor:
        x = self.dropout(self.embed(input_ids))  # (B, T, D)
        if x.size(1) == 0:  # a batch of empty texts
            return x
        y = self.conv(x.transpose(1, 2)).transpose(1, 2)  # (B, T, D)
        return torch.relu(y + x) * attention_mask.unsqueeze(-1).to(x.dtype)  # (B, T, D), zero on padding

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """Bottom-to-top parameter groups (for ``optim.layer_decay``): embedding, convolution."""
        return [list(self.embed.parameters()), list(self.conv.parameters())]


def build_hashed_char(buckets: int = 4096, dim: int = 64, kernel_size: int = 3, dropout: float = 0.1,
                      max_length: int = 512, normalize: bool = True) -> HashedCharEncoder:
    """Build the hashed-character encoder.

    Args:
        buckets: number of hash buckets for characters (characters sharing a bucket share a vector).
        dim: embedding and output width.
        kernel_size: odd convolution width (characters of context on both sides: kernel_size // 2).
        dropout: dropout on the embeddings.
        max_length: longest sequence accepted; longer texts are cut into windows by heads
            that can merge them back.
        normalize: map full-width forms to half-width and upper to lower case before hashing.

    Returns:
        A zhnlp encoder: ``forward(input_ids, attention_mask) -> (B, T, dim)``.
    """
    if int(kernel_size) < 1 or int(kernel_size) % 2 == 0:
        raise ConfigError(f"encoder.kernel_size={kernel_size!r} must be odd (e.g. 3 or 5): the output keeps the "
                          f"input length only for odd widths.")
    if int(buckets) < 1:
        raise ConfigError(f"encoder.buckets={buckets!r} must be at least 1.")
    return HashedCharEncoder(int(buckets), int(dim), int(kernel_size), float(dropout), int(max_length), bool(normalize))


def tiny_kwargs(tmp_dir: Path) -> dict:
    """Builder kwargs of a tiny instance, for the contract tests (no files needed)."""
    return {"buckets": 64, "dim": 8}


hashed_char = EncoderSpec(build=build_hashed_char, example_kwargs=tiny_kwargs,
                          description="example plugin: hashed characters -> embedding + 1-D convolution")
