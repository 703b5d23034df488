"""Bad input gives a ZhnlpError that names the file or key and says how to fix it."""
from __future__ import annotations

import json
from pathlib import Path

import huggingface_hub.constants
import pytest
import torch

from zhnlp.errors import ConfigError, ZhnlpError
from zhnlp_transformers import encoders
from zhnlp.weights import read_weights
from zhnlp_transformers.tiny import write_checkpoint


@pytest.fixture
def bert_dir(tmp_path) -> Path:
    return write_checkpoint(tmp_path / "bert", "bert")


@pytest.mark.parametrize("missing", ["config.json", "vocab.txt"])
def test_missing_config_or_vocab(bert_dir, missing):
    (bert_dir / missing).unlink()
    with pytest.raises(ZhnlpError, match=missing) as info:
        encoders.build_bert_wwm(pretrained=str(bert_dir))
    assert str(bert_dir / missing) in str(info.value)


def test_missing_weights_file(bert_dir):
    (bert_dir / "model.safetensors").unlink()
    with pytest.raises(ConfigError, match=r"model\.safetensors or pytorch_model\.bin"):
        encoders.build_bert_wwm(pretrained=str(bert_dir))
    encoders.build_bert_wwm(pretrained=str(bert_dir), weights=False)  # fine without weights


def test_missing_directory(tmp_path):
    with pytest.raises(ConfigError, match="directory not found"):
        encoders.build_bert_wwm(pretrained=str(tmp_path / "nope"))


@pytest.fixture
def empty_hf_cache(tmp_path, monkeypatch):
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    return cache


@pytest.mark.parametrize("builder", [encoders.build_bert_wwm, encoders.build_roberta_wwm,
                                     encoders.build_ernie, encoders.build_albert_zh])
def test_hub_id_offline(empty_hf_cache, builder):
    """The default hub ids are not cached here and must not be downloaded."""
    import inspect

    default = inspect.signature(builder).parameters["pretrained"].default
    with pytest.raises(ConfigError) as info:
        builder()
    message = str(info.value)
    assert default in message and "offline" in message and "encoder.pretrained=" in message
    assert "config.json" in message and "vocab.txt" in message


def test_hub_id_found_in_local_cache(empty_hf_cache, tmp_path):
    """A hub id already in the HF cache loads from the cached snapshot without network."""
    snapshot = empty_hf_cache / "models--someorg--tiny-bert" / "snapshots" / ("a" * 40)
    write_checkpoint(snapshot, "bert")
    (empty_hf_cache / "models--someorg--tiny-bert" / "refs").mkdir()
    (empty_hf_cache / "models--someorg--tiny-bert" / "refs" / "main").write_text("a" * 40)
    encoder = encoders.build_bert_wwm(pretrained="someorg/tiny-bert")
    assert encoder.hidden_size == 32


def test_weights_of_another_architecture(tmp_path, bert_dir):
    albert = write_checkpoint(tmp_path / "albert", "albert")
    (bert_dir / "model.safetensors").unlink()
    (bert_dir / "model.safetensors").write_bytes((albert / "model.safetensors").read_bytes())
    with pytest.raises(ConfigError) as info:
        encoders.build_bert_wwm(pretrained=str(bert_dir))
    message = str(info.value)
    assert str(bert_dir / "model.safetensors") in message
    assert "missing" in message and "unexpected" in message and "encoder.layer.0" in message


def test_weights_of_another_size(tmp_path, bert_dir):
    bigger = write_checkpoint(tmp_path / "big", "bert", size={
        "hidden_size": 48, "num_hidden_layers": 2, "num_attention_heads": 2,
        "intermediate_size": 64, "max_position_embeddings": 128})
    (bert_dir / "model.safetensors").write_bytes((bigger / "model.safetensors").read_bytes())
    with pytest.raises(ConfigError, match="wrong shape"):
        encoders.build_bert_wwm(pretrained=str(bert_dir))


def test_legacy_bin_with_a_missing_layer(tmp_path):
    legacy = write_checkpoint(tmp_path / "legacy", "bert", legacy=True, with_head=False)
    state = torch.load(legacy / "pytorch_model.bin", weights_only=True)
    state = {k: v for k, v in state.items() if ".layer.1." not in k}
    torch.save(state, legacy / "pytorch_model.bin")
    with pytest.raises(ConfigError, match=r"pytorch_model\.bin.*missing.*encoder\.layer\.1\."):
        encoders.build_bert_wwm(pretrained=str(legacy))


def _set_model_type(directory: Path, value):
    config = json.loads((directory / "config.json").read_text())
    config["model_type"] = value
    (directory / "config.json").write_text(json.dumps(config))


def test_unsupported_model_type(bert_dir):
    _set_model_type(bert_dir, "gpt2")
    with pytest.raises(ConfigError) as info:
        encoders.build_bert_wwm(pretrained=str(bert_dir))
    message = str(info.value)
    assert "model_type" in message and "'gpt2'" in message and "config.json" in message
    assert "'bert'" in message and "'ernie'" in message and "'albert'" in message


@pytest.mark.parametrize("model_type, hint", [("ernie", "encoder=ernie"),
                                              ("nezha", "encoder=nezha"),
                                              ("roberta", "BERT architecture")])
def test_model_type_of_another_encoder(bert_dir, model_type, hint):
    _set_model_type(bert_dir, model_type)
    with pytest.raises(ConfigError, match=hint):
        encoders.build_roberta_wwm(pretrained=str(bert_dir))


def test_config_without_model_type_is_accepted(bert_dir):
    config = json.loads((bert_dir / "config.json").read_text())
    del config["model_type"]
    (bert_dir / "config.json").write_text(json.dumps(config))
    assert encoders.build_bert_wwm(pretrained=str(bert_dir)).hidden_size == 32


def test_invalid_config_json(bert_dir):
    (bert_dir / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="config.json"):
        encoders.build_bert_wwm(pretrained=str(bert_dir))


def test_vocab_larger_than_config(bert_dir):
    with open(bert_dir / "vocab.txt", "a", encoding="utf-8") as f:
        f.write("".join(f"[extra{i}]\n" for i in range(50)))
    with pytest.raises(ConfigError, match="vocab_size"):
        encoders.build_bert_wwm(pretrained=str(bert_dir))


class NotATensor:  # module-level so that an unrestricted pickle could rebuild it
    pass


def test_pickled_objects_are_refused(tmp_path):
    directory = tmp_path / "evil"
    directory.mkdir()
    torch.save({"bert.x": NotATensor()}, directory / "pytorch_model.bin")
    with pytest.raises(ConfigError, match=r"pytorch_model\.bin.*NotATensor.*weights_only"):
        read_weights(directory)


@pytest.mark.parametrize("kwargs, match", [({"freeze": "layers"}, "encoder.freeze"),
                                           ({"freeze_layers": 3}, "freeze_layers"),
                                           ({"freeze_layers": -1}, "freeze_layers")])
def test_bad_freeze_options(bert_dir, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        encoders.build_bert_wwm(pretrained=str(bert_dir), weights=False, **kwargs)


def test_task_type_ids_on_bert(bert_dir):
    encoder = encoders.build_bert_wwm(pretrained=str(bert_dir), weights=False)
    ids = torch.tensor([[2, 10, 3]])
    with pytest.raises(ConfigError, match="task_type_ids"):
        encoder(ids, torch.ones_like(ids), task_type_ids=torch.zeros_like(ids))
