"""The head on real (tiny) encoders: a from-scratch TextCNN and a random tiny BERT, single texts
and sentence pairs, every pair mode; features built by the core's make_features + collate."""
from __future__ import annotations

import pytest
import torch

import zhnlp
from zhnlp import registry
from zhnlp.data.collate import collate
from zhnlp.data.features import make_features
from zhnlp.errors import ConfigError
from zhnlp_classify.heads import build_classification

PAIRS = [{"text": "今天天气很好", "text_b": "天气不错", "label": "same"},
         {"text": "股市大涨", "text_b": "球队输了比赛", "label": "diff"},
         {"text": "他去北京", "text_b": "他到北京去了", "label": "same"}]


def encoder(name: str, tmp_path=None, **kwargs):
    """A registered encoder, skipped when its plugin does not import."""
    if name not in registry.plugins("encoders") or not registry.loads("encoders", name):
        pytest.skip(f"encoder {name} is not available")
    spec = registry.get("encoders", name)
    if spec.example_kwargs is not None:
        kwargs = {**spec.example_kwargs(tmp_path), **kwargs}
    return zhnlp.build_encoder(name, **kwargs)


def textcnn():
    enc = encoder("textcnn", char_dim=16, bigram_dim=8, seg_dim=4, filters=8)
    enc.fit([t for ex in PAIRS for t in (ex["text"], ex["text_b"])])
    return enc


def features(examples, enc, head):
    return make_features(examples, enc.tokenizer, head, 64, enc.num_special_tokens)


def run(enc, head, examples):
    torch.manual_seed(0)
    batch = collate(features(examples, enc, head))
    hidden = enc(**{k: batch[k] for k in batch["encoder_keys"]})  # (B, T, H)
    out = head(hidden, batch)
    out.loss.backward()
    head.eval()
    preds = head.predict(hidden.detach(), batch)
    return out, preds, batch


@pytest.mark.parametrize("pair_mode", ["joint", "siamese", "interaction"])
def test_from_scratch_pairs(pair_mode):
    enc = textcnn()
    head = build_classification(enc.hidden_size, ["diff", "same"], pair_mode=pair_mode, pooling="auto")
    out, preds, batch = run(enc, head, PAIRS)
    assert "token_type_ids" in batch and torch.isfinite(out.loss)
    assert head.pooling_kind(batch) == "max"  # no [CLS] in from-scratch encodings
    assert [set(p) for p in preds] == [{"label", "prob", "top_k", "probs"}] * 3


def test_from_scratch_single_texts_cls_is_refused():
    enc = textcnn()
    singles = [{"text": ex["text"], "label": ex["label"]} for ex in PAIRS]
    with pytest.raises(ConfigError, match="pooling=cls"):
        features(singles, enc, build_classification(enc.hidden_size, ["diff", "same"], pooling="cls"))


@pytest.mark.parametrize("pair_mode", ["joint", "siamese", "interaction"])
def test_tiny_bert_pairs(tmp_path, pair_mode):
    enc = encoder("bert_wwm", tmp_path)
    head = build_classification(enc.hidden_size, ["diff", "same"], pair_mode=pair_mode, mode="multi")
    examples = [{**ex, "label": [ex["label"]]} for ex in PAIRS]
    out, preds, batch = run(enc, head, examples)
    assert torch.isfinite(out.loss) and out.binary
    assert head.pooling_kind(batch) == ("cls" if pair_mode == "joint" else "max")
    assert all(set(p["probs"]) == {"diff", "same"} for p in preds)
