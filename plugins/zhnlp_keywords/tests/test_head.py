"""The keyword_tagger head: targets from keyword occurrences, ranked prediction from CRF span
marginals, long-text windows merged without double counting, P/R/F1@k evaluation."""
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from zhnlp.errors import ConfigError
from zhnlp.types import Head
from zhnlp_keywords.heads import build_keyword_tagger

CONF = Path(__file__).parents[1] / "conf"
O, B, I = 0, 1, 2


def char_batch(texts, hidden):
    """Char-level encodings (one token per char) and a (B, T, 3) hidden tensor."""
    T = max(len(t) for t in texts)
    mask = torch.tensor([[1] * len(t) + [0] * (T - len(t)) for t in texts])
    return {"attention_mask": mask, "input_ids": mask.clone(), "examples": [{"text": t} for t in texts],
            "offsets": [[(i, i + 1) for i in range(len(t))] for t in texts]}, hidden


def oracle_head(**kw):
    """Emissions = the hidden state itself (identity projection), no transitions."""
    head = build_keyword_tagger(hidden_size=3, labels=["KW"], lstm_layers=0, dropout=0.0, word_features=False,
                                **kw).eval()
    with torch.no_grad():
        head.tagger.proj.weight.copy_(torch.eye(3))
        head.tagger.proj.bias.zero_()
        for p in head.tagger.crf.parameters():
            p.zero_()
    return head


def tag_hidden(n, spans, strength=8.0, length=None):
    """(T, 3) scores: B/I over the given (start, end, strength) spans, O elsewhere."""
    h = torch.zeros(length or n, 3)
    h[:, O] = strength
    for s, e, st in spans:
        h[s:e, O] = 0.0
        h[s, B] = st
        h[s + 1:e, I] = st
    return h


def test_config_instantiates_and_labels():
    cfg = OmegaConf.load(CONF / "head" / "keyword_tagger.yaml")
    assert cfg._partial_ is True and cfg._target_ == "zhnlp_keywords.heads.build_keyword_tagger"
    assert build_keyword_tagger.collect_labels([{"keywords": ["a"]}, {"keywords": []}]) == ["KW"]
    assert build_keyword_tagger.collect_labels([{"keywords": []}]) == []
    assert build_keyword_tagger.example_data == "sample_keywords"
    head = instantiate(cfg)(hidden_size=16, labels=["KW"])
    assert isinstance(head, Head) and head.main_metric == "f1@5"
    with pytest.raises(ConfigError):
        build_keyword_tagger(hidden_size=4, labels=["PER"])


def test_targets_tag_every_non_overlapping_occurrence():
    head = oracle_head()
    text = "图像分类与ＧＰＵ图像分类"
    enc = {"input_ids": list(range(len(text))), "offset_mapping": [(i, i + 1) for i in range(len(text))]}
    tags = head.targets({"text": text, "keywords": ["图像分类", "gpu", "分类"]}, enc)["tags"].tolist()
    #          图 像 分 类 与 Ｇ Ｐ Ｕ 图 像 分 类
    assert tags == [B, I, I, I, O, B, I, I, B, I, I, I]


def test_predict_ranks_by_span_marginals():
    head = oracle_head()
    text = "提出卷积网络和注意力机制方法卷积网络"
    n = len(text)
    hidden = tag_hidden(n, [(2, 6, 8.0), (7, 12, 2.0), (14, 18, 1.0)])
    batch, h = char_batch([text, "空"], torch.stack([hidden, tag_hidden(n, [], length=n)]))
    batch["attention_mask"][1, 1:] = 0
    batch["offsets"][1] = [(0, 1)]
    preds = head.predict(h, batch)
    kws = [k for k, _ in preds[0]]
    assert kws[0] == "卷积网络" and "注意力机制" in kws
    scores = [s for _, s in preds[0]]
    assert scores == sorted(scores, reverse=True) and 0 < scores[-1] and scores[0] <= 1
    assert all(k in text for k in kws)
    assert preds[1] == []  # nothing looks like a keyword in the second row


def test_occurrences_combine_with_noisy_or():
    text = "网络层网络层"
    hidden = tag_hidden(6, [(0, 3, 1.0), (3, 6, 1.0)])
    results = {}
    for agg in ("noisy_or", "max", "sum"):
        head = oracle_head(aggregate=agg)
        batch, h = char_batch([text], hidden.unsqueeze(0))
        occ = head.occurrences(h, batch)[0]
        p = [pr for s, e, pr in occ if (s, e) in ((0, 3), (3, 6))]
        assert len(p) == 2
        results[agg] = dict(head.predict(h, batch)[0])["网络层"]
        expected = {"noisy_or": 1 - (1 - p[0]) * (1 - p[1]), "max": max(p), "sum": sum(p)}[agg]
        assert results[agg] == pytest.approx(expected, abs=1e-5)
    assert results["max"] < results["noisy_or"] < results["sum"]


def test_windows_merge_without_double_counting():
    head = oracle_head()
    text = "甲" * 30 + "量子计算" + "乙" * 30
    n = len(text)
    hidden = tag_hidden(n, [(30, 34, 1.5)])  # a moderately confident span in the middle
    batch, h = char_batch([text], hidden.unsqueeze(0))
    whole = dict(head.predict(h, batch)[0])["量子计算"]
    windows = head.split({"text": text, "keywords": ["量子计算"]}, max_chars=40)  # overlap 20
    assert len(windows) >= 2 and all(w["_window"][0] <= 30 and 34 <= w["_window"][1] for w in windows)
    parts = []
    for w in windows:
        s, e = w["_window"]
        wb, wh = char_batch([w["text"]], hidden[s:e].unsqueeze(0))
        wb["examples"] = [w]
        pred = head.predict(wh, wb)[0]
        assert isinstance(pred[0], dict)  # raw occurrences for merge
        parts.append((w, pred))
    merged = dict(head.merge({"text": text}, parts))
    assert merged["量子计算"] == pytest.approx(whole, abs=1e-3)  # counted once, not 1 - (1 - p)^2


def test_evaluate_uses_author_keywords():
    head = oracle_head()
    examples = [{"text": "x", "keywords": ["卷积网络", "注意力"]}]
    m = head.evaluate([[["卷积网络", 0.9], ["方法", 0.5]]], examples)
    assert m["p@3"] == pytest.approx(1 / 3) and m["r@3"] == pytest.approx(1 / 2) and "documents" not in m
    assert set(m) == {f"{x}@{k}" for x in ("p", "r", "f1") for k in (3, 5, 10)}
    assert "F1@5" in head.report(m)


@pytest.mark.parametrize("word_features", [False, True])
def test_training_step_with_context_lstm(word_features):
    head = build_keyword_tagger(hidden_size=6, labels=["KW"], lstm_layers=1, lstm_hidden=4, word_features=word_features)
    text = "图像分类方法"
    enc = {"input_ids": [1] * 6, "offset_mapping": [(i, i + 1) for i in range(6)]}
    tags = head.targets({"text": text, "keywords": ["图像分类"]}, enc)["tags"]
    batch, h = char_batch([text], torch.randn(1, 6, 6))
    batch["tags"] = tags.unsqueeze(0)
    loss = head(h.requires_grad_(), batch)["loss"]
    loss.backward()
    assert torch.isfinite(loss) and h.grad is not None
    head.eval()
    assert all(k in text for k, _ in head.predict(h.detach(), batch)[0])


def test_word_features():
    from zhnlp_keywords.features import NUM_FEATURES, char_features, token_features

    text = "电池材料很好。我们研究电池. 电池回收"
    feats = char_features(text)
    assert len(feats) == len(text) and all(len(f) == NUM_FEATURES for f in feats)
    battery, title = feats[0], feats[text.rindex("电池")]
    assert battery == title  # every char of every occurrence of a word shares its features
    assert battery[2] == 0.0 and battery[3] == pytest.approx(text.rindex("电池") / len(text))
    assert battery[6] == 1.0 and battery[7] == 1.0  # in the first sentence and in the title segment
    assert feats[text.index("我们")][6] == 0.0 and feats[text.index("我们")][7] == 0.0
    assert feats[text.index(" ")] == (0.0,) * NUM_FEATURES
    tok = token_features([text], [[(0, 0)] + [(i, i + 1) for i in range(len(text))] + [(0, 0)]], len(text) + 2)
    assert tok.shape == (1, len(text) + 2, NUM_FEATURES) and tok[0, 0].abs().sum() == 0
    assert torch.allclose(tok[0, 1], torch.tensor(battery, dtype=torch.float32))
