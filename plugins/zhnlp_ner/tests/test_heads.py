"""Heads: target alignment, targets -> predict round trips in original offsets, losses with padded
batches, warnings, nested spans, and a tiny end-to-end fit per head."""
from __future__ import annotations

import shutil
import warnings

import pytest
import torch
from torch.nn import functional as F

from zhnlp.types import Head, HeadSpec
from zhnlp_ner import heads as ner_heads
from zhnlp_ner.labels import collect_entity_types
from zhnlp_ner.heads import build_crf, build_global_pointer, build_softmax

BUILDERS = {"crf": build_crf, "softmax": build_softmax, "global_pointer": build_global_pointer}


def examples(h):
    """Texts with full-width forms, emoji, astral chars, Latin wordpieces and spaces."""
    def ex(text, spans, line):
        return {"text": text, "entities": [h.entity(text, t, s, e) for t, s, e in spans], "_file": "mem", "_line": line}

    t1 = "华为Mate60 发布于深圳😀，ＡＢＣ公司的𠮷野家 新品"
    t2 = "  张 三在 New York  "
    t3 = "Mate60Pro 上市"
    t4 = "去 北京 玩"
    return [
        ex(t1, [("ORG", 0, 2), ("PRD", 2, 8), ("LOC", 12, 14), ("EMO", 14, 15), ("ORG", 16, 21), ("ORG", 22, 28)], 1),
        ex(t2, [("PER", 2, 5), ("LOC", 7, 15)], 5),
        ex(t3, [("NUM", 4, 6), ("PRD", 1, 5)], 9),  # "60" fits wordpieces; "ate6" never does
        ex(t4, [("LOC", 1, 4)], 13),  # starts on a space: no BERT token there
    ]


def unrepresentable(tokenizer_name, head_name):
    """(line, type, start) of gold entities a tokenizer + head cannot represent."""
    if tokenizer_name == "char":
        # the shorter of two overlapping entities is left out by a tagging head; spans keep both
        return set() if head_name == "global_pointer" else {(9, "NUM", 4)}
    return {(9, "PRD", 1), (13, "LOC", 1)}  # inside the wordpiece "mate"; starts on a dropped space


def encodings_for(h, name, texts):
    if name == "char":
        return [h.char_encode(t) for t in texts]
    if name == "fake_bert":
        return [h.fake_bert_encode(t) for t in texts]
    tokenizer = real_bert_tokenizer(h)
    out = []
    for t in texts:
        enc = tokenizer(t, return_offsets_mapping=True, add_special_tokens=True, truncation=False)
        out.append({k: list(v) for k, v in enc.items()})
    return out


_TOKENIZER = {}


def real_bert_tokenizer(h):
    vocab = h.shared / "vocab" / "bert-base-chinese-vocab.txt"
    if not vocab.is_file():
        pytest.skip("shared BERT vocabulary not present")
    if "tok" not in _TOKENIZER:
        import tempfile

        from transformers import BertTokenizer

        tmp = tempfile.mkdtemp()
        shutil.copy(vocab, f"{tmp}/vocab.txt")
        _TOKENIZER["tok"] = BertTokenizer.from_pretrained(tmp)
    return _TOKENIZER["tok"]


def perfect_tagging_hidden(head, targets, seq_len):
    """Hidden states that make a tagging head emit exactly the target tags."""
    k = len(head.tags)
    tags = torch.stack([F.pad(t["tags"], (0, seq_len - len(t["tags"])), value=0) for t in targets]).clamp(min=0)
    with torch.no_grad():
        head.proj.weight.zero_()
        head.proj.weight[:, :k] = torch.eye(k) * 10
        head.proj.bias.zero_()
        if hasattr(head, "crf"):
            for p in head.crf.parameters():
                p.zero_()
    return F.pad(F.one_hot(tags, k).float(), (0, head.proj.in_features - k))  # (B, T, H)


def perfect_span_scores(head, targets, seq_len):
    scores = torch.full((len(targets), len(head.labels), seq_len, seq_len), -10.0)
    for i, t in enumerate(targets):
        for label, a, b in t["spans"].tolist():
            if label >= 0:
                scores[i, label, a, b] = 10.0
    return scores


@pytest.mark.parametrize("tokenizer_name", ["char", "fake_bert", "real_bert"])
@pytest.mark.parametrize("head_name", ["crf", "softmax", "global_pointer"])
def test_targets_predict_round_trip(helpers, head_name, tokenizer_name):
    exs = examples(helpers)
    encs = encodings_for(helpers, tokenizer_name, [e["text"] for e in exs])
    builder = BUILDERS[head_name]
    head = builder(hidden_size=32, labels=collect_entity_types(exs), boundary="drop").eval()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        targets = [head.targets(e, enc) for e, enc in zip(exs, encs)]
        assert not caught  # counted, not warned per sentence
        head.flush_warnings()
    bad = unrepresentable(tokenizer_name, head_name)
    assert len(caught) == (1 if bad else 0)  # one warning carrying the count
    if bad:
        assert str(caught[0].message).startswith(f"{len(bad)} gold entit")
    batch = helpers.make_batch(exs, encs, targets)
    seq_len = batch["input_ids"].size(1)
    if head_name == "global_pointer":
        preds = head.decode(perfect_span_scores(head, targets, seq_len), batch)
    else:
        preds = head.predict(perfect_tagging_hidden(head, targets, seq_len), batch)
        assert head.decode_repairs == 0
    for ex, pred in zip(exs, preds):
        expected = [e for e in ex["entities"] if (ex["_line"], e["type"], e["start"]) not in bad]
        assert pred == sorted(expected, key=lambda e: (e["start"], e["end"], e["type"])), ex["text"]
        for e in pred:
            assert ex["text"][e["start"]:e["end"]] == e["text"]


def test_tag_targets_on_wordpieces(helpers):
    text = "华为Mate60 发布"
    ex = {"text": text, "entities": [helpers.entity(text, "PRD", 2, 8)], "_file": "m", "_line": 1}
    enc = helpers.fake_bert_encode(text)
    assert enc["tokens"] == ["[CLS]", "华", "为", "mate", "##60", "发", "布", "[SEP]"]
    crf = build_crf(hidden_size=4, labels=["PRD"], scheme="BIOES")
    assert [crf.tags[i] for i in crf.targets(ex, enc)["tags"].tolist()] == ["O", "O", "O", "B-PRD", "E-PRD", "O", "O", "O"]
    soft = build_softmax(hidden_size=4, labels=["PRD"])
    assert soft.targets(ex, enc)["tags"].tolist() == [-100, 0, 0, 1, 2, 0, 0, -100]
    gp = build_global_pointer(hidden_size=4, labels=["PRD"], head_size=4)
    assert gp.targets(ex, enc)["spans"].tolist() == [[0, 3, 4]]
    empty = {"text": text, "entities": [], "_file": "m", "_line": 2}
    assert gp.targets(empty, enc)["spans"].tolist() == [[-100, -100, -100]]


def test_unrepresentable_warned_once_per_new_case(helpers):
    head = build_softmax(hidden_size=4, labels=["X"], boundary="drop")
    text = "Mate60Pro"
    exs = [{"text": text, "entities": [helpers.entity(text, "X", 1, 3)], "_file": "f.txt", "_line": n} for n in (1, 4, 7)]
    encs = [helpers.fake_bert_encode(text) for _ in exs]
    targets = [head.targets(e, enc) for e, enc in zip(exs, encs)]
    batch = helpers.make_batch(exs, encs, targets)
    with pytest.warns(UserWarning, match=r"3 gold entities .* first: f\.txt:1 X 'at'"):
        head(torch.randn(3, batch["input_ids"].size(1), 4), batch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for e, enc in zip(exs, encs):  # same examples again (next epoch): nothing new to report
            head.targets(e, enc)
        head(torch.randn(3, batch["input_ids"].size(1), 4), batch)


@pytest.mark.parametrize("head_name", ["crf", "softmax", "global_pointer"])
def test_boundary_inside_a_token_snaps_and_is_counted(helpers, head_name):
    # "京" ends inside the piece "北京大学": the entity widens to that piece, never to a shifted char span
    text = "去北京大学玩ab"
    offsets = [(0, 0), (0, 1), (1, 5), (5, 6), (6, 8), (0, 0)]  # [CLS] 去 北京大学 玩 ab [SEP]
    enc = {"input_ids": list(range(6)), "attention_mask": [1] * 6, "offset_mapping": offsets}
    ex = {"text": text, "entities": [helpers.entity(text, "LOC", 1, 3), helpers.entity(text, "X", 7, 8)],
          "_file": "f.txt", "_line": 3}
    head = BUILDERS[head_name](hidden_size=8, labels=["LOC", "X"]).eval()
    targets = head.targets(ex, enc)
    assert head.data_counts() == {"entities_snapped": 2, "entities_left_out": 0}
    if head_name == "global_pointer":
        assert targets["spans"].tolist() == [[0, 2, 2], [1, 4, 4]]
    else:
        assert [head.tags[max(t, 0)] for t in targets["tags"].tolist()][1:5] == ["O", "B-LOC", "O", "B-X"]
    with pytest.warns(UserWarning, match=r"2 gold entities have a boundary inside a token .* widened .* "
                                         r"first: f\.txt:3 LOC '北京'"):
        head.flush_warnings()
    head.targets(ex, enc)  # the same example again (next epoch): not counted twice
    assert head.data_counts()["entities_snapped"] == 2
    dropping = BUILDERS[head_name](hidden_size=8, labels=["LOC", "X"], boundary="drop")
    dropped = dropping.targets(ex, enc)
    assert dropping.data_counts() == {"entities_snapped": 0, "entities_left_out": 2}
    if head_name == "global_pointer":
        assert dropped["spans"].tolist() == [[-100, -100, -100]]
    else:
        assert set(dropped["tags"].tolist()) <= {0, -100}
    with pytest.raises(Exception, match="head.boundary='shift'"):
        BUILDERS[head_name](hidden_size=8, labels=["LOC"], boundary="shift")


def padded_vs_single_losses(helpers, head, exs, encs):
    targets = [head.targets(e, enc) for e, enc in zip(exs, encs)]
    batch = helpers.make_batch(exs, encs, targets)
    torch.manual_seed(0)
    hidden = torch.randn(len(exs), batch["input_ids"].size(1), head_hidden(head))
    full = head(hidden, batch).loss
    singles = []
    for i in range(len(exs)):
        one = helpers.make_batch([exs[i]], [encs[i]], [targets[i]])
        singles.append(head(hidden[i:i + 1, : one["input_ids"].size(1)], one).loss)
    return full, torch.stack(singles)


def head_hidden(head):
    return 6


@pytest.mark.parametrize("head_name,kwargs", [("crf", {}), ("crf", {"lstm_layers": 1, "lstm_hidden": 5}),
                                              ("softmax", {}), ("global_pointer", {"head_size": 4})])
def test_loss_is_padding_invariant_and_trains(helpers, head_name, kwargs):
    exs = examples(helpers)
    encs = [helpers.fake_bert_encode(e["text"]) for e in exs]
    builder = BUILDERS[head_name]
    head = builder(hidden_size=6, labels=collect_entity_types(exs), **kwargs).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full, singles = padded_vs_single_losses(helpers, head, exs, encs)
    assert torch.isfinite(full)
    if head_name == "softmax":  # token-mean over the batch: weight rows by their token counts
        counts = torch.tensor([sum(1 for s, e in enc["offset_mapping"] if e > s) for enc in encs], dtype=torch.float)
        assert full.item() == pytest.approx(float((singles.detach() * counts).sum() / counts.sum()), rel=1e-5)
    else:
        assert full.item() == pytest.approx(singles.mean().item(), rel=1e-5)
    full.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in head.parameters() if p.requires_grad)


def test_head_contract_and_param_groups():
    for name, builder in BUILDERS.items():
        spec = getattr(ner_heads, name)
        assert isinstance(spec, HeadSpec) and spec.build is builder, name
        assert (spec.task, spec.label_kind, spec.example_data) == ("ner", "entities", "sample_ner")
        assert spec.collect_labels([{"entities": [{"type": "B"}, {"type": "A"}]}, {"entities": []}]) == ["A", "B"]
        assert not hasattr(builder, "collect_labels") and not hasattr(builder, "example_data")
        head = builder(hidden_size=4, labels=["A", "B"])
        assert isinstance(head, Head), name
        assert head.main_metric == "f1"
    crf = build_crf(hidden_size=4, labels=["A"])
    groups = crf.param_groups()
    assert set(groups) == {"crf"}
    assert {id(p) for p in groups["crf"]} == {id(p) for p in crf.crf.parameters()}


def test_global_pointer_nested_round_trip(helpers):
    text = "北京大学附属医院在北京"
    spans = [("ORG", 0, 8), ("ORG", 0, 4), ("LOC", 0, 2), ("LOC", 9, 11), ("ORG", 4, 8)]
    ex = {"text": text, "entities": [helpers.entity(text, *s) for s in spans], "_file": "m", "_line": 1}
    for enc in (helpers.char_encode(text), helpers.fake_bert_encode(text)):
        head = build_global_pointer(hidden_size=4, labels=["LOC", "ORG"], head_size=4)
        targets = [head.targets(ex, enc)]
        batch = helpers.make_batch([ex], [enc], targets)
        pred = head.decode(perfect_span_scores(head, targets, batch["input_ids"].size(1)), batch)[0]
        assert pred == sorted(ex["entities"], key=lambda e: (e["start"], e["end"], e["type"]))
        assert head.evaluate([pred], [ex])["f1"] == 1.0


def test_crf_eval_report(helpers):
    exs = examples(helpers)[:2]
    head = build_crf(hidden_size=4, labels=collect_entity_types(exs))
    preds = [ex["entities"] for ex in exs]
    preds[1] = preds[1][:1]
    m = head.evaluate(preds, exs)
    assert m["recall"] == pytest.approx(7 / 8) and m["precision"] == 1.0
    assert "LOC" in head.report(m) and "macro avg" in head.report(m)


class TinyEncoder(torch.nn.Module):
    def __init__(self, vocab: dict[str, int], dim: int = 32):
        super().__init__()
        self.vocab = vocab
        self.emb = torch.nn.Embedding(len(vocab) + 1, dim)
        self.conv = torch.nn.Conv1d(dim, dim, kernel_size=5, padding=2)  # context without a slow LSTM

    def ids(self, text):
        return [self.vocab.get(c, 0) for c in text]

    def forward(self, input_ids):
        x = self.emb(input_ids)  # (B, T, dim)
        return x + torch.relu(self.conv(x.transpose(1, 2))).transpose(1, 2)  # (B, T, dim)


@pytest.mark.parametrize("head_name,kwargs", [("crf", {"scheme": "BIOES"}), ("softmax", {}), ("global_pointer", {"head_size": 16})])
def test_tiny_fit_reaches_full_f1(helpers, head_name, kwargs):
    raw = [("张三去北京", [("PER", 0, 2), ("LOC", 3, 5)]), ("李四在上海工作", [("PER", 0, 2), ("LOC", 3, 5)]),
           ("王五来自南京大学", [("PER", 0, 2), ("ORG", 4, 8), ("LOC", 4, 6)]), ("北京很大", [("LOC", 0, 2)]),
           ("今天天气好", [])]
    exs = [{"text": t, "entities": [helpers.entity(t, *s) for s in sp], "_file": "m", "_line": i} for i, (t, sp) in enumerate(raw)]
    if head_name != "global_pointer":  # tagging heads cannot hold the nested LOC
        for ex in exs:
            ex["entities"] = [e for e in ex["entities"] if not (e["type"] == "LOC" and "大学" in ex["text"])]
    torch.manual_seed(0)
    vocab = {c: i + 1 for i, c in enumerate(sorted({c for ex in exs for c in ex["text"]}))}
    encoder = TinyEncoder(vocab)
    builder = BUILDERS[head_name]
    head = builder(hidden_size=32, labels=collect_entity_types(exs), dropout=0.0, **kwargs)
    encs = []
    for ex in exs:
        enc = helpers.char_encode(ex["text"])
        enc["input_ids"] = encoder.ids(ex["text"])
        encs.append(enc)
    batch = helpers.make_batch(exs, encs, [head.targets(e, enc) for e, enc in zip(exs, encs)])
    params = list(encoder.parameters()) + list(head.parameters())
    optim = torch.optim.Adam(params, lr=0.03)
    for _ in range(120):
        optim.zero_grad()
        loss = head(encoder(batch["input_ids"]), batch).loss
        loss.backward()
        optim.step()
    head.eval()
    preds = head.predict(encoder(batch["input_ids"]), batch)
    assert head.evaluate(preds, exs)["f1"] == 1.0, (preds, loss.item())


def test_global_pointer_output_is_capped_for_untrained_models(helpers):
    text = "北京大学附属医院在北京"
    ex = {"text": text, "entities": [], "_file": "m", "_line": 1}
    enc = helpers.fake_bert_encode(text)
    head = build_global_pointer(hidden_size=4, labels=["LOC", "ORG"], head_size=4)
    batch = helpers.make_batch([ex], [enc])
    seq_len = batch["input_ids"].size(1)
    scores = torch.rand(1, 2, seq_len, seq_len) + 0.5  # everything positive
    scores[0, 1, 1, 2] = 5.0  # the best span is among those kept
    pred = head.decode(scores, batch)[0]
    assert len(pred) == 2 * seq_len
    assert {"type": "ORG", "start": 0, "end": 2, "text": "北京"} in pred


def test_softmax_repairs_i_without_b(helpers):
    text = "去北京玩"
    ex = {"text": text, "entities": [helpers.entity(text, "LOC", 1, 3)], "_file": "m", "_line": 1}
    enc = helpers.fake_bert_encode(text)
    head = build_softmax(hidden_size=8, labels=["LOC"]).eval()  # tags: O B-LOC I-LOC
    batch = helpers.make_batch([ex], [enc])
    ids = torch.tensor([[0, 0, 2, 2, 0, 0]])  # [CLS] 去 I-LOC I-LOC 玩 [SEP]: no B-
    with torch.no_grad():
        head.proj.weight.zero_()
        head.proj.weight[:, :3] = torch.eye(3)
        head.proj.bias.zero_()
    pred = head.predict(F.pad(F.one_hot(ids, 3).float(), (0, 5)), batch)
    assert pred == [ex["entities"]] and head.decode_repairs == 1
    metrics = head.evaluate(pred, [ex])
    assert metrics["f1"] == 1.0 and "1 repair(s)" in head.report(metrics)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("head_name", ["crf", "softmax", "global_pointer"])
def test_heads_on_cuda_match_cpu(helpers, head_name):
    exs = examples(helpers)
    encs = [helpers.fake_bert_encode(e["text"]) for e in exs]
    builder = BUILDERS[head_name]
    torch.manual_seed(0)
    head = builder(hidden_size=8, labels=collect_entity_types(exs), **({"lstm_layers": 1} if head_name == "crf" else {})).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = helpers.make_batch(exs, encs, [head.targets(e, enc) for e, enc in zip(exs, encs)])
    hidden = torch.randn(len(exs), batch["input_ids"].size(1), 8)
    cpu_loss, cpu_pred = head(hidden, batch).loss, head.predict(hidden, batch)
    cuda_batch = {k: v.cuda() if torch.is_tensor(v) else v for k, v in batch.items()}
    head.cuda()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = head(hidden.cuda(), cuda_batch).loss
    assert torch.isfinite(loss)
    assert head(hidden.cuda(), cuda_batch).loss.item() == pytest.approx(cpu_loss.item(), rel=1e-3)
    assert head.predict(hidden.cuda(), cuda_batch) == cpu_pred


def test_cluener_record_uses_inclusive_ends_and_keeps_repeated_mentions():
    from zhnlp_ner.common import cluener_record

    text = "张三在北京，李四也在北京。"
    entities = [{"type": "PER", "start": 0, "end": 2, "text": "张三"},
                {"type": "LOC", "start": 3, "end": 5, "text": "北京"},
                {"type": "PER", "start": 6, "end": 8, "text": "李四"},
                {"type": "LOC", "start": 10, "end": 12, "text": "北京"}]
    record = cluener_record({"id": 7, "text": text}, entities)
    assert record == {"id": 7, "label": {"PER": {"张三": [[0, 1]], "李四": [[6, 7]]},
                                         "LOC": {"北京": [[3, 4], [10, 11]]}}}
    assert cluener_record({"id": 8, "text": "无"}, []) == {"id": 8, "label": {}}


def test_every_ner_head_offers_the_cluener_format():
    import zhnlp

    for name in ("crf", "softmax", "global_pointer"):
        head = zhnlp.build_head(name, hidden_size=8, labels=["LOC", "PER"])
        assert "cluener" in head.output_formats, name


def test_softmax_label_smoothing_changes_the_loss_and_is_validated():
    import pytest
    import zhnlp
    from zhnlp.errors import ConfigError

    torch.manual_seed(0)
    plain = zhnlp.build_head("softmax", hidden_size=8, labels=["LOC"], dropout=0.0)
    smooth = zhnlp.build_head("softmax", hidden_size=8, labels=["LOC"], dropout=0.0, label_smoothing=0.2)
    smooth.load_state_dict(plain.state_dict())
    hidden = torch.randn(2, 5, 8)  # (B, T, H)
    batch = {"attention_mask": torch.ones(2, 5, dtype=torch.long), "tags": torch.tensor([[0, 1, 2, 0, 0], [0, 0, 1, 2, 0]])}
    logits = plain(hidden, batch).scores
    expected = torch.nn.functional.cross_entropy(logits.reshape(-1, 3), batch["tags"].reshape(-1), label_smoothing=0.2)
    assert torch.allclose(smooth(hidden, batch).loss, expected)
    assert not torch.allclose(plain(hidden, batch).loss, expected)
    with pytest.raises(ConfigError, match="label_smoothing"):
        zhnlp.build_head("softmax", hidden_size=8, labels=["LOC"], label_smoothing=1.0)
