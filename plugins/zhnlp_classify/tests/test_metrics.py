"""Metrics against hand-computed values (and scikit-learn where it is installed)."""
from __future__ import annotations

import random

import pytest

from zhnlp_classify.metrics import format_report, multi_label_metrics, single_label_metrics


def test_single_label_hand_computed():
    golds = ["a", "a", "b", "c", "c", "c"]
    preds = ["a", "b", "b", "c", "a", "c"]
    m, support = single_label_metrics(golds, preds, ["a", "b", "c", "d"])
    assert support == {"a": 2, "b": 1, "c": 3}
    assert m["acc"] == pytest.approx(4 / 6)
    assert (m["precision/a"], m["recall/a"], m["f1/a"]) == pytest.approx((0.5, 0.5, 0.5))
    assert (m["precision/b"], m["recall/b"], m["f1/b"]) == pytest.approx((0.5, 1.0, 2 / 3))
    assert (m["precision/c"], m["recall/c"], m["f1/c"]) == pytest.approx((1.0, 2 / 3, 0.8))
    assert (m["precision/d"], m["recall/d"], m["f1/d"]) == (0.0, 0.0, 0.0)  # never seen: not in macro
    assert m["macro_precision"] == pytest.approx(2 / 3)
    assert m["macro_recall"] == pytest.approx((0.5 + 1 + 2 / 3) / 3)
    assert m["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)
    assert m["micro_f1"] == pytest.approx(4 / 6)


def test_multi_label_hand_computed():
    golds = [["a", "b"], ["c"], []]
    preds = [["a"], ["c", "b"], []]
    m, support = multi_label_metrics(golds, preds, ["a", "b", "c"])
    assert support == {"a": 1, "b": 1, "c": 1}
    assert m["subset_acc"] == m["acc"] == pytest.approx(1 / 3)
    assert m["example_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert m["micro_precision"] == m["micro_recall"] == m["micro_f1"] == pytest.approx(2 / 3)
    assert (m["f1/a"], m["f1/b"], m["f1/c"]) == (1.0, 0.0, 1.0)
    assert m["macro_f1"] == pytest.approx(2 / 3)


def test_against_scikit_learn():
    sk = pytest.importorskip("sklearn.metrics")
    rng = random.Random(0)
    labels = list("abcde")
    golds = [rng.choice(labels[:4]) for _ in range(200)]
    preds = [g if rng.random() < 0.6 else rng.choice(labels) for g in golds]
    m, _ = single_label_metrics(golds, preds, labels)
    assert m["acc"] == pytest.approx(sk.accuracy_score(golds, preds))
    assert m["macro_f1"] == pytest.approx(sk.f1_score(golds, preds, average="macro", zero_division=0))
    assert m["macro_precision"] == pytest.approx(sk.precision_score(golds, preds, average="macro", zero_division=0))
    assert m["macro_recall"] == pytest.approx(sk.recall_score(golds, preds, average="macro", zero_division=0))
    per = sk.f1_score(golds, preds, labels=labels, average=None, zero_division=0)
    assert [m[f"f1/{c}"] for c in labels] == pytest.approx(list(per))


def test_report_lists_every_class_with_support():
    m, support = single_label_metrics(["体育", "财经", "财经"], ["体育", "财经", "体育"], ["体育", "财经"])
    table = format_report(m, support)
    lines = table.splitlines()
    assert lines[0].split() == ["class", "precision", "recall", "f1", "support"]
    assert lines[1].split() == ["体育", "50.00", "100.00", "66.67", "1"]
    assert lines[2].split() == ["财经", "100.00", "50.00", "66.67", "2"]
    assert lines[3].startswith("macro avg") and lines[-1] == "acc 66.67"
    assert len(lines[1]) == len(lines[2])  # CJK names: columns stay aligned in display width
