"""Long-text windows: split keeps entities wholly inside; merge loses and duplicates nothing."""
from __future__ import annotations

import random

import pytest

from zhnlp_ner.heads import build_crf
from zhnlp.windows import merge_predictions, ownership_cuts, split_example, window_bounds


def make_example(rng: random.Random, n: int, max_len: int) -> dict:
    text = "".join(rng.choice("甲乙丙丁戊己庚辛 ab") for _ in range(n))
    entities, pos = [], 0
    while True:
        pos += rng.randint(0, 6)
        length = rng.randint(1, max_len)
        if pos + length > n:
            break
        entities.append({"type": rng.choice("XY"), "start": pos, "end": pos + length, "text": text[pos:pos + length]})
        pos += length
    return {"text": text, "entities": entities, "_file": "f", "_line": 3}


def perfect_predictions(windows):
    """What a perfect model predicts on each window: its gold (window offsets)."""
    return [(w, [dict(e) for e in w["entities"]]) for w in windows]


def test_bounds_cover_text_with_overlap():
    assert window_bounds(10, 20, 4) == [(0, 10)]
    bounds = window_bounds(100, 30, 10)
    assert bounds[0] == (0, 30) and bounds[-1] == (70, 100)
    for (s1, e1), (s2, e2) in zip(bounds, bounds[1:]):
        assert s2 < e1 and e1 - s2 >= 10 and s1 < s2
    assert all(e - s == 30 for s, e in bounds)
    cuts = ownership_cuts(bounds)
    assert cuts[0] == 0 and cuts[-1] == 100 and cuts == sorted(cuts)


def test_short_text_is_not_split():
    ex = {"text": "短文本", "entities": [], "_file": "f", "_line": 1}
    assert split_example(ex, 10, 4) == [ex]


def test_split_shifts_and_filters_entities():
    ex = {"text": "0123456789" * 3, "entities": [{"type": "X", "start": 8, "end": 12, "text": "8901"}], "_file": "f", "_line": 7, "id": 5}
    windows = split_example(ex, 12, 4)
    assert [w["_window"] for w in windows] == [(0, 12), (8, 20), (16, 28), (18, 30)]
    for w in windows:
        ws, we = w["_window"]
        assert w["text"] == ex["text"][ws:we] and w["_file"] == "f" and w["_line"] == 7 and w["id"] == 5
        for e in w["entities"]:
            assert w["text"][e["start"]:e["end"]] == e["text"]
    assert windows[0]["entities"] == [{"type": "X", "start": 8, "end": 12, "text": "8901"}]
    assert windows[1]["entities"] == [{"type": "X", "start": 0, "end": 4, "text": "8901"}]
    assert windows[2]["entities"] == [] and "entities" in windows[3]


@pytest.mark.parametrize("max_chars,overlap", [(16, 8), (32, 16), (50, 20), (9, 4)])
def test_merge_round_trip_random(max_chars, overlap):
    rng = random.Random(max_chars)
    for _ in range(60):
        ex = make_example(rng, rng.randint(1, 200), max(1, overlap // 2))
        windows = split_example(ex, max_chars, overlap)
        merged = merge_predictions(ex, perfect_predictions(windows))
        assert merged == sorted(ex["entities"], key=lambda e: (e["start"], e["end"], e["type"]))


def test_entities_across_every_boundary():
    """Entities placed exactly across each window edge and each ownership cut come back once."""
    text = "天" * 120
    max_chars, overlap = 30, 12
    bounds = window_bounds(len(text), max_chars, overlap)
    cuts = ownership_cuts(bounds)
    points = sorted({p for s, e in bounds for p in (s, e)} | set(cuts)) [1:-1]
    for point in points:
        for left in range(0, overlap // 2 + 1):
            for length in range(1, overlap // 2 + 1):
                start = point - left
                if start < 0 or start + length > len(text) or left > length:
                    continue
                e = {"type": "X", "start": start, "end": start + length, "text": text[start:start + length]}
                ex = {"text": text, "entities": [e], "_file": "f", "_line": 1}
                windows = split_example(ex, max_chars, overlap)
                assert merge_predictions(ex, perfect_predictions(windows)) == [e], (point, left, length)


def test_head_methods_use_window_overlap():
    head = build_crf(hidden_size=4, labels=["X"], window_overlap=10)
    ex = {"text": "天" * 50, "entities": [{"type": "X", "start": 18, "end": 23, "text": "天" * 5}], "_file": "f", "_line": 1}
    windows = head.split(ex, 20)
    assert [w["_window"] for w in windows] == [(0, 20), (10, 30), (20, 40), (30, 50)]
    assert head.merge(ex, perfect_predictions(windows)) == ex["entities"]
    # predictions that disagree between windows: each entity is taken from the window owning its start
    parts = [(windows[0], [{"type": "X", "start": 18, "end": 20, "text": ""}]),
             (windows[1], [{"type": "X", "start": 8, "end": 13, "text": ""}, {"type": "X", "start": 0, "end": 2, "text": ""}])]
    assert [(e["start"], e["end"]) for e in head.merge({"text": ex["text"]}, parts)] == [(18, 23)]
