"""Contract tests every installed plugin must pass (built-in and third-party alike).

Encoders: the Encoder protocol on a tiny instance (``builder.example_kwargs(tmp_dir)``), exact
offsets, padding, config file consistency. Every encoder x every head: one ``fast_dev_run``
training step through the real config composition and ``zhnlp.train.train``.
Heads name the bundled data they run on with ``builder.example_data`` (a ``data=`` config name).
"""
from __future__ import annotations

import inspect
import json

import pytest
import torch
from hydra import compose, initialize_config_module
from hydra.core.global_hydra import GlobalHydra

from zhnlp import registry
from zhnlp.builders import is_meta_key
from zhnlp.config import register_resolvers, to_plain
from zhnlp.searchpath import register
from zhnlp.types import Encoder, Head, last_hidden

ENCODERS = sorted(registry.plugins("encoders"))
HEADS = sorted(registry.plugins("heads"))
TEXTS = ["华为Mate60手机于2023年8月发布", "张伟 在北京大学读书。", "ＡＢＣ银行😀"]


def tiny_encoder(name, tmp_path):
    builder = registry.get("encoders", name)
    kwargs = builder.example_kwargs(tmp_path) if hasattr(builder, "example_kwargs") else {}
    encoder = builder(**kwargs)
    if hasattr(encoder, "fit"):
        encoder.fit(TEXTS * 2)
    return encoder, kwargs


def compose_config(overrides: list[str]):
    register()
    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_module("zhnlp_conf", version_base="1.3"):
        return compose("train", overrides=overrides)


@pytest.mark.parametrize("name", ENCODERS)
def test_encoder_contract(name, tmp_path):
    encoder, _ = tiny_encoder(name, tmp_path)
    assert isinstance(encoder, torch.nn.Module) and isinstance(encoder, Encoder)
    assert isinstance(encoder.hidden_size, int) and encoder.hidden_size > 0
    enc = encoder.tokenizer(TEXTS, return_offsets_mapping=True, add_special_tokens=True, truncation=False)
    for text, ids, mask, offsets in zip(TEXTS, enc["input_ids"], enc["attention_mask"], enc["offset_mapping"]):
        assert len(ids) == len(mask) == len(offsets)
        for start, end in offsets:  # every token points into the original string
            assert 0 <= start <= end <= len(text)
    single = encoder.tokenizer(TEXTS[0])
    assert list(single["input_ids"]) == list(enc["input_ids"][0])
    lengths = [len(ids) for ids in enc["input_ids"]]
    T = max(lengths)
    batch = {k: torch.tensor([list(v) + [0] * (T - len(v)) for v in enc[k]])
             for k in enc if k not in ("offset_mapping",)}
    encoder.eval()
    with torch.no_grad():
        hidden = last_hidden(encoder(**batch))  # (B, T, H)
        alone = last_hidden(encoder(**{k: v[:1, : lengths[0]] for k, v in batch.items()}))
    assert hidden.shape == (len(TEXTS), T, encoder.hidden_size)
    assert torch.isfinite(hidden).all()
    # padding a row must not change its real positions
    torch.testing.assert_close(hidden[0, : lengths[0]], alone[0], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", ENCODERS)
def test_encoder_config_matches_builder(name):
    cfg = compose_config([f"encoder={name}"])
    builder = registry.get("encoders", name)
    assert cfg.encoder._target_.rsplit(".", 1)[1] == builder.__name__
    keys = {k for k in cfg.encoder if not is_meta_key(k)}
    params = inspect.signature(builder).parameters
    assert keys <= set(params), f"encoder/{name}.yaml has keys the builder does not take: {keys - set(params)}"


@pytest.mark.parametrize("head", HEADS)
def test_head_names_example_data(head):
    builder = registry.get("heads", head)
    assert hasattr(builder, "collect_labels"), "head builders carry collect_labels(examples)"
    assert hasattr(builder, "example_data"), "head builders carry example_data (a data= config name)"


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("name", ENCODERS)
def test_every_encoder_trains_under_every_head(name, head, tmp_path):
    from zhnlp.train import train

    builder = registry.get("heads", head)
    _, kwargs = tiny_encoder(name, tmp_path)
    overrides = [f"encoder={name}", f"head={head}", f"data={builder.example_data}",
                 "trainer.fast_dev_run=true", "trainer.enable_progress_bar=false", "trainer.accelerator=cpu"]
    overrides += [f"encoder.{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in kwargs.items()]
    cfg = to_plain(compose_config(overrides))
    metrics = train(cfg, tmp_path / "run")
    assert any(k.startswith("val/") for k in metrics), metrics
    assert all(v == v for v in metrics.values())  # no NaN
    assert (tmp_path / "run" / "metrics.json").is_file()
