"""Entity metrics against hand-computed values; seqeval path == span-set path."""
from __future__ import annotations

import random

import pytest

from zhnlp_ner.metrics import entity_metrics, format_report, span_metrics


def ent(t, s, e):
    return {"type": t, "start": s, "end": e, "text": ""}


def examples_and_predictions():
    text = "x" * 20
    gold = [
        {"text": text, "entities": [ent("PER", 0, 2), ent("LOC", 3, 5), ent("LOC", 6, 8)]},
        {"text": text, "entities": [ent("PER", 1, 3), ent("ORG", 10, 14)]},
    ]
    pred = [
        [ent("PER", 0, 2), ent("LOC", 3, 6), ent("LOC", 6, 8), ent("ORG", 9, 10)],  # 2 right, 2 wrong
        [ent("PER", 1, 3), ent("ORG", 10, 14)],  # 2 right
    ]
    return gold, pred


@pytest.mark.parametrize("scheme", ["BIO", "BIOES", None])
def test_hand_computed(scheme):
    gold, pred = examples_and_predictions()
    m, support = entity_metrics(pred, gold, scheme)
    # tp=4, predicted=6, gold=5
    assert m["precision"] == pytest.approx(4 / 6)
    assert m["recall"] == pytest.approx(4 / 5)
    assert m["f1"] == pytest.approx(2 * (4 / 6) * (4 / 5) / (4 / 6 + 4 / 5))
    # per type: PER 2/2 2/2; LOC tp1 pred2 gold2; ORG tp1 pred2 gold1
    assert m["f1/PER"] == 1.0
    assert (m["precision/LOC"], m["recall/LOC"], m["f1/LOC"]) == pytest.approx((0.5, 0.5, 0.5))
    assert (m["precision/ORG"], m["recall/ORG"]) == pytest.approx((0.5, 1.0))
    assert m["f1/ORG"] == pytest.approx(2 / 3)
    assert m["macro_precision"] == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert m["macro_recall"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert m["macro_f1"] == pytest.approx((1 + 0.5 + 2 / 3) / 3)
    assert support == {"PER": 2, "LOC": 2, "ORG": 1}
    assert all(isinstance(v, float) for v in m.values())


def test_adjacent_same_type_entities_are_distinct():
    gold = [{"text": "abcd", "entities": [ent("A", 0, 2), ent("A", 2, 4)]}]
    m, _ = entity_metrics([[ent("A", 0, 4)]], gold, "BIO")
    assert m["f1"] == 0.0
    m, _ = entity_metrics([[ent("A", 0, 2), ent("A", 2, 4)]], gold, "BIO")
    assert m["f1"] == 1.0


def test_nested_gold_uses_span_sets():
    gold = [{"text": "abcdef", "entities": [ent("A", 0, 4), ent("B", 1, 3)]}]
    m, _ = entity_metrics([[ent("A", 0, 4)]], gold, "BIO")
    assert (m["precision"], m["recall"]) == (1.0, 0.5)


def test_no_entities_anywhere():
    m, support = entity_metrics([[]], [{"text": "abc", "entities": []}], "BIO")
    assert m["f1"] == 0.0 and support == {}


@pytest.mark.parametrize("scheme", ["BIO", "BIOES"])
def test_seqeval_equals_span_sets_on_random_data(scheme):
    rng = random.Random(0)

    def random_entities(n):
        out, pos = [], 0
        while True:
            pos += rng.randint(0, 3)
            length = rng.randint(1, 4)
            if pos + length > n:
                return out
            out.append(ent(rng.choice("ABC"), pos, pos + length))
            pos += length

    gold, pred = [], []
    for _ in range(200):
        n = rng.randint(1, 30)
        g = random_entities(n)
        p = [e for e in g if rng.random() < 0.6] if rng.random() < 0.5 else random_entities(n)
        gold.append({"text": "x" * n, "entities": g})
        pred.append(p)
    seq, _ = entity_metrics(pred, gold, scheme)
    spans, _ = entity_metrics(pred, gold, None)
    assert seq.keys() == spans.keys()
    for key in seq:
        assert seq[key] == pytest.approx(spans[key]), key


def test_report_table():
    gold, pred = examples_and_predictions()
    m, support = entity_metrics(pred, gold, "BIO")
    table = format_report(m, support)
    lines = table.splitlines()
    assert lines[0].split() == ["type", "precision", "recall", "f1", "support"]
    assert lines[1].split() == ["LOC", "50.00", "50.00", "50.00", "2"]
    assert lines[-2].split()[:2] == ["micro", "avg"] and lines[-2].split()[-1] == "5"
    assert span_metrics([], [])["f1"] == 0.0
