"""The keyword_tagger head: targets from keyword occurrences, the CRF loss, ranked prediction from
constrained CRF span marginals, long-text windows merged without double counting, ensemble
combination, P/R/F1@k evaluation."""
import itertools
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from zhnlp import registry
from zhnlp.errors import ConfigError
from zhnlp.types import Head, HeadSpec, ModelOutput, has
from zhnlp_keywords.heads import build_keyword_tagger, keyword_tagger

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
        head.proj.weight.copy_(torch.eye(3))
        head.proj.bias.zero_()
        for p in head.crf.parameters():
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


def test_spec_config_and_labels():
    assert isinstance(keyword_tagger, HeadSpec) and keyword_tagger.build is build_keyword_tagger
    assert (keyword_tagger.task, keyword_tagger.label_kind, keyword_tagger.example_data) == (
        "keywords", "keywords", "sample_keywords")
    assert keyword_tagger.collect_labels([{"keywords": ["a"]}, {"keywords": []}]) == ["KW"]
    assert keyword_tagger.collect_labels([{"keywords": []}]) == []
    cfg = OmegaConf.to_container(OmegaConf.load(CONF / "head" / "keyword_tagger.yaml"))
    assert cfg["name"] == "keyword_tagger" and "_target_" not in cfg
    head = registry.build_head(cfg, hidden_size=16, labels=["KW"])
    assert isinstance(head, Head) and head.main_metric == "f1@5"
    assert head.context.output_size == 2 * cfg["lstm_hidden"] and head.word_features is True
    assert all(has(head, c) for c in ("param_groups", "split", "merge", "combine", "report"))
    assert head.param_groups() == {"crf": list(head.crf.parameters())}
    with pytest.raises(ConfigError):
        build_keyword_tagger(hidden_size=4, labels=["PER"])
    with pytest.raises(ConfigError, match="reduction"):
        build_keyword_tagger(hidden_size=4, reduction="avg")


def path_scores(emissions, start, trans, end):
    """Every tag path of a (T, 3) emission matrix with its score."""
    T = emissions.size(0)
    out = []
    for path in itertools.product(range(3), repeat=T):
        score = start[path[0]] + emissions[0, path[0]] + end[path[-1]]
        for t in range(1, T):
            score = score + trans[path[t - 1], path[t]] + emissions[t, path[t]]
        out.append((path, score))
    return out


def random_crf_head(seed=0, **kw):
    torch.manual_seed(seed)
    head = build_keyword_tagger(hidden_size=3, labels=["KW"], lstm_layers=0, dropout=0.0, word_features=False,
                                **kw).eval()
    with torch.no_grad():
        head.proj.weight.copy_(torch.eye(3))
        head.proj.bias.zero_()
        for p in head.crf.parameters():
            p.copy_(torch.randn(p.shape))
    return head


def test_loss_is_the_negative_crf_log_likelihood():
    """pytorch-crf's likelihood: over ALL tag paths (the BIO constraints apply only to prediction)."""
    head = random_crf_head(reduction="sum")
    text = "图像分类"
    hidden = torch.randn(1, 4, 3)
    batch, h = char_batch([text], hidden)
    batch["tags"] = head.targets({"text": text, "keywords": ["分类"]}, {"offset_mapping": batch["offsets"][0]})["tags"][None]
    assert batch["tags"].tolist() == [[O, O, B, I]]
    crf = head.crf
    scores = dict(path_scores(hidden[0], crf.start_transitions, crf.transitions, crf.end_transitions))
    expected = torch.logsumexp(torch.stack(list(scores.values())), 0) - scores[(O, O, B, I)]
    torch.testing.assert_close(head(h, batch).loss, expected)
    mean = build_keyword_tagger(hidden_size=3, lstm_layers=0, word_features=False)
    mean.load_state_dict(head.state_dict())
    batch2, h2 = char_batch([text, text], hidden.repeat(2, 1, 1))
    batch2["tags"] = batch["tags"].repeat(2, 1)
    torch.testing.assert_close(mean.eval()(h2, batch2).loss, expected)  # reduction=mean: per sequence


def test_span_marginals_respect_the_bio_constraints():
    """occurrence probabilities = brute force over the paths BIO allows (no I first, no O -> I)."""
    head = random_crf_head(seed=3, min_prob=0.0).requires_grad_(False)
    text = "深度学习"
    hidden = 2 * torch.randn(1, 4, 3)
    batch, h = char_batch([text], hidden)
    crf = head.crf
    paths = [(p, sc) for p, sc in path_scores(hidden[0], crf.start_transitions, crf.transitions, crf.end_transitions)
             if p[0] != I and all(not (a == O and b == I) for a, b in zip(p, p[1:]))]
    log_z = torch.logsumexp(torch.stack([sc for _, sc in paths]), 0)
    got = {(s, e): p for s, e, p in head.occurrences(h, batch)[0]}
    for a in range(4):
        for b in range(a, 4):
            hits = [sc for p, sc in paths if p[a] == B and all(p[t] == I for t in range(a + 1, b + 1))
                    and (b + 1 == 4 or p[b + 1] != I)]
            expected = float(torch.exp(torch.logsumexp(torch.stack(hits), 0) - log_z))
            assert got.get((a, b + 1), 0.0) == pytest.approx(expected, abs=1e-5)
    start, trans, end = head.constrained_transitions()
    assert start[I] == trans[O, I] == -1e4 and start[B] == crf.start_transitions[B]


def test_targets_on_subword_tokens_and_special_tokens():
    head = oracle_head()
    text = "用GPU集群"
    # [CLS] 用 GP U 集群 [SEP]: GPU covers two tokens; 集 ends inside the token 集群 (left out, warned)
    enc = {"input_ids": [0] * 6, "offset_mapping": [(0, 0), (0, 1), (1, 3), (3, 4), (4, 6), (0, 0)]}
    tags = head.targets({"text": text, "keywords": ["GPU", "集群"]}, enc)["tags"].tolist()
    assert tags == [O, O, B, I, B, O]
    with pytest.warns(UserWarning, match="keyword_tagger head"):
        head.targets({"text": text, "keywords": ["集"], "_line": 1}, enc)
        head.stats.flush()


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
    out = head(h.requires_grad_(), batch)
    assert isinstance(out, ModelOutput) and out.scores.shape == (1, 6, 3) and out.scores_mask.dtype == torch.bool
    out.loss.backward()
    assert torch.isfinite(out.loss) and h.grad is not None
    assert all(p.grad is not None for p in head.crf.parameters())
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


def test_ensemble_combine_averages_scores():
    head = oracle_head()
    ranked = head.combine([[("图像", 0.8), ("分类", 0.4)], [["分类", 0.9], ["ＧＰＵ", 0.2]]], [1.0, 1.0], [head, head])
    assert ranked == [("分类", 0.65), ("图像", 0.4), ("ＧＰＵ", 0.1)]
    weighted = head.combine([[("图像", 0.8)], [("分类", 0.9)]], [3.0, 1.0], [head, head])
    assert [k for k, _ in weighted] == ["图像", "分类"] and weighted[0][1] == pytest.approx(0.6)
    windows = head.combine([[{"start": 0, "end": 2, "score": 0.5}], [{"start": 0, "end": 2, "score": 0.7},
                                                                     {"start": 3, "end": 5, "score": 0.2}]],
                           [1.0, 1.0], [head, head])
    assert windows == [{"start": 0, "end": 2, "score": pytest.approx(0.6)}, {"start": 3, "end": 5, "score": 0.1}]
