"""Token tag targets and tag decoding shared by the ``crf`` and ``softmax`` heads."""
from __future__ import annotations

from typing import Sequence

import torch

from zhnlp.alignment import AlignmentStats, as_offsets, entity_token_spans, token_spans_to_entities
from zhnlp_ner.common import EntityHeadMixin
from zhnlp_ner.schemes import ROLE_OF_PREFIX, decode_roles, spans_to_tags, split_tag


def tag_targets(
    example: dict,
    encoding: dict,
    tag_index: dict[str, int],
    label_index: dict[str, int],
    scheme: str,
    special_value: int,
    stats: AlignmentStats,
    snap: bool = False,
) -> torch.Tensor:
    """One tag id per token: entity tags on real tokens, ``special_value`` on special tokens.

    Args:
        example: with ``entities`` in char offsets.
        encoding: with ``offset_mapping``.
        tag_index: the head's tag -> id (``O`` = 0).
        label_index: the head's entity type -> id.
        scheme: ``BIO`` or ``BIOES``.
        special_value: id for special tokens (0 = ``O`` for the CRF, -100 for softmax).
        stats: where unrepresentable (and, with ``snap``, widened) entities are counted.
        snap: widen an entity whose boundary falls inside a token to the tokens containing it.

    Returns:
        (T,) LongTensor.
    """
    offsets = as_offsets(encoding["offset_mapping"])
    spans, rejected = entity_token_spans(example.get("entities", ()), offsets, label_index, allow_overlap=False,
                                       snap=snap)
    for ent, reason in rejected:
        stats.record(example, ent, reason)
    ids = [tag_index[t] for t in spans_to_tags(spans, len(offsets), scheme)]
    for k, (s, e) in enumerate(offsets):
        if e <= s:
            ids[k] = special_value
    return torch.tensor(ids, dtype=torch.long)


def decode_tag_ids(
    rows: Sequence[Sequence[int]],
    offsets_list: Sequence,
    texts: Sequence[str],
    tags: Sequence[str],
    strict_end: bool,
) -> tuple[list[list[dict]], int]:
    """Per-token tag ids -> entities in char offsets of each text.

    Special tokens are skipped; tags on real tokens are decoded with conlleval-style repairs
    (an ``I-X`` that continues nothing starts an entity).

    Args:
        rows: tag ids per row (at least as long as that row's offsets; padding ignored).
        offsets_list: each row's offset mapping.
        texts: each row's text.
        tags: the head's tag list.
        strict_end: True for BIOES (entities must be closed by E/S; open ones are repaired).

    Returns:
        (entities per row, number of repairs).
    """
    roles = []
    for tag in tags:
        prefix, typ = split_tag(tag)
        roles.append(None if typ is None else (ROLE_OF_PREFIX[prefix], typ))
    predictions, repairs = [], 0
    for ids, offsets, text in zip(rows, offsets_list, texts):
        offsets = as_offsets(offsets)
        real = [k for k, (s, e) in enumerate(offsets) if e > s]
        spans, n, _ = decode_roles([roles[ids[k]] if ids[k] >= 0 else None for k in real], strict_end)
        repairs += n
        predictions.append(token_spans_to_entities([(t, real[a], real[b]) for t, a, b in spans], offsets, text))
    return predictions, repairs


class TaggingHeadMixin(EntityHeadMixin):
    """What the two tagging heads share on top of :class:`EntityHeadMixin`: tag ids -> entities.
    Subclasses set ``tags``, ``scheme`` and ``decode_repairs``."""

    tags: list[str]
    scheme: str
    decode_repairs: int

    def entities_from_tags(self, tags: torch.Tensor | Sequence[Sequence[int]], batch: dict) -> list[list[dict]]:
        """(B, T) tag ids (-1 or any negative id on padding) -> entities per row, in char offsets of
        ``batch["examples"][i]["text"]``; repairs are counted, line breaks cut (``split_newlines``)."""
        rows = tags.tolist() if isinstance(tags, torch.Tensor) else tags
        texts = [ex["text"] for ex in batch["examples"]]
        preds, repairs = decode_tag_ids(rows, batch["offsets"], texts, self.tags, self.scheme == "BIOES")
        self.decode_repairs += repairs
        return self.cut_lines(preds, texts)
