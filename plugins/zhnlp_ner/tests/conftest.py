"""Shared fixtures: fake encodings (BERT-like and char-level), batches padded like the core's
collate (ints with -100 along every dim), and the path of the shared data sets."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

SHARED = Path(__file__).parents[3].parent / "shared"
RARE = set("😀𠮷🎉")  # chars the fake BERT vocabulary lacks -> [UNK]


def fake_bert_encode(text: str, max_piece: int = 4) -> dict:
    """BERT-like: [CLS]/[SEP] with (0, 0); whitespace dropped; ASCII letter runs and digit runs
    split into wordpieces of <= ``max_piece`` chars (continuations are ``##``); rare chars -> [UNK];
    every other char one token."""
    offsets = [(0, 0)]
    tokens = ["[CLS]"]
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch.isascii() and ch.isalnum():
            j = i
            while j < len(text) and text[j].isascii() and text[j].isalnum():
                j += 1
            k, first = i, True
            while k < j:  # letters and digits become separate pieces, each at most max_piece
                kind = text[k].isdigit()
                end = k
                while end < j and end - k < max_piece and text[end].isdigit() == kind:
                    end += 1
                tokens.append(("" if first else "##") + text[k:end].lower())
                offsets.append((k, end))
                k, first = end, False
            i = j
            continue
        tokens.append("[UNK]" if ch in RARE else ch)
        offsets.append((i, i + 1))
        i += 1
    tokens.append("[SEP]")
    offsets.append((0, 0))
    n = len(offsets)
    return {"input_ids": list(range(1, n + 1)), "attention_mask": [1] * n, "offset_mapping": offsets, "tokens": tokens}


def char_encode(text: str) -> dict:
    """From-scratch style: one token per char (whitespace included), no special tokens."""
    n = len(text)
    return {"input_ids": [1] * n, "attention_mask": [1] * n, "offset_mapping": [(i, i + 1) for i in range(n)]}


def pad_stack(tensors: list[torch.Tensor], value) -> torch.Tensor:
    shape = [max(sizes) for sizes in zip(*(t.shape for t in tensors))]
    out = tensors[0].new_full((len(tensors), *shape), value)
    for i, t in enumerate(tensors):
        out[(i, *(slice(0, s) for s in t.shape))] = t
    return out


def make_batch(examples: list[dict], encodings: list[dict], targets: list[dict] | None = None) -> dict:
    """A batch as the core's collate builds it."""
    batch = {
        "input_ids": pad_stack([torch.tensor(e["input_ids"]) for e in encodings], 0),
        "attention_mask": pad_stack([torch.tensor(e["attention_mask"]) for e in encodings], 0),
        "examples": examples,
        "offsets": [list(e["offset_mapping"]) for e in encodings],
    }
    for key in (targets[0] if targets else {}):
        values = [t[key] for t in targets]
        batch[key] = pad_stack(values, 0.0 if values[0].is_floating_point() else -100)
    return batch


def entity(text: str, typ: str, start: int, end: int) -> dict:
    assert 0 <= start < end <= len(text)
    return {"type": typ, "start": start, "end": end, "text": text[start:end]}


@pytest.fixture
def helpers():
    class H:
        pass

    h = H()
    h.fake_bert_encode, h.char_encode, h.make_batch, h.entity, h.pad_stack = (
        fake_bert_encode, char_encode, make_batch, entity, pad_stack)
    h.shared = SHARED
    return h
