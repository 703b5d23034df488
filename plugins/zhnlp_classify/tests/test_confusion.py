"""Confusion-matrix counts and the PNG file."""
from __future__ import annotations

from zhnlp_classify.confusion import confusion_counts, save_confusion_matrix


def test_counts_rows_gold_columns_predicted():
    order, m = confusion_counts(["a", "a", "b", "c"], ["a", "b", "b", "a"], ["b", "a"])
    assert order == ["b", "a", "c"]  # label order first, unseen gold appended
    assert m == [[1, 0, 0], [1, 1, 0], [0, 1, 0]]


def test_png_written(tmp_path):
    examples = [{"label": g} for g in ["体育", "财经", "财经", "科技"]]
    predictions = [{"label": p} for p in ["体育", "体育", "财经", "科技"]]
    path = save_confusion_matrix(predictions, examples, ["体育", "财经", "科技"], tmp_path / "sub" / "cm.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 300 and height >= 300
