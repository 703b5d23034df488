"""End-to-end KBQA metrics on hand-made predictions."""
from __future__ import annotations

import pytest

from zhnlp_kbqa.metrics import answer_f1, kbqa_metrics


def test_answer_f1():
    assert answer_f1(["a"], ["a"]) == 1.0
    assert answer_f1(["a", "b"], ["a"]) == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert answer_f1([], ["a"]) == 0.0 and answer_f1(["b"], ["a"]) == 0.0
    assert answer_f1([" a "], ["a"]) == 1.0


def test_kbqa_metrics():
    gold = [
        {"text": "q1", "subject": "E1", "predicate": "出生日期", "answer": "1990", "entities": [{"text": "E1"}]},
        {"text": "q2", "subject": "E2", "predicate": "民族", "answer": "汉族", "entities": [{"text": "《E2》"}]},
        {"text": "q3", "subject": "E3", "predicate": "作者", "answer": "张三", "entities": []},
        {"text": "q4", "subject": "E4", "predicate": "作者", "answer": "李四", "entities": [{"text": "E4"}]},
        {"text": "unlabelled", "entities": []},
    ]
    preds = [
        {"answer": "1990", "answers": ["1990"], "entity": "E1", "predicate": "出生日期", "mention": "E1",
         "candidates": ["E1"]},
        {"answer": "汉族", "answers": ["汉族", "回族"], "entity": "E2", "predicate": "民 族", "mention": "E2",
         "candidates": ["E2"]},
        {"answer": "王五", "answers": ["王五"], "entity": "X", "predicate": "作者", "mention": "X",
         "candidates": ["X", "E3"]},
        {"answer": None, "reason": "no entity", "mention": None},
        {"answer": None, "reason": "empty question"},
    ]
    m = kbqa_metrics(preds, gold)
    assert m["mention_acc"] == pytest.approx(2 / 3)  # q1, q2 (by key) right; q4 none; q3 has no gold mention
    assert m["link_recall"] == pytest.approx(3 / 4)
    assert m["entity_acc"] == pytest.approx(2 / 4)
    assert m["predicate_acc"] == pytest.approx(3 / 4)  # 民 族 == 民族; q3 predicate right, entity wrong
    assert m["answer_acc"] == pytest.approx(2 / 4)
    assert m["answer_f1"] == pytest.approx((1 + 2 * 0.5 / 1.5) / 4)
    assert m["no_answer"] == pytest.approx(1 / 4)
    assert kbqa_metrics([], []) == {}
