"""Dynamic padding of feature rows."""
from __future__ import annotations

import torch

from zhnlp.data.collate import IGNORE_INDEX, PAD_ID, collate, pad_ids, pad_stack


def test_pad_ids_flat_rows_match_pad_stack():
    rows = [[5, 6, 7], [8], []]
    out = pad_ids(rows)
    assert out.dtype == torch.long and out.tolist() == [[5, 6, 7], [8, PAD_ID, PAD_ID], [PAD_ID] * 3]
    assert torch.equal(out, pad_stack([torch.tensor(r, dtype=torch.long) for r in rows], PAD_ID))
    assert pad_ids([[], []]).shape == (2, 0)


def test_pad_ids_nested_rows_pad_every_dimension():
    rows = [[[1, 2], [3, 4]], [[5, 6, 7]]]  # (T_i, G_i) per-token feature ids
    assert pad_ids(rows).tolist() == [[[1, 2, 0], [3, 4, 0]], [[5, 6, 7], [0, 0, 0]]]


def test_collate_pads_inputs_with_zero_and_targets_with_ignore_index():
    items = [{"inputs": {"input_ids": [1, 2, 3]}, "targets": {"tags": torch.tensor([0, 1, 2])},
              "offsets": [(0, 1)], "example": {"text": "abc"}, "index": 0},
             {"inputs": {"input_ids": [4]}, "targets": {"tags": torch.tensor([1])},
              "offsets": [(0, 1)], "example": {"text": "d"}, "index": 1}]
    batch = collate(items)
    assert batch["input_ids"].tolist() == [[1, 2, 3], [4, 0, 0]]
    assert batch["tags"].tolist() == [[0, 1, 2], [1, IGNORE_INDEX, IGNORE_INDEX]]
    assert batch["index"].tolist() == [0, 1] and batch["encoder_keys"] == ["input_ids"]
