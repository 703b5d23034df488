"""Shared helpers for the zhnlp_classify tests: hand-made batches and the ../shared folder."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch



def make_batch(offsets: list[list[tuple[int, int]]], token_types: list[list[int]] | None = None, **targets) -> dict:
    """A batch like the core's collate: attention_mask from the row lengths, 0-padded."""
    t = max(len(r) for r in offsets)
    mask = torch.tensor([[1] * len(r) + [0] * (t - len(r)) for r in offsets])
    batch = {"attention_mask": mask, "input_ids": mask.clone(), "offsets": offsets,
             "examples": [{} for _ in offsets], "index": torch.arange(len(offsets))}
    if token_types is not None:
        batch["token_type_ids"] = torch.tensor([r + [0] * (t - len(r)) for r in token_types])
    batch.update(targets)
    return batch


def char_offsets(n: int) -> list[tuple[int, int]]:
    """From-scratch char tokenizer: one token per char, no specials."""
    return [(i, i + 1) for i in range(n)]


def bert_offsets(n: int) -> list[tuple[int, int]]:
    """[CLS] n chars [SEP]."""
    return [(0, 0)] + char_offsets(n) + [(0, 0)]


@pytest.fixture
def h():
    """The helpers above as a namespace (test modules cannot import conftest in importlib mode)."""
    return SimpleNamespace(make_batch=make_batch, char_offsets=char_offsets, bert_offsets=bert_offsets)
