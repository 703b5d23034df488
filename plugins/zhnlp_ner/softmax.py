"""The ``softmax`` head: per-token linear classification, argmax decoding with repairs."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from zhnlp.alignment import AlignmentStats
from zhnlp.errors import ConfigError
from zhnlp.types import GraphPart, ModelOutput
from zhnlp_ner.common import check_boundary
from zhnlp_ner.crf import fit_length
from zhnlp_ner.export_parts import ArgmaxPart
from zhnlp_ner.schemes import build_tags, check_head_scheme
from zhnlp_ner.tagging import TaggingHeadMixin, tag_targets

IGNORE = -100


class SoftmaxHead(TaggingHeadMixin, nn.Module):
    """Token classification with cross-entropy.

    Targets: ``{"tags": (T,) long}`` with -100 on special tokens (ignored by the loss).
    Decoding takes the argmax tag per token; an ``I-X`` continuing nothing starts an entity
    (conlleval repair), counted in ``decode_repairs``.
    """

    def __init__(self, hidden_size: int, labels: Sequence[str], scheme: str = "BIO", dropout: float = 0.1,
                 window_overlap: int = 64, label_smoothing: float = 0.0, split_newlines: bool = True, boundary: str = "snap"):
        super().__init__()
        if not labels:
            raise ConfigError("the softmax head needs at least one entity type (labels=[] given).")
        if not 0.0 <= float(label_smoothing) < 1.0:
            raise ConfigError(f"head.label_smoothing={label_smoothing!r} must be in [0, 1), e.g. 0.1.")
        self.label_smoothing = float(label_smoothing)
        self.labels, self.scheme = list(labels), check_head_scheme(scheme)
        self.eval_scheme, self.window_overlap = self.scheme, int(window_overlap)
        self.split_newlines = bool(split_newlines)
        self.tags = build_tags(self.labels, self.scheme)
        self.tag_index = {t: i for i, t in enumerate(self.tags)}
        self.label_index = {t: i for i, t in enumerate(self.labels)}
        self.stats, self.snap = AlignmentStats("softmax"), check_boundary(boundary)
        self.decode_repairs = 0
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(hidden_size, len(self.tags))

    def targets(self, example: dict, encoding: dict) -> dict[str, torch.Tensor]:
        """``{"tags": (T,)}`` tag ids, -100 on special tokens."""
        return {"tags": tag_targets(example, encoding, self.tag_index, self.label_index, self.scheme, IGNORE, self.stats,
                                    self.snap)}

    def forward(self, hidden: torch.Tensor, batch: dict) -> ModelOutput:
        """Tag logits (B, T, K) as ``scores`` (masked by ``attention_mask``); ``loss`` = mean token
        cross-entropy when ``tags`` is in the batch."""
        self.stats.flush()
        logits = self.proj(self.dropout(hidden)).float()  # (B, T, K)
        mask = batch["attention_mask"].bool()  # (B, T)
        loss = None
        if "tags" in batch:
            tags = fit_length(batch["tags"].to(logits.device), logits.size(1), IGNORE)  # (B, T)
            tags = tags.masked_fill(~mask.to(tags.device), IGNORE)
            if (tags != IGNORE).any():
                loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), tags.reshape(-1), ignore_index=IGNORE,
                                       label_smoothing=self.label_smoothing)
            else:  # nothing to learn from in this batch
                loss = logits.sum() * 0.0
        return ModelOutput(loss=loss, scores=logits, scores_mask=mask)

    @torch.no_grad()
    def predict(self, hidden: torch.Tensor, batch: dict) -> list[list[dict]]:
        """One list of entities per row, in char offsets of ``batch["examples"][i]["text"]``."""
        self.stats.flush()
        return self.entities_from_tags(self.proj(hidden).argmax(-1), batch)  # (B, T) argmax tags

    def export_part(self, batch: dict) -> GraphPart:
        """The per-token argmax: ``tags`` (B, T), -1 on padding."""
        return GraphPart(ArgmaxPart(self), output="tags", axes={0: "batch", 1: "seq"})

    def predict_from_export(self, output: torch.Tensor, batch: dict) -> list[list[dict]]:
        """The graph's ``tags`` (B, T) -> entities per row (what ``predict`` does after the argmax)."""
        return self.entities_from_tags(output, batch)
