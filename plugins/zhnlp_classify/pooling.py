"""Sequence pooling over real tokens, and the two-segment (sentence-pair) feature builders.

Every function takes hidden states ``(B, T, H)`` and a boolean ``mask`` ``(B, T)`` of the tokens
to pool (the attention mask, or one segment of it). A row whose mask is empty pools to zeros.
"""
from __future__ import annotations

import math

import torch
from torch import nn

POOLINGS = ("auto", "cls", "mean", "max", "attention", "max_mean")


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average of the masked-in positions. (B, T, H), (B, T) -> (B, H)."""
    m = mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)


def masked_max(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Element-wise max over the masked-in positions (zeros for an empty row). -> (B, H)."""
    m = mask.bool().unsqueeze(-1)  # (B, T, 1)
    filled = hidden.masked_fill(~m, torch.finfo(hidden.dtype).min)
    best = filled.max(dim=1).values  # (B, H)
    return torch.where(m.any(dim=1), best, torch.zeros_like(best))


def first_token(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The first position's state ([CLS] of BERT-like encodings). -> (B, H)."""
    return hidden[:, 0]


class AttentionPool(nn.Module):
    """Additive attention pooling: ``softmax_t(w . tanh(W h_t))`` weights over real tokens.

    Args:
        hidden_size: H.
        attention_dim: width of the scoring layer.
    """

    def __init__(self, hidden_size: int, attention_dim: int = 128):
        super().__init__()
        self.proj = nn.Linear(hidden_size, attention_dim)
        self.score = nn.Linear(attention_dim, 1, bias=False)

    def weights(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Attention weights (B, T): sum to 1 over real tokens, 0 on padding (all 0 if none)."""
        scores = self.score(torch.tanh(self.proj(hidden))).squeeze(-1).float()  # (B, T)
        m = mask.bool()
        scores = scores.masked_fill(~m, torch.finfo(scores.dtype).min)
        return torch.softmax(scores, dim=-1) * m  # (B, T)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        w = self.weights(hidden, mask).to(hidden.dtype)  # (B, T)
        return torch.einsum("bt,bth->bh", w, hidden)  # (B, H)


def pooled_width(kind: str, hidden_size: int) -> int:
    """Width of the pooled vector: ``2 * H`` for ``max_mean``, else ``H``."""
    return 2 * hidden_size if kind == "max_mean" else hidden_size


class Pooler(nn.Module):
    """One pooling kind: ``cls`` | ``mean`` | ``max`` | ``attention`` | ``max_mean`` (max and mean
    concatenated, (B, 2H)); ``auto`` is resolved by the head before it builds the pooler."""

    def __init__(self, kind: str, hidden_size: int, attention_dim: int = 128):
        super().__init__()
        self.kind = kind
        self.attention = AttentionPool(hidden_size, attention_dim) if kind == "attention" else None

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor, kind: str | None = None) -> torch.Tensor:
        kind = kind or self.kind
        if kind == "cls":
            return first_token(hidden, mask)
        if kind == "mean":
            return masked_mean(hidden, mask)
        if kind == "max":
            return masked_max(hidden, mask)
        if kind == "max_mean":
            return torch.cat([masked_max(hidden, mask), masked_mean(hidden, mask)], dim=-1)  # (B, 2H)
        return self.attention(hidden, mask)


def pair_features(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Sentence-pair features ``[u, v, |u - v|, u * v]``: (B, H), (B, H) -> (B, 4H)."""
    return torch.cat([u, v, (u - v).abs(), u * v], dim=-1)


class CrossAttention(nn.Module):
    """Soft alignment between the two segments of a joint sequence (ESIM-style).

    Each token of segment A attends over the tokens of segment B (and vice versa) with scores
    ``(W h_i) . h_j / sqrt(H)``; its state and the aligned summary ``a_i`` are composed as
    ``ReLU(Linear([h, a, h - a, h * a]))`` -> (B, T, H). Tokens outside both segments get
    a zero summary.
    """

    def __init__(self, hidden_size: int):
        super().__init__()
        self.query = nn.Linear(hidden_size, hidden_size, bias=False)
        self.compose = nn.Sequential(nn.Linear(4 * hidden_size, hidden_size), nn.ReLU())
        self.scale = 1.0 / math.sqrt(hidden_size)

    def align(self, hidden: torch.Tensor, mask_a: torch.Tensor, mask_b: torch.Tensor) -> torch.Tensor:
        """Aligned summaries (B, T, H): for A tokens over B, for B tokens over A."""
        a, b = mask_a.bool(), mask_b.bool()
        allowed = (a.unsqueeze(2) & b.unsqueeze(1)) | (b.unsqueeze(2) & a.unsqueeze(1))  # (B, T, T)
        scores = torch.einsum("bih,bjh->bij", self.query(hidden), hidden).float() * self.scale  # (B, T, T)
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
        weights = (torch.softmax(scores, dim=-1) * allowed).to(hidden.dtype)  # (B, T, T)
        return torch.einsum("bij,bjh->bih", weights, hidden)  # (B, T, H)

    def forward(self, hidden: torch.Tensor, mask_a: torch.Tensor, mask_b: torch.Tensor) -> torch.Tensor:
        aligned = self.align(hidden, mask_a, mask_b)  # (B, T, H)
        return self.compose(torch.cat([hidden, aligned, hidden - aligned, hidden * aligned], dim=-1))  # (B, T, H)
