"""The ``global_pointer`` head: every (start token, end token, type) span gets a score; spans
scoring above 0 are entities, so nested and overlapping entities are allowed.

Per type, start and end tokens are projected to ``head_size`` vectors, rotated with RoPE
(relative positions), and scored by a scaled dot product: (B, types, T, T). Only spans with
start <= end over real tokens count. Loss: multi-label categorical cross-entropy
(log(1 + sum_neg e^s) + log(1 + sum_pos e^-s)) per row and type.

With ``split_newlines`` (the default) decoding never returns a span across a line break: such
cells (and tokens holding a line break) are ruled out before the best spans are picked, like the
start <= end rule, so the spans on either side compete on their own scores.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from zhnlp.alignment import AlignmentStats, as_offsets, entity_token_spans, token_spans_to_entities
from zhnlp.errors import ConfigError
from zhnlp.types import ModelOutput
from zhnlp_ner.common import LINE_BREAKS, EntityHeadMixin, check_boundary, has_line_break


def rope(x: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding over dim 1 (positions) of (B, T, L, D), D even."""
    _, seq_len, _, dim = x.shape
    inv_freq = 10000.0 ** (-torch.arange(0, dim, 2, device=x.device, dtype=torch.float32) / dim)  # (D/2,)
    angles = torch.arange(seq_len, device=x.device, dtype=torch.float32)[:, None] * inv_freq  # (T, D/2)
    cos = angles.cos()[None, :, None, :].to(x.dtype)  # (1, T, 1, D/2)
    sin = angles.sin()[None, :, None, :].to(x.dtype)
    x1, x2 = x[..., 0::2], x[..., 1::2]  # (B, T, L, D/2) each
    return torch.stack([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).flatten(-2)  # (B, T, L, D)


def multilabel_cross_entropy(scores: torch.Tensor, positive: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """log(1 + sum_neg exp(s)) + log(1 + sum_pos exp(-s)), averaged over rows.

    Args:
        scores: (N, C) float.
        positive: (N, C) bool.
        valid: (N, C) bool; invalid cells take no part.
    """
    neg_inf = torch.tensor(float("-inf"), device=scores.device, dtype=scores.dtype)
    zeros = scores.new_zeros(scores.size(0), 1)
    neg = torch.where(valid & ~positive, scores, neg_inf)  # (N, C)
    pos = torch.where(valid & positive, -scores, neg_inf)
    return (torch.logsumexp(torch.cat([neg, zeros], 1), 1) + torch.logsumexp(torch.cat([pos, zeros], 1), 1)).mean()


def real_token_mask(offsets_list: Sequence, seq_len: int, device: torch.device) -> torch.Tensor:
    """(B, T) bool: True on tokens that cover text (not special, not padding)."""
    mask = torch.zeros(len(offsets_list), seq_len, dtype=torch.bool)
    for i, offsets in enumerate(offsets_list):
        for k, (s, e) in enumerate(as_offsets(offsets)[:seq_len]):
            mask[i, k] = e > s
    return mask.to(device)


def same_line_cells(offsets_list: Sequence, texts: Sequence[str], seq_len: int, device: torch.device) -> torch.Tensor | None:
    """(B, 1, T, T) bool: spans whose tokens hold no line break and lie on one line of the row's
    text; None when no text has a line break (every cell may stay)."""
    if not any(has_line_break(text) for text in texts):
        return None
    line = torch.zeros(len(texts), seq_len, dtype=torch.long)  # (B, T) line of each token's start
    on_break = torch.zeros(len(texts), seq_len, dtype=torch.bool)  # (B, T) token holds a line break
    for i, (offsets, text) in enumerate(zip(offsets_list, texts)):
        before = [0]  # before[c]: line breaks in text[:c]
        for ch in text:
            before.append(before[-1] + (ch in LINE_BREAKS))
        for k, (s, e) in enumerate(as_offsets(offsets)[:seq_len]):
            if e > s:
                line[i, k], on_break[i, k] = before[s], before[e] > before[s]
    ok = ~on_break
    cells = (line[:, :, None] == line[:, None, :]) & ok[:, :, None] & ok[:, None, :]  # (B, T, T)
    return cells[:, None].to(device)


class GlobalPointerHead(EntityHeadMixin, nn.Module):
    """GlobalPointer span scoring.

    Targets: ``{"spans": (N, 3) long}`` rows of (type id, first token, last token); an example
    with no entity gets one row of -100 (read as "no span", like the collate's padding).
    """

    def __init__(self, hidden_size: int, labels: Sequence[str], head_size: int = 64, rope: bool = True,
                 dropout: float = 0.1, window_overlap: int = 64, split_newlines: bool = True,
                 boundary: str = "snap"):
        super().__init__()
        if not labels:
            raise ConfigError("the global_pointer head needs at least one entity type (labels=[] given).")
        if head_size < 2 or head_size % 2:
            raise ConfigError(f"head.head_size={head_size}: use an even number >= 2 (RoPE rotates pairs).")
        self.labels = list(labels)
        self.label_index = {t: i for i, t in enumerate(self.labels)}
        self.head_size, self.use_rope = int(head_size), bool(rope)
        self.eval_scheme, self.window_overlap = None, int(window_overlap)
        self.split_newlines = bool(split_newlines)
        self.stats, self.snap = AlignmentStats("global_pointer"), check_boundary(boundary)
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(hidden_size, len(self.labels) * self.head_size * 2)

    def targets(self, example: dict, encoding: dict) -> dict[str, torch.Tensor]:
        """``{"spans": (N, 3)}`` (type id, first token, last token) per gold entity."""
        offsets = as_offsets(encoding["offset_mapping"])
        spans, rejected = entity_token_spans(example.get("entities", ()), offsets, self.label_index, allow_overlap=True,
                                             snap=self.snap)
        for ent, reason in rejected:
            self.stats.record(example, ent, reason)
        if not spans:
            return {"spans": torch.full((1, 3), -100, dtype=torch.long)}
        return {"spans": torch.tensor([[self.label_index[t], a, b] for t, a, b in spans], dtype=torch.long)}

    def scores(self, hidden: torch.Tensor) -> torch.Tensor:
        """(B, T, H) -> (B, L, T, T) span scores (float32), before masking."""
        batch, seq_len, _ = hidden.shape
        x = self.dense(self.dropout(hidden)).view(batch, seq_len, len(self.labels), 2, self.head_size)
        q, k = x[..., 0, :], x[..., 1, :]  # (B, T, L, D) each
        if self.use_rope:
            q, k = rope(q), rope(k)
        return torch.einsum("bmld,bnld->blmn", q.float(), k.float()) / math.sqrt(self.head_size)

    @staticmethod
    def valid_cells(token_mask: torch.Tensor) -> torch.Tensor:
        """(B, T) real-token mask -> (B, 1, T, T) bool: start <= end, both real."""
        seq_len = token_mask.size(1)
        upper = torch.ones(seq_len, seq_len, dtype=torch.bool, device=token_mask.device).triu()
        return (token_mask[:, None, :, None] & token_mask[:, None, None, :] & upper)

    def forward(self, hidden: torch.Tensor, batch: dict) -> ModelOutput:
        """Span scores (B, L, T, T) as binary ``scores``; ``scores_mask`` (B, 1, T, T): the cells
        with start <= end, both inside ``attention_mask``; ``loss`` when ``spans`` is in the batch."""
        self.stats.flush()
        scores = self.scores(hidden)  # (B, L, T, T)
        attention = batch["attention_mask"].bool().to(scores.device)  # (B, T)
        loss = None
        if "spans" in batch:
            b, num_labels, seq_len, _ = scores.shape
            valid = self.valid_cells(real_token_mask(batch["offsets"], seq_len, scores.device))  # (B, 1, T, T)
            valid = valid & attention[:, None, :, None]
            positive = torch.zeros_like(scores, dtype=torch.bool)  # (B, L, T, T)
            spans = batch["spans"].to(scores.device)  # (B, N, 3)
            row = torch.arange(b, device=scores.device)[:, None].expand(b, spans.size(1))  # (B, N)
            keep = (spans >= 0).all(-1) & (spans[..., 1] < seq_len) & (spans[..., 2] < seq_len)  # (B, N)
            s = spans[keep]
            positive[row[keep], s[:, 0], s[:, 1], s[:, 2]] = True
            valid = valid.expand_as(scores)
            loss = multilabel_cross_entropy(
                scores.reshape(b * num_labels, -1), positive.reshape(b * num_labels, -1), valid.reshape(b * num_labels, -1)
            )
        return ModelOutput(loss=loss, scores=scores, scores_mask=self.valid_cells(attention), binary=True)

    @torch.no_grad()
    def predict(self, hidden: torch.Tensor, batch: dict) -> list[list[dict]]:
        """Spans with score > 0, as entities in char offsets of each row's text (may nest)."""
        self.stats.flush()
        return self.decode(self.scores(hidden), batch)

    def decode(self, scores: torch.Tensor, batch: dict) -> list[list[dict]]:
        """(B, L, T, T) scores -> entities per row."""
        b, num_labels, seq_len, _ = scores.shape
        valid = self.valid_cells(real_token_mask(batch["offsets"], seq_len, scores.device))  # (B, 1, T, T)
        if self.split_newlines:
            texts = [ex["text"] for ex in batch["examples"]]
            same_line = same_line_cells(batch["offsets"], texts, seq_len, scores.device)
            if same_line is not None:
                valid = valid & same_line
        flat = scores.masked_fill(~valid, float("-inf")).reshape(b, -1)  # (B, L*T*T)
        # At most 2 spans per token and row (the best ones): binds only for an untrained model,
        # which would otherwise return ~L*T*T/4 spans per row.
        k = min(flat.size(1), 2 * seq_len)
        top, index = flat.topk(k, dim=1)  # (B, k)
        hits = (top > 0).nonzero().tolist()
        index = index.tolist()
        per_row: list[list[tuple[str, int, int]]] = [[] for _ in batch["examples"]]
        for row, j in hits:
            label, rest = divmod(index[row][j], seq_len * seq_len)
            per_row[row].append((self.labels[label], *divmod(rest, seq_len)))
        return [
            token_spans_to_entities(spans, as_offsets(offsets), ex["text"])
            for spans, offsets, ex in zip(per_row, batch["offsets"], batch["examples"])
        ]
