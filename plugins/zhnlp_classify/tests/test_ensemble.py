"""Ensembles: ``combine`` (weighted average of full distributions; multi-label thresholds averaged),
an in-run ensemble of K members (``TaskModel.build(..., members=K)``) and the tuned thresholds
reaching every member."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from zhnlp import registry
from zhnlp.data.collate import collate
from zhnlp.model import TaskModel
from zhnlp_classify.heads import build_classification

SAMPLE = Path(__file__).parents[3] / "datasets" / "sample_cls"
LABELS = ["a", "b", "c", "d"]


def single(probs: dict, top_k: int = 2) -> dict:
    ranked = sorted(probs, key=lambda lab: -probs[lab])[:top_k]
    return {"label": ranked[0], "prob": probs[ranked[0]], "top_k": [[lab, probs[lab]] for lab in ranked],
            "probs": probs}


def test_single_label_averages_every_class_not_the_top_k_lists():
    head = build_classification(4, LABELS, top_k=2)
    p1 = single({"a": 0.5, "b": 0.3, "c": 0.2, "d": 0.0})  # c is not in p1's top-2 list
    p2 = single({"a": 0.1, "b": 0.2, "c": 0.6, "d": 0.1})
    out = head.combine([p1, p2], [1.0, 3.0], [head, head])
    # weighted: a (0.5 + 0.3) / 4, b (0.3 + 0.6) / 4, c (0.2 + 1.8) / 4, d 0.3 / 4
    assert out["probs"] == pytest.approx({"a": 0.2, "b": 0.225, "c": 0.5, "d": 0.075})
    assert out["label"] == "c" and out["prob"] == pytest.approx(0.5)
    assert out["top_k"] == [["c", pytest.approx(0.5)], ["b", pytest.approx(0.225)]]  # this head's top_k length
    assert list(out["probs"]) == LABELS
    tie = head.combine([single({"a": 0.1, "b": 0.4, "c": 0.4, "d": 0.1})], [1.0], [head])
    assert tie["label"] == "b"  # ties in label order


def test_multi_label_uses_the_average_of_the_members_thresholds():
    h1 = build_classification(4, ["x", "y"], mode="multi")
    h2 = build_classification(4, ["x", "y"], mode="multi")
    h1.thresholds.copy_(torch.tensor([0.2, 0.8]))
    h2.thresholds.copy_(torch.tensor([0.4, 0.6]))  # averages: x 0.3, y 0.7

    def pred(x, y):
        return {"labels": [], "probs": {"x": x, "y": y}}

    out = h1.combine([pred(0.35, 0.9), pred(0.25, 0.5)], [1.0, 1.0], [h1, h2])
    assert out == {"labels": ["x", "y"], "probs": {"x": pytest.approx(0.3), "y": pytest.approx(0.7)}}
    assert h1.combine([pred(0.3, 0.9), pred(0.25, 0.48)], [1.0, 1.0], [h1, h2])["labels"] == []
    # a head without thresholds counts as 0.5: x needs (0.2 + 0.4 + 0.5) / 3
    other = torch.nn.Linear(1, 1)
    assert h1.combine([pred(0.36, 0)] * 3, [1.0] * 3, [h1, h2, other])["labels"] == []
    assert h1.combine([pred(0.37, 0)] * 3, [1.0] * 3, [h1, h2, other])["labels"] == ["x"]


@pytest.fixture(scope="module")
def train_examples():
    reader = registry.build_reader({"name": "sample_cls", "reader": {"text_column": "text_a", "label_column": "label"}})
    return reader(str(SAMPLE / "train.tsv"), "data.train_path")[:40]


def tiny_encoder() -> dict:
    if not registry.loads("encoders", "textcnn"):
        pytest.skip("the textcnn encoder does not import")
    return {"name": "textcnn", "char_dim": 8, "bigram_dim": 8, "seg_dim": 4, "filters": 8}


def test_in_run_ensemble_averages_the_members_distributions(train_examples):
    torch.manual_seed(0)
    labels = sorted({ex["label"] for ex in train_examples})
    model = TaskModel.build(tiny_encoder(), {"name": "classification", "pooling": "max", "top_k": 2}, labels,
                            train_examples, members=3).eval()
    assert len(model.members) == 3
    examples = [{"text": ex["text"], "_gold": False} for ex in train_examples[:5]]
    got = model.predict_examples(examples)
    batch = collate(model.features(examples))
    with torch.no_grad():
        per = torch.stack([m.head.probabilities(m.head.logits(model.hidden(batch, i), batch))
                           for i, m in enumerate(model.members)])  # (3, B, K)
    assert not torch.allclose(per[0], per[1])  # independently initialised
    mean = per.mean(0)  # (B, K); batch rows are the examples in order
    assert batch["index"].tolist() == list(range(len(examples)))
    for pred, row in zip(got, mean):
        assert [pred["probs"][lab] for lab in labels] == pytest.approx(row.tolist(), abs=2e-6)
        assert pred["label"] == labels[int(row.argmax())] and len(pred["top_k"]) == 2

def test_thresholds_tuned_on_the_combined_probabilities_reach_every_member(train_examples):
    torch.manual_seed(0)
    examples = [{**ex, "label": [ex["label"]], "_file": "dev"} for ex in train_examples]
    labels = sorted({ex["label"][0] for ex in examples})
    model = TaskModel.build(tiny_encoder(), {"name": "classification", "mode": "multi", "pooling": "max"}, labels,
                            examples, members=2).eval()
    metrics, predictions = model.evaluate(examples)  # validation: member 0's head tunes
    tuned = model.heads[0].thresholds.tolist()
    assert tuned != [0.5] * len(labels)
    assert all(h.thresholds.tolist() == tuned and int(h.thresholds_tuned) == 1 for h in model.heads)
    again = model.predict([ex["text"] for ex in examples])  # the members' average: the tuned cut
    assert [p["labels"] for p in again] == [p["labels"] for p in predictions]
