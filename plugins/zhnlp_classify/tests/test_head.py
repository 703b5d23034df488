"""The classification head: targets, losses vs hand-written references, predictions, class
weights, multi-label thresholds (tuning, checkpointing), labels, report, formats, the spec."""
from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from zhnlp.data.collate import collate
from zhnlp.errors import ConfigError, DataError
from zhnlp import registry
from zhnlp.types import Head, HeadSpec, ModelOutput
from zhnlp_classify.heads import build_classification, classification, collect_labels
from zhnlp_classify.metrics import best_threshold

H = 4
LABELS = ["neg", "neu", "pos"]


def feature(example: dict, head, n: int = 3) -> dict:
    offsets = [(i, i + 1) for i in range(n)]
    enc = {"input_ids": [5] * n, "attention_mask": [1] * n, "offset_mapping": offsets}
    targets = head.targets(example, enc)
    return {"inputs": {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]},
            "targets": targets, "offsets": offsets, "example": example, "index": 0}


def test_spec_and_builder_contract():
    assert isinstance(classification, HeadSpec) and registry.get("heads", "classification") is classification
    assert (classification.build, classification.collect_labels) == (build_classification, collect_labels)
    assert (classification.task, classification.label_kind, classification.example_data) == ("classify", "label",
                                                                                              "sample_cls")
    assert not hasattr(build_classification, "collect_labels") and not hasattr(build_classification, "example_data")
    head = registry.build_head({"name": "classification", "pooling": "mean"}, hidden_size=H, labels=LABELS)
    assert isinstance(head, Head) and head.pooling == "mean" and head.labels == LABELS
    assert head.main_metric == "acc"
    assert build_classification(H, LABELS, mode="multi").main_metric == "micro_f1"


def test_collect_labels_sorted_or_class_file_order():
    exs = [{"label": "pos"}, {"label": "neg"}, {"label": ["neu", "pos"]}]
    assert collect_labels(exs) == ["neg", "neu", "pos"]
    classes = ["sports", "finance", "game"]
    exs = [{"label": "game", "_classes": classes}, {"label": "sports", "_classes": classes}]
    assert collect_labels(exs) == classes  # class.txt order, unseen 'finance' kept


def test_single_loss_is_cross_entropy_with_smoothing_and_weights():
    torch.manual_seed(0)
    head = build_classification(H, LABELS, dropout=0.0, pooling="mean", label_smoothing=0.1,
                                class_weights=[1.0, 2.0, 0.5])
    exs = [{"text": "abc", "label": lab} for lab in ("pos", "neg", "pos", "neu")]
    batch = collate([feature(ex, head) for ex in exs])
    assert batch["label"].tolist() == [2, 0, 2, 1]
    hidden = torch.randn(4, 3, H)
    out = head(hidden, batch)
    assert isinstance(out, ModelOutput) and out.binary is False and out.scores.shape == (4, 3)
    logits = head.classifier(hidden.mean(1))
    torch.testing.assert_close(out.scores, logits)
    # reference written out: smoothed targets, weighted mean as torch defines it
    logp = torch.log_softmax(logits, -1)
    w = torch.tensor([1.0, 2.0, 0.5])
    y = batch["label"]
    nll = -(logp[range(4), y] * w[y]).sum() / w[y].sum()
    smooth = -(logp * w).sum(-1).sum() / (3 * w[y].sum())
    ref = 0.9 * nll + 0.1 * smooth
    assert torch.allclose(out.loss, ref, atol=1e-5)
    assert torch.allclose(out.loss, F.cross_entropy(logits, y, weight=w, label_smoothing=0.1), atol=1e-6)
    assert head(hidden, {k: v for k, v in batch.items() if k != "label"}).loss is None  # no targets


def test_balanced_weights_from_fit_and_from_the_first_file():
    exs = [{"label": "pos"}] * 6 + [{"label": "neg"}] * 2 + [{"label": "neu"}] * 4
    head = build_classification(H, LABELS, class_weights="balanced")
    head.fit(exs)
    n = 12
    assert torch.allclose(head.class_weight, torch.tensor([n / (3 * 2), n / (3 * 4), n / (3 * 6)]))
    # without fit: counted from the first file's targets (train), dev ignored
    head = build_classification(H, LABELS, class_weights="balanced", pooling="mean")
    for ex in exs:
        feature({**ex, "text": "abc", "_file": "train.tsv"}, head)
    for _ in range(50):
        feature({"text": "abc", "label": "neg", "_file": "dev.tsv"}, head)
    head.train()
    batch = collate([feature({"text": "abc", "label": "pos", "_file": "train.tsv"}, head)])
    head(torch.randn(1, 3, H), batch)
    counts = torch.tensor([2.0, 4.0, 7.0])  # the extra 'pos' above counted too
    assert torch.allclose(head.class_weight, counts.sum() / (3 * counts))
    assert "class_weight" in head.state_dict()


def test_bad_class_weights_and_options():
    with pytest.raises(ConfigError, match="3 non-negative"):
        build_classification(H, LABELS, class_weights=[1.0, 2.0])
    with pytest.raises(ConfigError, match="balanced"):
        build_classification(H, LABELS, class_weights="inverse")
    with pytest.raises(ConfigError, match="use single .* or multi"):
        build_classification(H, LABELS, mode="multilabel")
    with pytest.raises(ConfigError, match="pooling"):
        build_classification(H, LABELS, pooling="sum")
    with pytest.raises(ConfigError, match="at least 2 classes"):
        build_classification(H, ["only"])
    with pytest.raises(ConfigError, match="truncation"):
        build_classification(H, LABELS, truncation="middle")


def test_targets_errors_name_file_and_line():
    head = build_classification(H, LABELS)
    with pytest.raises(DataError, match=r"dev\.tsv:7: .*'other'"):
        feature({"text": "abc", "label": "other", "_file": "dev.tsv", "_line": 7}, head)
    with pytest.raises(DataError, match="head.mode=multi"):
        feature({"text": "abc", "label": ["pos", "neu"], "_file": "t.tsv", "_line": 2}, head)


def test_single_predictions_and_metrics():
    torch.manual_seed(0)
    head = build_classification(H, LABELS, pooling="mean", top_k=2).eval()
    batch = collate([feature({"text": "abc", "label": "pos"}, head) for _ in range(3)])
    hidden = torch.randn(3, 3, H)
    preds = head.predict(hidden, batch)
    with torch.no_grad():
        probs = torch.softmax(head.classifier(hidden.mean(1)), -1)
    for p, row in zip(preds, probs):
        assert set(p) == {"label", "prob", "top_k", "probs"} and len(p["top_k"]) == 2
        assert list(p["probs"]) == LABELS and sum(p["probs"].values()) == pytest.approx(1.0, abs=1e-5)
        assert [p["probs"][lab] for lab in LABELS] == pytest.approx(row.tolist(), abs=1e-6)
        assert p["label"] == LABELS[int(row.argmax())]
        assert p["prob"] == pytest.approx(float(row.max()), abs=1e-6)
        assert p["top_k"][0] == [p["label"], p["prob"]] and p["top_k"][1][1] <= p["prob"]
    examples = [{"label": "pos"}, {"label": "neg"}, {"label": "pos"}, {"label": "neu"}]
    fake = [{"label": "pos"}, {"label": "pos"}, {"label": "neg"}, {"label": "neu"}]
    m = head.evaluate(fake, examples)
    assert m["acc"] == 0.5 and m["micro_f1"] == 0.5
    assert m["f1/pos"] == pytest.approx(0.5) and m["f1/neu"] == 1.0 and m["f1/neg"] == 0.0
    assert m["macro_f1"] == pytest.approx(0.5)
    table = head.report(m)
    assert "pos" in table and "macro avg" in table and " 2" in table  # support of 'pos'


def test_multi_loss_targets_and_predictions():
    torch.manual_seed(0)
    head = build_classification(H, LABELS, mode="multi", pooling="max", dropout=0.0, class_weights=[1.0, 3.0, 1.0])
    exs = [{"text": "abc", "label": ["pos", "neu"]}, {"text": "abc", "label": "neg"}]
    batch = collate([feature(ex, head) for ex in exs])
    assert batch["labels"].tolist() == [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]
    hidden = torch.randn(2, 3, H)
    out = head(hidden, batch)
    assert out.binary is True and out.scores.shape == (2, 3)
    z = head.classifier(hidden.max(1).values)
    y = batch["labels"]
    w = torch.tensor([1.0, 3.0, 1.0])
    ref = -(w * (y * F.logsigmoid(z) + (1 - y) * F.logsigmoid(-z))).mean()
    assert torch.allclose(out.loss, ref, atol=1e-6)
    head.eval()
    head.thresholds.copy_(torch.tensor([0.0001, 0.9999, 0.5]))
    preds = head.predict(hidden, batch)
    for p, row in zip(preds, torch.sigmoid(z)):
        assert set(p["probs"]) == set(LABELS)
        expected = ["neg"] + (["pos"] if row[2] >= 0.5 else [])
        assert p["labels"] == expected


def brute_force_f1(probs, gold, t):
    tp = sum(p >= t and g for p, g in zip(probs, gold))
    k = sum(p >= t for p in probs)
    return 2 * tp / (k + sum(gold)) if k + sum(gold) else 0.0


def test_best_threshold_matches_brute_force():
    g = torch.Generator().manual_seed(1)
    for trial in range(30):
        n = 12
        probs = [round(float(x), 1) for x in torch.rand(n, generator=g)]  # many ties
        gold = [bool(x) for x in (torch.rand(n, generator=g) < 0.4)]
        if not any(gold):
            assert best_threshold(probs, gold, 0.5) == (0.5, 0.0)
            continue
        t, f1 = best_threshold(probs, gold)
        grid = sorted(set(probs)) + [1.1]
        best = max(brute_force_f1(probs, gold, c) for c in grid)
        assert f1 == pytest.approx(best) and brute_force_f1(probs, gold, t) == pytest.approx(best)


def multi_preds(rows):
    return [{"labels": [], "probs": dict(zip(LABELS, r))} for r in rows]


def test_thresholds_tuned_on_dev_applied_to_test_and_checkpointed():
    head = build_classification(H, LABELS, mode="multi")
    dev = [{"label": ["pos"], "_file": "dev"}, {"label": ["neg", "pos"], "_file": "dev"}, {"label": ["neu"], "_file": "dev"}]
    probs = [[0.1, 0.2, 0.3], [0.35, 0.1, 0.4], [0.05, 0.25, 0.1]]
    m = head.evaluate(multi_preds(probs), dev)  # first evaluation: dev, tuned
    assert m["subset_acc"] == 1.0 and m["acc"] == 1.0 and m["micro_f1"] == 1.0 and m["example_f1"] == 1.0
    tuned = head.thresholds.tolist()
    assert tuned == pytest.approx([(0.35 + 0.1) / 2, (0.25 + 0.2) / 2, (0.3 + 0.1) / 2])
    test = [{"label": ["pos"], "_file": "test"}]
    preds = multi_preds([[0.9, 0.9, 0.9]])
    head.evaluate(preds, test)  # other file: applied, not tuned
    assert head.thresholds.tolist() == tuned and preds[0]["labels"] == LABELS
    # a head restored from a checkpoint keeps the thresholds and never re-tunes
    fresh = build_classification(H, LABELS, mode="multi")
    fresh.load_state_dict(head.state_dict())
    fresh.evaluate(multi_preds([[0.9, 0.0, 0.0]]), [{"label": ["neu"], "_file": "dev"}])
    assert fresh.thresholds.tolist() == tuned
    off = build_classification(H, LABELS, mode="multi", tune_thresholds=False)
    off.evaluate(multi_preds(probs), dev)
    assert off.thresholds.tolist() == [0.5, 0.5, 0.5]


def test_clue_output_format_and_artifacts(tmp_path):
    head = build_classification(H, LABELS)
    assert head.output_formats["clue"]({"id": 3, "text": "x"}, {"label": "pos", "prob": 0.9}) == {"id": 3, "label": "pos"}
    files = head.artifacts([{"label": "pos"}, {"label": "neg"}], [{"label": "pos"}, {"label": "pos"}], tmp_path)
    assert files == [str(tmp_path / "confusion_matrix.png")]
    assert (tmp_path / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert build_classification(H, LABELS, mode="multi").artifacts([], [], tmp_path) == []


def test_state_dict_round_trip_gives_the_same_predictions():
    torch.manual_seed(0)
    head = build_classification(H, LABELS, pooling="attention", class_weights="balanced").eval()
    head.fit([{"label": "pos"}, {"label": "neg"}, {"label": "neg"}])
    batch = collate([feature({"text": "abc", "label": "pos"}, head) for _ in range(2)])
    hidden = torch.randn(2, 3, H)
    other = build_classification(H, LABELS, pooling="attention", class_weights="balanced").eval()
    other.load_state_dict(head.state_dict())
    assert other.predict(hidden, batch) == head.predict(hidden, batch)
    assert torch.equal(other.class_weight, head.class_weight)
