"""P/R/F1 at k against hand-computed values."""
import pytest

from zhnlp_keywords.metrics import format_table, keyword_metrics


def test_hand_computed():
    golds = [["A", "B", "C", "D"], ["x", "y"]]
    preds = [
        [("a", 0.9), ("E", 0.8), ("Ｂ", 0.7), ("F", 0.5), ("G", 0.4), ("D", 0.3)],  # a, B correct in top 3 / 5; D at 6
        [("y", 1.0)],  # one prediction only
    ]
    m = keyword_metrics(preds, golds)
    # doc 1: @3 correct 2 -> p 2/3, r 2/4; @5: 2 -> p 2/5, r 1/2; @10: 3 -> p 3/10, r 3/4
    # doc 2: @k correct 1 -> p 1/k, r 1/2
    def f(p, r):
        return 2 * p * r / (p + r)

    assert m["p@3"] == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert m["r@3"] == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert m["f1@3"] == pytest.approx((f(2 / 3, 1 / 2) + f(1 / 3, 1 / 2)) / 2)
    assert m["p@5"] == pytest.approx((2 / 5 + 1 / 5) / 2)
    assert m["f1@5"] == pytest.approx((f(2 / 5, 1 / 2) + f(1 / 5, 1 / 2)) / 2)
    assert m["p@10"] == pytest.approx((3 / 10 + 1 / 10) / 2)
    assert m["r@10"] == pytest.approx((3 / 4 + 1 / 2) / 2)
    assert m["f1@10"] == pytest.approx((f(3 / 10, 3 / 4) + f(1 / 10, 1 / 2)) / 2)
    assert m["documents"] == 2


def test_duplicates_after_normalisation_count_once_and_gold_absent_counts():
    m = keyword_metrics([[("GPU", 1), ("ｇｐｕ", 0.9), ("gpu", 0.8)]], [["gpu", "absent"]], ks=(3,))
    # the duplicates collapse to one correct keyword; P@3 = 1/3, R@3 = 1/2
    assert m["p@3"] == pytest.approx(1 / 3) and m["r@3"] == pytest.approx(1 / 2)


def test_strings_empty_predictions_and_docs_without_gold():
    m = keyword_metrics([["a"], [], ["z"]], [["a"], ["b"], []], ks=(3,))
    assert m["documents"] == 2 and m["r@3"] == pytest.approx(0.5) and m["p@3"] == pytest.approx(1 / 6)
    assert keyword_metrics([], [])["f1@5"] == 0.0
    with pytest.raises(ValueError):
        keyword_metrics([[]], [])


def test_table_lists_every_method():
    table = format_table({"tfidf": {"f1@5": 0.1234}, "tagger": {"f1@5": 0.5}})
    assert "tfidf" in table and "tagger" in table and "12.34" in table and "50.00" in table
