"""``mlp_tagger``: a small NER head of its own: BIO tags from a two-layer MLP, cross-entropy.

Everything a tagging head needs comes from the core:
    zhnlp.alignment   gold entities (char offsets) -> token spans (targets), and back (predictions)
    zhnlp.windows     cutting texts longer than the encoder takes into windows, merging them back
so the head itself only maps hidden states to tags and tags to spans.

Tags: ``O`` = 0, then ``B-<type>`` = 1 + 2k and ``I-<type>`` = 2 + 2k for the k-th entity type.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from zhnlp import HeadSpec, ModelOutput
from zhnlp.alignment import AlignmentStats, entity_token_spans, token_spans_to_entities
from zhnlp.errors import ConfigError
from zhnlp.types import GraphPart
from zhnlp.voting import vote_spans
from zhnlp.windows import merge_predictions, split_example

IGNORE = -100  # target of special and padding tokens: cross_entropy skips it


def collect_entity_types(examples: Sequence[dict]) -> list[str]:
    """The sorted entity types of the training examples: the ``labels`` the head is built with."""
    return sorted({ent["type"] for ex in examples for ent in ex.get("entities", ())})


def bio_spans(tags: Sequence[int], offsets: Sequence[tuple[int, int]],
              labels: Sequence[str]) -> list[tuple[str, int, int]]:
    """Tag ids of one row -> inclusive token spans ``(type, first, last)``.

    An ``I-X`` that continues nothing (after ``O`` or another type) starts an entity, as
    conlleval reads it; special tokens (empty offsets) end one.
    """
    spans, current = [], None  # current: [type, first token, last token]
    for k, (tag, (start, end)) in enumerate(zip(tags, offsets)):
        typ = labels[(tag - 1) // 2] if tag > 0 and end > start else None
        if current is not None and typ == current[0] and tag % 2 == 0:  # I- of the open entity
            current[2] = k
            continue
        if current is not None:
            spans.append(tuple(current))
        current = [typ, k, k] if typ is not None else None
    if current is not None:
        spans.append(tuple(current))
    return spans


class TagPart(nn.Module):
    """The tensor part of ``predict`` for ONNX: ``(hidden (B,T,H), attention_mask (B,T)) -> tags (B,T)``,
    -1 on padding."""

    def __init__(self, head: "MlpTagger"):
        super().__init__()
        self.head = head

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        tags = self.head.mlp(hidden).argmax(-1)  # (B, T)
        return tags.masked_fill(attention_mask == 0, -1)


class MlpTagger(nn.Module):
    """Per-token BIO classification with a two-layer MLP.

    Targets: ``{"tags": (T,) long}``, -100 on special tokens. Predictions: per row, a list of
    ``{"type", "start", "end", "text"}`` in char offsets of the row's text (end exclusive).
    """

    main_metric = "f1"

    def __init__(self, hidden_size: int, labels: Sequence[str], inner: int, dropout: float, window_overlap: int):
        super().__init__()
        if not labels:
            raise ConfigError("the mlp_tagger head needs at least one entity type (the training data has none).")
        self.labels = list(labels)
        self.label_index = {t: i for i, t in enumerate(self.labels)}
        self.tags = ["O"] + [f"{prefix}-{t}" for t in self.labels for prefix in "BI"]
        self.window_overlap = int(window_overlap)
        self.stats = AlignmentStats("mlp_tagger")  # gold entities the tokens cannot represent
        self.mlp = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden_size, inner), nn.GELU(),
                                 nn.Linear(inner, len(self.tags)))  # (B, T, H) -> (B, T, K)

    # ---- training ------------------------------------------------------------------------------
    def targets(self, example: dict, encoding: dict) -> dict[str, torch.Tensor]:
        """``{"tags": (T,)}``: the BIO tag id of every token, -100 on special tokens."""
        offsets = encoding["offset_mapping"]
        spans, rejected = entity_token_spans(example.get("entities", []), offsets, self.label_index,
                                             allow_overlap=False)  # one tag per token: no nesting
        for entity, reason in rejected:
            self.stats.record(example, entity, reason)
        tags = [0 if end > start else IGNORE for start, end in offsets]
        for typ, first, last in spans:
            k = self.label_index[typ]
            tags[first] = 1 + 2 * k
            tags[first + 1 : last + 1] = [2 + 2 * k] * (last - first)
        return {"tags": torch.tensor(tags, dtype=torch.long)}

    def forward(self, hidden: torch.Tensor, batch: dict) -> ModelOutput:
        """Tag logits (B, T, K) as ``scores``, masked by ``attention_mask``; ``loss``: the mean
        token cross-entropy when the batch has ``tags``."""
        self.stats.flush()  # one warning for the gold entities left out so far
        logits = self.mlp(hidden).float()  # (B, T, K)
        mask = batch["attention_mask"].bool()  # (B, T)
        loss = None
        if "tags" in batch:
            tags = batch["tags"].masked_fill(~mask, IGNORE)  # (B, T)
            if (tags != IGNORE).any():
                loss = F.cross_entropy(logits.flatten(0, 1), tags.flatten(), ignore_index=IGNORE)
            else:  # only special tokens in this batch: nothing to learn
                loss = logits.sum() * 0.0
        return ModelOutput(loss=loss, scores=logits, scores_mask=mask)

    # ---- prediction ----------------------------------------------------------------------------
    @torch.no_grad()
    def predict(self, hidden: torch.Tensor, batch: dict) -> list[list[dict]]:
        """One list of entities per row, in char offsets of ``batch["examples"][i]["text"]``."""
        return self.decode(self.mlp(hidden).argmax(-1), batch)  # (B, T) argmax tags

    def decode(self, tags: torch.Tensor, batch: dict) -> list[list[dict]]:
        """(B, T) tag ids -> entities per row (padding beyond a row's offsets is ignored); an
        entity of whitespace only is never one (a blank text predicts what the empty one does)."""
        out = []
        for row, example, offsets in zip(tags.tolist(), batch["examples"], batch["offsets"]):
            spans = bio_spans(row, offsets, self.labels)
            entities = token_spans_to_entities(spans, offsets, example["text"])
            out.append([ent for ent in entities if ent["text"].strip()])
        return out

    def evaluate(self, predictions: Sequence[Sequence[dict]], examples: Sequence[dict]) -> dict[str, float]:
        """Exact-span micro precision, recall and F1 (type, start and end must all match)."""
        gold = {(i, e["type"], e["start"], e["end"]) for i, ex in enumerate(examples) for e in ex.get("entities", [])}
        pred = {(i, e["type"], e["start"], e["end"]) for i, p in enumerate(predictions) for e in p}
        hits = len(gold & pred)
        precision = hits / len(pred) if pred else 0.0
        recall = hits / len(gold) if gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}

    # ---- optional capabilities (zhnlp.types.OPTIONAL["head"]) ---------------------------------
    def split(self, example: dict, max_chars: int) -> list[dict]:
        """Overlapping windows of a text longer than the encoder accepts."""
        return split_example(example, max_chars, self.window_overlap)

    def merge(self, example: dict, parts: Sequence[tuple[dict, Any]]) -> list[dict]:
        """The windows' entities -> one prediction in offsets of ``example["text"]``."""
        return merge_predictions(example, parts)

    def combine(self, predictions: Sequence[Sequence[dict]], weights: Sequence[float], heads: Sequence[Any],
                vote: float = 0.5) -> list[dict]:
        """One example's ensemble prediction (``members: K``): the entities that more than
        ``vote`` of the members' weight predicts."""
        return vote_spans(predictions, weights, vote)

    def export_part(self, batch: dict) -> GraphPart:
        """What ``zhnlp export`` traces: the MLP and the argmax, ``tags`` (B, T)."""
        return GraphPart(TagPart(self), output="tags", axes={0: "batch", 1: "seq"})

    def predict_from_export(self, output: torch.Tensor, batch: dict) -> list[list[dict]]:
        """The graph's ``tags`` (B, T) -> entities, as ``predict`` does after its argmax."""
        return self.decode(output, batch)


def build_mlp_tagger(hidden_size: int, labels: Sequence[str], inner: int = 128, dropout: float = 0.1,
                     window_overlap: int = 32) -> MlpTagger:
    """Build the MLP tagging head.

    Args:
        hidden_size: encoder output width (set by zhnlp at run time).
        labels: entity types (set by zhnlp at run time, from ``collect_entity_types``).
        inner: width of the MLP's hidden layer.
        dropout: dropout on the encoder output.
        window_overlap: char overlap of the windows of texts longer than the encoder accepts.

    Returns:
        A zhnlp head (``targets`` / ``forward`` / ``predict`` / ``evaluate``).
    """
    return MlpTagger(int(hidden_size), labels, int(inner), float(dropout), int(window_overlap))


mlp_tagger = HeadSpec(build=build_mlp_tagger, task="ner", label_kind="entities",
                      collect_labels=collect_entity_types, example_data="sample_ner",
                      description="example plugin: BIO tagging with a two-layer MLP")
