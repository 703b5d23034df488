"""Head options: max_mean pooling (2H features) and the optional hidden (MLP) layer; no branches option."""
from __future__ import annotations

import pytest
import torch

from zhnlp import registry
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
    out.loss.backward()
    assert head.mlp.weight.grad is not None and head.mlp.weight.grad.abs().sum() > 0
    x = torch.relu(head.mlp(head.features(hidden, batch)))
    torch.testing.assert_close(out.scores, head.classifier(x))
    assert build_classification(H, ["a", "b"]).mlp is None  # default: linear classifier


def test_bad_hidden_dim():
    with pytest.raises(ConfigError, match="hidden_dim"):
        build_classification(H, ["a", "b"], hidden_dim=-1)


def test_branches_option_is_gone():
    """In-run ensembles are the core's ``members: K`` now (see test_ensemble.py)."""
    with pytest.raises(ConfigError, match="head.branches: head 'classification' has no such option"):
        registry.build_head({"name": "classification", "branches": 2}, hidden_size=4, labels=["a", "b"])
