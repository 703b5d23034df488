"""The head on real (tiny) encoders: a from-scratch TextCNN and a random tiny BERT, single texts
and sentence pairs, every pair mode; features built by the core's make_features + collate."""
from __future__ import annotations

import pytest
import torch

from zhnlp.data.collate import collate
from zhnlp.data.datamodule import make_features
from zhnlp.errors import ConfigError
from zhnlp.types import last_hidden
from zhnlp_classify.heads import build_classification

PAIRS = [{"text": "今天天气很好", "text_b": "天气不错", "label": "same"},
         {"text": "股市大涨", "text_b": "球队输了比赛", "label": "diff"},
         {"text": "他去北京", "text_b": "他到北京去了", "label": "same"}]


def textcnn():
    classic = pytest.importorskip("zhnlp_classic.encoders")
    enc = classic.build_textcnn(**classic.build_textcnn.example_kwargs(None))
    enc.fit([t for ex in PAIRS for t in (ex["text"], ex["text_b"])])
    return enc


def tiny_bert(tmp_path):
    transformers_plugin = pytest.importorskip("zhnlp_transformers.encoders")
    build = transformers_plugin.build_bert_wwm
    return build(**build.example_kwargs(tmp_path))


def run(encoder, head, examples):
    torch.manual_seed(0)
    batch = collate(make_features(examples, encoder.tokenizer, head, 64))
    hidden = last_hidden(encoder(**{k: batch[k] for k in batch["encoder_keys"]}))  # (B, T, H)
    out = head(hidden, batch)
    out["loss"].backward()
    head.eval()
    preds = head.predict(hidden.detach(), batch)
    return out, preds, batch


@pytest.mark.parametrize("pair_mode", ["joint", "siamese", "interaction"])
def test_from_scratch_pairs(pair_mode):
    enc = textcnn()
    head = build_classification(enc.hidden_size, ["diff", "same"], pair_mode=pair_mode, pooling="auto")
    out, preds, batch = run(enc, head, PAIRS)
    assert "token_type_ids" in batch and torch.isfinite(out["loss"])
    assert head.pooling_kind(batch) == "max"  # no [CLS] in from-scratch encodings
    assert [set(p) for p in preds] == [{"label", "prob", "top_k"}] * 3


def test_from_scratch_single_texts_cls_is_refused():
    enc = textcnn()
    singles = [{"text": ex["text"], "label": ex["label"]} for ex in PAIRS]
    with pytest.raises(ConfigError, match="pooling=cls"):
        make_features(singles, enc.tokenizer, build_classification(enc.hidden_size, ["diff", "same"], pooling="cls"), 64)


@pytest.mark.parametrize("pair_mode", ["joint", "siamese", "interaction"])
def test_tiny_bert_pairs(tmp_path, pair_mode):
    enc = tiny_bert(tmp_path)
    head = build_classification(enc.hidden_size, ["diff", "same"], pair_mode=pair_mode, mode="multi")
    examples = [{**ex, "label": [ex["label"]]} for ex in PAIRS]
    out, preds, batch = run(enc, head, examples)
    assert torch.isfinite(out["loss"])
    assert head.pooling_kind(batch) == ("cls" if pair_mode == "joint" else "max")
    assert all(set(p["probs"]) == {"diff", "same"} for p in preds)
