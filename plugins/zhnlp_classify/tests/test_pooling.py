"""Pooling over real tokens, segment pooling for pairs, cross-attention, [CLS] detection."""
from __future__ import annotations

import pytest
import torch

from zhnlp.errors import ConfigError, DataError
from zhnlp_classify.heads import build_classification
from zhnlp_classify.pooling import AttentionPool, CrossAttention, masked_max, masked_mean, pair_features

H = 3


def padded_hidden(lengths: list[int], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random states with LARGE garbage on the padding, so any leak shows."""
    g = torch.Generator().manual_seed(seed)
    t = max(lengths)
    hidden = torch.randn(len(lengths), t, H, generator=g)
    mask = torch.zeros(len(lengths), t, dtype=torch.bool)
    for i, n in enumerate(lengths):
        mask[i, :n] = True
        hidden[i, n:] = 1e4
    return hidden, mask


def test_mean_and_max_ignore_padding():
    hidden, mask = padded_hidden([4, 2, 1])
    mean, mx = masked_mean(hidden, mask), masked_max(hidden, mask)
    for i, n in enumerate([4, 2, 1]):
        assert torch.allclose(mean[i], hidden[i, :n].mean(0))
        assert torch.allclose(mx[i], hidden[i, :n].max(0).values)


def test_hand_computed_values_and_empty_rows():
    hidden = torch.tensor([[[1.0, -2.0], [3.0, 4.0], [100.0, 100.0]]])  # (1, 3, 2), last is padding
    mask = torch.tensor([[True, True, False]])
    assert masked_mean(hidden, mask).tolist() == [[2.0, 1.0]]
    assert masked_max(hidden, mask).tolist() == [[3.0, 4.0]]
    empty = torch.zeros(1, 3, dtype=torch.bool)
    assert masked_mean(hidden, empty).tolist() == [[0.0, 0.0]]
    assert masked_max(hidden, empty).tolist() == [[0.0, 0.0]]


def test_attention_pool_is_a_convex_combination_of_real_tokens():
    torch.manual_seed(0)
    pool = AttentionPool(H, 5)
    hidden, mask = padded_hidden([4, 2])
    w = pool.weights(hidden, mask)
    assert torch.allclose(w.sum(-1), torch.ones(2))
    assert (w[~mask] == 0).all()
    # reference: softmax over the real tokens only
    for i, n in enumerate([4, 2]):
        scores = pool.score(torch.tanh(pool.proj(hidden[i, :n]))).squeeze(-1)
        ref = torch.softmax(scores, -1) @ hidden[i, :n]
        assert torch.allclose(pool(hidden, mask)[i], ref, atol=1e-5)
    # same result whatever the padding length
    short, _ = padded_hidden([2], seed=0)
    assert torch.allclose(pool(hidden[1:2, :2], mask[1:2, :2]), pool(hidden[1:2], mask[1:2]), atol=1e-6)


@pytest.mark.parametrize("pooling", ["mean", "max", "attention"])
def test_head_features_do_not_depend_on_padding(pooling, h):
    torch.manual_seed(0)
    head = build_classification(H, ["a", "b"], pooling=pooling).eval()
    hidden, _ = padded_hidden([5, 3])
    batch = h.make_batch([h.char_offsets(5), h.char_offsets(3)])
    both = head.features(hidden, batch)
    alone = head.features(hidden[1:2, :3], h.make_batch([h.char_offsets(3)]))
    assert torch.allclose(both[1], alone[0], atol=1e-6)


def test_cls_pooling_takes_the_first_token_and_auto_picks_it_for_bert(h):
    hidden, _ = padded_hidden([4, 3])
    bert = h.make_batch([h.bert_offsets(2), h.bert_offsets(1)])
    for pooling in ("cls", "auto"):
        head = build_classification(H, ["a", "b"], pooling=pooling).eval()
        assert torch.equal(head.features(hidden, bert), hidden[:, 0])
    auto = build_classification(H, ["a", "b"], pooling="auto").eval()
    scratch = h.make_batch([h.char_offsets(4), h.char_offsets(3)])
    assert torch.equal(auto.features(hidden, scratch), masked_max(hidden, scratch["attention_mask"].bool()))


def test_cls_pooling_on_a_from_scratch_encoder_is_a_config_error(h):
    head = build_classification(H, ["a", "b"], pooling="cls")
    hidden, _ = padded_hidden([3])
    with pytest.raises(ConfigError, match="pooling=max, mean, attention"):
        head.features(hidden, h.make_batch([h.char_offsets(3)]))
    with pytest.raises(ConfigError, match="cls"):  # already when building targets
        head.targets({"text": "abc", "label": "a"}, {"input_ids": [1, 2, 3], "offset_mapping": h.char_offsets(3)})
    with pytest.raises(ConfigError, match="second text has no \\[CLS\\]"):
        build_classification(H, ["a", "b"], pooling="cls", pair_mode="siamese")


def pair_batch(h):
    """Row 0: from-scratch pair 'ab' [SEP] 'cde'; row 1: BERT pair [CLS] 'x' [SEP] 'yz' [SEP]."""
    offsets = [h.char_offsets(2) + [(0, 0)] + h.char_offsets(3), [(0, 0), (0, 1), (0, 0), (0, 1), (1, 2), (0, 0)]]
    types = [[0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1]]
    return h.make_batch(offsets, types)


@pytest.mark.parametrize("pooling", ["mean", "max"])
def test_siamese_pools_each_segment_without_specials(pooling, h):
    head = build_classification(H, ["a", "b"], pooling=pooling, pair_mode="siamese").eval()
    hidden = torch.randn(2, 6, H)
    out = head.features(hidden, pair_batch(h))
    assert out.shape == (2, 4 * H)
    reduce = (lambda x: x.mean(0)) if pooling == "mean" else (lambda x: x.max(0).values)
    segments = [([0, 1], [3, 4, 5]), ([1], [3, 4])]
    for i, (a, b) in enumerate(segments):
        u, v = reduce(hidden[i, a]), reduce(hidden[i, b])
        assert torch.allclose(out[i], torch.cat([u, v, (u - v).abs(), u * v]), atol=1e-6)


def test_pair_features_formula():
    u, v = torch.tensor([[1.0, -2.0]]), torch.tensor([[3.0, 1.0]])
    assert pair_features(u, v).tolist() == [[1.0, -2.0, 3.0, 1.0, 2.0, 3.0, 3.0, -2.0]]


def test_cross_attention_matches_a_per_token_reference():
    torch.manual_seed(0)
    layer = CrossAttention(H)
    hidden = torch.randn(1, 6, H)
    a = torch.tensor([[1, 1, 0, 0, 0, 0]], dtype=torch.bool)
    b = torch.tensor([[0, 0, 0, 1, 1, 0]], dtype=torch.bool)  # pos 2 = [SEP], pos 5 = padding
    aligned = layer.align(hidden, a, b)[0]
    q = layer.query(hidden[0])
    for i, others in [(0, [3, 4]), (1, [3, 4]), (3, [0, 1]), (4, [0, 1])]:
        scores = torch.stack([q[i] @ hidden[0, j] for j in others]) / H ** 0.5
        ref = torch.softmax(scores, 0) @ hidden[0, others]
        assert torch.allclose(aligned[i], ref, atol=1e-5)
    assert torch.equal(aligned[2], torch.zeros(H)) and torch.equal(aligned[5], torch.zeros(H))


def test_interaction_head_runs_and_learns_from_both_segments(h):
    torch.manual_seed(0)
    head = build_classification(H, ["a", "b"], pooling="attention", pair_mode="interaction")
    batch = pair_batch(h)
    batch["label"] = torch.tensor([0, 1])
    out = head(torch.randn(2, 6, H, requires_grad=True), batch)
    out.loss.backward()
    assert head.interaction.query.weight.grad is not None
    assert out.scores.shape == (2, 2)


def test_pair_modes_need_text_b_and_token_type_ids(h):
    head = build_classification(H, ["a", "b"], pair_mode="siamese")
    with pytest.raises(DataError, match="text_b"):
        head.targets({"text": "ab", "label": "a", "_file": "f.tsv", "_line": 3}, {"offset_mapping": h.char_offsets(2)})
    batch = pair_batch(h)
    del batch["token_type_ids"]
    with pytest.raises(ConfigError, match="token_type_ids"):
        head.features(torch.randn(2, 6, H), batch)
