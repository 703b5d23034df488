"""Head options: max_mean pooling (2H features) and the optional hidden (MLP) layer."""
from __future__ import annotations

import pytest
import torch

from zhnlp.errors import ConfigError
from zhnlp_classify.heads import build_classification

H = 3


def batch_and_hidden(h, lengths=(4, 2)):
    torch.manual_seed(0)
    hidden = torch.randn(len(lengths), max(lengths), H)
    for i, n in enumerate(lengths):
        hidden[i, n:] = 1e4  # garbage on padding
    return hidden, h.make_batch([h.char_offsets(n) for n in lengths], label=torch.tensor([0, 1]))


def test_max_mean_concatenates_max_and_mean_over_real_tokens(h):
    hidden, batch = batch_and_hidden(h)
    head = build_classification(H, ["a", "b"], pooling="max_mean").eval()
    feats = head.features(hidden, batch)  # (B, 2H)
    assert feats.shape == (2, 2 * H) and head.classifier.in_features == 2 * H
    ref = torch.cat([hidden[1, :2].max(0).values, hidden[1, :2].mean(0)])
    torch.testing.assert_close(feats[1], ref)


def test_max_mean_pairs_give_8h_features(h):
    hidden, _ = batch_and_hidden(h, (5,))
    batch = h.make_batch([[(0, 1), (1, 2), (0, 0), (0, 1), (1, 2)]], token_types=[[0, 0, 0, 1, 1]])
    head = build_classification(H, ["a", "b"], pooling="max_mean", pair_mode="siamese").eval()
    assert head.features(hidden, batch).shape == (1, 8 * H)


def test_hidden_dim_adds_a_relu_layer_and_trains(h):
    hidden, batch = batch_and_hidden(h)
    head = build_classification(H, ["a", "b"], pooling="mean", hidden_dim=7, dropout=0.0)
    assert head.mlp.out_features == 7 and head.classifier.in_features == 7
    out = head(hidden, batch)
    out["loss"].backward()
    assert head.mlp.weight.grad is not None and head.mlp.weight.grad.abs().sum() > 0
    x = torch.relu(head.mlp(head.features(hidden, batch)))
    torch.testing.assert_close(out["logits"], head.classifier(x))
    assert build_classification(H, ["a", "b"]).mlp is None  # default: linear classifier


def test_bad_hidden_dim():
    with pytest.raises(ConfigError, match="hidden_dim"):
        build_classification(H, ["a", "b"], hidden_dim=-1)


def test_branches_score_each_slice_and_average_probabilities_and_losses(h):
    torch.manual_seed(0)
    hidden = torch.randn(2, 4, 2 * H)  # two encoder branches of width H, concatenated
    batch = h.make_batch([h.char_offsets(4), h.char_offsets(3)], label=torch.tensor([0, 1]))
    head = build_classification(2 * H, ["a", "b", "c"], pooling="max", branches=2, label_smoothing=0.1).eval()
    assert head.classifier is None and [m.classifier.in_features for m in head.members] == [H, H]
    per = [m.own_logits(hidden[..., i * H:(i + 1) * H], batch) for i, m in enumerate(head.members)]  # 2 x (B, K)
    out = head(hidden, batch)
    mean_prob = (per[0].softmax(-1) + per[1].softmax(-1)) / 2
    torch.testing.assert_close(out["logits"].softmax(-1), mean_prob)
    ce = [torch.nn.functional.cross_entropy(p, batch["label"], label_smoothing=0.1) for p in per]
    torch.testing.assert_close(out["loss"], (ce[0] + ce[1]) / 2)
    preds = head.predict(hidden, batch)
    assert [p["label"] for p in preds] == [["a", "b", "c"][i] for i in mean_prob.argmax(-1).tolist()]


def test_branches_multi_label_average_sigmoids(h):
    hidden = torch.randn(1, 3, 2 * H)
    batch = h.make_batch([h.char_offsets(3)], labels=torch.tensor([[1.0, 0.0]]))
    head = build_classification(2 * H, ["a", "b"], mode="multi", pooling="mean", branches=2).eval()
    per = torch.stack([m.own_logits(x, batch) for m, x in zip(head.members, hidden.chunk(2, -1))])
    torch.testing.assert_close(torch.sigmoid(head.logits(hidden, batch)), torch.sigmoid(per).mean(0))


def test_bad_branches():
    with pytest.raises(ConfigError, match="branches"):
        build_classification(5, ["a", "b"], branches=2)  # 5 is not divisible by 2
    with pytest.raises(ConfigError, match="branches"):
        build_classification(4, ["a", "b"], branches=0)
