"""Sentence pairs (text_a, text_b) through the real config composition and ``zhnlp.train.train``:
a tiny random BERT (joint [CLS] pooling, token type ids) and from-scratch encoders (siamese /
interaction). Each run must see segment-B token types in the encoder and write a run folder."""
from __future__ import annotations

import json

import pytest

from zhnlp import registry
from zhnlp.config import compose_train_config
from zhnlp.train import train

ROWS = [("same", "今天天气很好", "天气不错"), ("diff", "股市大涨", "球队输了比赛"),
        ("same", "他去北京", "他到北京去了"), ("diff", "我喜欢猫", "油价下跌了"),
        ("same", "电影很好看", "这部片子不错"), ("diff", "明天下雨", "公司发布新手机")]


@pytest.fixture
def pair_data(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("label\ttext_a\ttext_b\n" + "".join(f"{l}\t{a}\t{b}\n" for l, a, b in ROWS * 3),
                    encoding="utf-8")
    return [f"data.train_path={path}", f"data.dev_path={path}", f"data.test_path={path}",
            "+data.reader.text_b_column=text_b", "data.batch_size=6"]


def encoder_class(name: str, tmp_path, **kwargs) -> type:
    """The class of a registered encoder (built once, tiny), skipped when its plugin does not import."""
    if name not in registry.plugins("encoders") or not registry.loads("encoders", name):
        pytest.skip(f"encoder {name} is not available")
    spec = registry.get("encoders", name)
    if spec.example_kwargs is not None:
        kwargs = {**spec.example_kwargs(tmp_path), **kwargs}
    return type(registry.build_encoder({"name": name, **kwargs}))


def spy_token_types(monkeypatch, cls) -> list:
    """Record the token_type_ids every forward call of ``cls`` receives."""
    seen, forward = [], cls.forward

    def spy(self, input_ids, attention_mask, token_type_ids=None, **features):
        seen.append(token_type_ids)
        return forward(self, input_ids, attention_mask, token_type_ids, **features)

    monkeypatch.setattr(cls, "forward", spy)
    return seen


def check_run(run_dir, metrics, seen):
    assert seen and all(t is not None and int(t.max()) == 1 for t in seen)  # segment B reached the encoder
    assert {"val/acc", "test/acc", "test/macro_f1"} <= set(metrics)
    rows = [json.loads(x) for x in (run_dir / "predictions" / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(ROWS) * 3 and all(r["text_b"] for r in rows)
    assert (run_dir / "confusion_matrix.png").is_file()
    assert (run_dir / "model" / "zhnlp.json").is_file()


def test_tiny_bert_pairs_train_joint(tmp_path, pair_data, monkeypatch):
    cls = encoder_class("bert_wwm", tmp_path)
    tiny = registry.get("encoders", "bert_wwm").example_kwargs(tmp_path)["pretrained"]
    seen = spy_token_types(monkeypatch, cls)
    cfg = compose_train_config(["task=classify", "data=sample_cls", *pair_data, "encoder=bert_wwm",
                                f"encoder.pretrained={tiny}", "head.pair_mode=joint", "trainer.max_epochs=1",
                                "trainer.accelerator=cpu", "trainer.enable_progress_bar=false"])
    metrics = train(cfg, tmp_path / "run")
    check_run(tmp_path / "run", metrics, seen)


@pytest.mark.parametrize("encoder,pair_mode", [("textcnn", "siamese"), ("bilstm", "interaction"),
                                               ("charword", "siamese")])
def test_from_scratch_pairs_train(tmp_path, pair_data, monkeypatch, encoder, pair_mode):
    seen = spy_token_types(monkeypatch, encoder_class(encoder, tmp_path))
    cfg = compose_train_config(["task=classify", "data=sample_cls", *pair_data, f"encoder={encoder}",
                                "encoder.char_dim=16", "encoder.bigram_dim=8", "encoder.seg_dim=4",
                                f"head.pair_mode={pair_mode}", "head.pooling=max", "trainer.max_epochs=1",
                                "trainer.accelerator=cpu", "trainer.enable_progress_bar=false"])
    metrics = train(cfg, tmp_path / "run")
    check_run(tmp_path / "run", metrics, seen)
