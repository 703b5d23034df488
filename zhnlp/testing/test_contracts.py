"""Contract tests every installed plugin must pass, built-in and third-party alike.

Run them against everything installed, or against one distribution's plugins::

    pytest --pyargs zhnlp.testing
    ZHNLP_PLUGIN_DIST=my-zhnlp-plugin pytest --pyargs zhnlp.testing

Encoders: the ``Encoder`` protocol on a tiny instance (``EncoderSpec.example_kwargs``), exact
offsets, ``num_special_tokens``, padding, their YAML configs. Heads: the ``HeadSpec`` fields, the
``Head`` protocol on their ``example_data``. Datasets: a ``DatasetSpec`` whose configs build a
reader. Every encoder x every head: one ``fast_dev_run`` training step through the real config
composition and ``zhnlp.train.train``, then prediction from the saved model.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from zhnlp import registry
from zhnlp.config import compose_train_config, config_options
from zhnlp.types import DatasetSpec, EncoderSpec, HeadSpec, ModelOutput, has, missing

DIST = os.environ.get("ZHNLP_PLUGIN_DIST")
TEXTS = ["华为Mate60手机于2023年8月发布", "张伟 在北京大学读书。", "ＡＢＣ银行😀"]


def names(kind: str) -> list[str]:
    """Registered names of ``kind`` (only those of ``$ZHNLP_PLUGIN_DIST`` when it is set)."""
    return sorted(n for n, p in registry.plugins(kind).items() if DIST is None or p.distribution == DIST)


ENCODERS, HEADS, DATASETS = names("encoders"), names("heads"), names("datasets")
PAIRS = [(e, h) for e in sorted(registry.plugins("encoders")) for h in sorted(registry.plugins("heads"))
         if DIST is None or DIST in (registry.plugins("encoders")[e].distribution, registry.plugins("heads")[h].distribution)]


def tiny_encoder(name: str, tmp_path: Path):
    """A tiny instance of encoder ``name`` (fitted on a few texts) and the kwargs that built it."""
    spec = registry.get("encoders", name)
    kwargs = spec.example_kwargs(tmp_path) if spec.example_kwargs else {}
    encoder = registry.build_encoder({"name": name, **kwargs})
    if has(encoder, "fit"):
        encoder.fit(TEXTS * 2)
    return encoder, kwargs


def pad(enc: dict, keys: list[str]) -> dict:
    lengths = [len(ids) for ids in enc["input_ids"]]
    width = max(lengths)
    return {k: torch.tensor([list(v) + [0] * (width - len(v)) for v in enc[k]]) for k in keys}


# ---- encoders -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ENCODERS)
def test_encoder_spec_and_protocol(name, tmp_path):
    assert isinstance(registry.get("encoders", name), EncoderSpec)
    encoder, _ = tiny_encoder(name, tmp_path)
    assert isinstance(encoder, torch.nn.Module)
    assert missing(encoder, "encoder") == [], f"{name} lacks {missing(encoder, 'encoder')}"
    assert isinstance(encoder.hidden_size, int) and encoder.hidden_size > 0
    assert isinstance(encoder.max_length, int) and encoder.max_length > 8
    assert isinstance(encoder.num_special_tokens, int) and encoder.num_special_tokens >= 0


@pytest.mark.parametrize("name", ENCODERS)
def test_encoder_offsets_specials_and_padding(name, tmp_path):
    encoder, _ = tiny_encoder(name, tmp_path)
    enc = encoder.tokenizer(TEXTS, return_offsets_mapping=True, add_special_tokens=True, truncation=False)
    for text, ids, mask, offsets in zip(TEXTS, enc["input_ids"], enc["attention_mask"], enc["offset_mapping"]):
        assert len(ids) == len(mask) == len(offsets)
        for start, end in offsets:  # every token points into the original string
            assert 0 <= start <= end <= len(text)
        specials = sum(1 for s, e in offsets if (s, e) == (0, 0))
        assert specials == encoder.num_special_tokens, f"{text!r}: {specials} special tokens, declared {encoder.num_special_tokens}"
    single = encoder.tokenizer(TEXTS[0])
    assert list(single["input_ids"]) == list(enc["input_ids"][0])
    keys = [k for k in enc if k != "offset_mapping"]
    batch = pad(enc, keys)
    first = len(enc["input_ids"][0])
    encoder.eval()
    with torch.no_grad():
        hidden = encoder(**batch)  # (B, T, H)
        alone = encoder(**{k: v[:1, :first] for k, v in batch.items()})
    assert isinstance(hidden, torch.Tensor), "forward returns the (B, T, H) tensor"
    assert hidden.shape == (len(TEXTS), batch["input_ids"].size(1), encoder.hidden_size)
    assert torch.isfinite(hidden).all()
    torch.testing.assert_close(hidden[0, :first], alone[0], atol=1e-5, rtol=1e-4)  # padding changes nothing


@pytest.mark.parametrize("name", ENCODERS)
def test_encoder_config_composes(name):
    cfg = compose_train_config([f"encoder={name}"])
    assert cfg["encoder"]["name"] == name, f"encoder/{name}.yaml must say `name: {name}`"
    enc_name, params = registry.split_config("encoders", cfg["encoder"])
    registry.check_params("encoders", enc_name, registry.get("encoders", name).build, params, "encoder")


# ---- heads --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", HEADS)
def test_head_spec(name):
    spec = registry.get("heads", name)
    assert isinstance(spec, HeadSpec)
    assert spec.task and isinstance(spec.task, str)
    assert isinstance(spec.label_kind, str) and spec.label_kind
    data = compose_train_config([f"data={spec.example_data}"])["data"]
    dataset = registry.get("datasets", data["name"])
    assert dataset.label_kind in (None, spec.label_kind), f"example_data {spec.example_data} gives {dataset.label_kind}"
    cfg = compose_train_config([f"head={name}"])
    assert cfg["head"]["name"] == name, f"head/{name}.yaml must say `name: {name}`"


@pytest.mark.parametrize("name", HEADS)
def test_head_protocol_on_its_example_data(name):
    from zhnlp.data.collate import collate
    from zhnlp.model import TaskModel

    spec = registry.get("heads", name)
    cfg = compose_train_config([f"head={name}", f"data={spec.example_data}", "encoder=char", "encoder.char_dim=8",
                                "encoder.bigram_dim=8", "encoder.seg_dim=4"])
    reader = registry.build_reader(cfg["data"])
    examples = reader(cfg["data"]["train_path"], key="data.train_path")[:6]
    labels = spec.collect_labels(examples)
    assert isinstance(labels, list) and all(isinstance(x, str) for x in labels)
    model = TaskModel.build(cfg["encoder"], cfg["head"], labels, examples)
    head = model.head
    assert missing(head, "head") == [], f"{name} lacks {missing(head, 'head')}"
    batch = collate(model.features(examples))
    out = model(batch)
    assert isinstance(out, ModelOutput) and out.loss is not None and out.loss.dim() == 0
    out.loss.backward()
    preds = model.predict_batch(batch)
    assert len(preds) == len(examples)
    json.dumps(preds, ensure_ascii=False)  # predictions are JSON-serialisable
    metrics = head.evaluate(preds, examples)
    assert head.main_metric in metrics and all(isinstance(v, float) for v in metrics.values())


# ---- datasets -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", DATASETS)
def test_dataset_spec(name):
    spec = registry.get("datasets", name)
    assert isinstance(spec, DatasetSpec)
    kinds = {registry.get("heads", h).label_kind for h in registry.plugins("heads")}
    assert spec.label_kind is None or spec.label_kind in kinds, \
        f"{name} gives {spec.label_kind!r} examples, which no installed head learns from ({sorted(kinds)})"
    configs = [option for option in config_options("data")
               if compose_train_config([f"data={option}"])["data"].get("name") == name]
    for option in configs:  # every data= config that names this dataset builds its reader
        assert callable(registry.build_reader(compose_train_config([f"data={option}"])["data"]))


# ---- everything together ------------------------------------------------------------------------------
@pytest.mark.parametrize("encoder,head", PAIRS)
def test_every_encoder_trains_under_every_head(encoder, head, tmp_path):
    import zhnlp
    from zhnlp.train import train

    spec = registry.get("heads", head)
    _, kwargs = tiny_encoder(encoder, tmp_path)
    overrides = [f"encoder={encoder}", f"head={head}", f"data={spec.example_data}",
                 "trainer.fast_dev_run=true", "trainer.enable_progress_bar=false", "trainer.accelerator=cpu"]
    overrides += [f"encoder.{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in kwargs.items()]
    cfg = compose_train_config(overrides)
    metrics = train(cfg, tmp_path / "run")
    assert any(k.startswith("val/") for k in metrics), metrics
    assert all(v == v for v in metrics.values())  # no NaN
    assert (tmp_path / "run" / "metrics.json").is_file()
    model = zhnlp.load(tmp_path / "run")
    assert len(model.predict(TEXTS)) == len(TEXTS)
    blank = model.predict(["", " "])  # a batch of empty texts predicts too (one masked position)
    assert len(blank) == 2
    json.dumps(blank, ensure_ascii=False)
