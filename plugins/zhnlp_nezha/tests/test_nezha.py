"""NEZHA: parity with transformers 4.x, checkpoint handling, freezing, assets, tokenizer.

The reference outputs in fixtures/ were made by make_reference_fixture.py with transformers
4.44.2 (the last line that ships NezhaModel is 4.x); see that script for the exact command.
"""
from __future__ import annotations

import inspect
import json
import math
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from zhnlp import registry
from zhnlp.builders import is_meta_key
from zhnlp.errors import ConfigError, ZhnlpError
from zhnlp.types import Encoder, EncoderSpec, MaskedLM, missing
from zhnlp.weights import read_weights
from zhnlp_nezha.encoder import build_nezha, nezha
from zhnlp_nezha.modeling_nezha import (
    NezhaConfig,
    NezhaForMaskedLM,
    relative_position_index,
    sinusoid_table,
)

FIXTURES = Path(__file__).parent / "fixtures"
INPUTS = json.loads((FIXTURES / "inputs.json").read_text(encoding="utf-8"))
EXPECTED = load_file(str(FIXTURES / "expected.safetensors"))
TOLERANCE = 1e-5


def fixture_batch() -> dict[str, torch.Tensor]:
    return {k: torch.tensor(INPUTS[k]) for k in ("input_ids", "attention_mask", "token_type_ids")}


def checkpoint_copy(tmp_path: Path, layout: str = "bare") -> Path:
    """A writable copy of a fixture checkpoint, with vocab.txt beside it."""
    directory = tmp_path / layout
    shutil.copytree(FIXTURES / layout, directory)
    shutil.copyfile(FIXTURES / "vocab.txt", directory / "vocab.txt")
    return directory


def run(encoder, batch=None) -> torch.Tensor:
    encoder.eval()
    with torch.inference_mode():
        return encoder(**(batch or fixture_batch()))  # (B, T, H)


# ------------------------------------------------------------------ parity with transformers 4.x


@pytest.mark.parametrize(
    "layout", ["mlm", "bare"], ids=["ForMaskedLM-bin-prefixed", "Model-safetensors"]
)
def test_matches_transformers_4_reference(tmp_path, layout):
    encoder = build_nezha(pretrained=str(checkpoint_copy(tmp_path, layout)))
    out = run(encoder)
    assert out.shape == EXPECTED[layout].shape == (3, 20, 32)
    assert (out - EXPECTED[layout]).abs().max().item() <= TOLERANCE


def test_legacy_gamma_beta_names_load(tmp_path):
    directory = checkpoint_copy(tmp_path, "mlm")
    state = torch.load(directory / "pytorch_model.bin", weights_only=True)
    legacy = {"LayerNorm.weight": "LayerNorm.gamma", "LayerNorm.bias": "LayerNorm.beta"}
    renamed = {}
    for key, value in state.items():
        for new, old in legacy.items():
            key = key.replace(new, old)
        renamed[key] = value
    assert any(k.endswith(".gamma") for k in renamed)
    torch.save(renamed, directory / "pytorch_model.bin")
    out = run(build_nezha(pretrained=str(directory)))
    assert (out - EXPECTED["mlm"]).abs().max().item() <= TOLERANCE


def test_masked_lm_head_matches_reference():
    config = NezhaConfig.from_json_file(FIXTURES / "mlm" / "config.json")
    model = NezhaForMaskedLM(config).eval()
    model.load_state_dict(read_weights(FIXTURES / "mlm"), strict=True)  # every key, cls.* too
    with torch.inference_mode():
        logits = model(**fixture_batch())  # (B, T, V)
    assert (logits - EXPECTED["mlm_logits"]).abs().max().item() <= 1e-4


def test_fixture_exercises_clipping(tmp_path):
    """Sequences of 20 tokens with K=8: a model without clipping (K=19) must differ."""
    directory = checkpoint_copy(tmp_path, "bare")
    config = json.loads((directory / "config.json").read_text())
    assert len(INPUTS["input_ids"][0]) > config["max_relative_position"] + 1
    config["max_relative_position"] = 19
    (directory / "config.json").write_text(json.dumps(config))
    out = run(build_nezha(pretrained=str(directory)))
    assert (out - EXPECTED["bare"]).abs().max().item() > 1e-2


def test_relative_positions_brute_force():
    length, k, depth = 13, 4, 6
    index = relative_position_index(length, k)
    table = sinusoid_table(2 * k + 1, depth)
    for i in range(length):
        for j in range(length):
            assert index[i, j].item() == min(max(j - i, -k), k) + k
    for p in range(2 * k + 1):
        for c in range(depth // 2):
            angle = p / 10000 ** (2 * c / depth)
            assert table[p, 2 * c].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert table[p, 2 * c + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)


# ------------------------------------------------------------------ contract, tokenizer, assets


def test_encoder_contract(tmp_path):
    encoder = build_nezha(pretrained=str(checkpoint_copy(tmp_path)))
    assert isinstance(encoder, Encoder) and missing(encoder, "encoder") == []
    assert encoder.hidden_size == 32 and encoder.max_length == 64 and encoder.num_special_tokens == 2
    (table,) = encoder.input_embeddings()
    assert table is encoder.model.embeddings.word_embeddings.weight
    batch = fixture_batch()
    no_types = run(encoder, {**batch, "token_type_ids": torch.zeros_like(batch["token_type_ids"])})
    assert torch.equal(run(encoder, {**batch, "token_type_ids": None}), no_types)
    assert torch.equal(run(encoder, {**batch, "bigram_ids": batch["input_ids"]}), run(encoder))


def test_tokenizer_matches_bert_tokenizer(tmp_path):
    from transformers.models.bert import BertTokenizerLegacy

    directory = checkpoint_copy(tmp_path)
    encoder = build_nezha(pretrained=str(directory))
    text = INPUTS["sentence"]
    assert text == "华为Mate60手机于2023年8月发布"
    encoding = encoder.tokenizer(text, return_offsets_mapping=True)
    assert encoding["input_ids"] == INPUTS["sentence_ids"]  # transformers 4.44 BertTokenizer
    legacy = BertTokenizerLegacy(vocab_file=str(directory / "vocab.txt"))
    assert encoding["input_ids"] == legacy(text)["input_ids"]
    tokens = encoder.tokenizer.convert_ids_to_tokens(encoding["input_ids"])
    assert "[UNK]" not in tokens and "mate" in tokens
    for token, (start, end) in zip(tokens, encoding["offset_mapping"]):
        if token in ("[CLS]", "[SEP]"):
            assert (start, end) == (0, 0)
        else:
            assert text[start:end].lower() == token.removeprefix("##")


def test_save_assets_round_trip(tmp_path):
    encoder = build_nezha(pretrained=str(checkpoint_copy(tmp_path, "mlm")))
    kwargs = encoder.save_assets(str(tmp_path / "assets"))
    assert kwargs == {"pretrained": str(tmp_path / "assets"), "weights": False}
    assert sorted(p.name for p in (tmp_path / "assets").iterdir()) == ["config.json", "vocab.txt"]
    rebuilt = build_nezha(**kwargs)
    assert not torch.equal(run(rebuilt), run(encoder))  # random weights before loading
    rebuilt.load_state_dict(encoder.state_dict(), strict=True)
    assert torch.equal(run(rebuilt), run(encoder))
    text = "华为Mate60手机"
    assert rebuilt.tokenizer(text)["input_ids"] == encoder.tokenizer(text)["input_ids"]


# ------------------------------------------------------------------ freezing


def trainable(params) -> set[int]:
    return {id(p) for p in params if p.requires_grad}


def test_layer_groups_cover_every_parameter_once(tmp_path):
    encoder = build_nezha(pretrained=str(checkpoint_copy(tmp_path)))
    groups = encoder.layer_groups()
    assert len(groups) == 3  # embeddings + 2 layers
    assert groups[0] == list(encoder.model.embeddings.parameters())
    flat = [id(p) for g in groups for p in g]
    assert len(flat) == len(set(flat)) == len(list(encoder.parameters()))


@pytest.mark.parametrize(
    "kwargs, frozen_groups",
    [
        ({}, []),
        ({"freeze": "embeddings"}, [0]),
        ({"freeze": "all"}, [0, 1, 2]),
        ({"freeze_layers": 1}, [0, 1]),
        ({"freeze": "embeddings", "freeze_layers": 2}, [0, 1, 2]),
    ],
)
def test_freezing(tmp_path, kwargs, frozen_groups):
    encoder = build_nezha(pretrained=str(checkpoint_copy(tmp_path)), **kwargs)
    for index, group in enumerate(encoder.layer_groups()):
        assert all(p.requires_grad == (index not in frozen_groups) for p in group), index


@pytest.mark.parametrize(
    "kwargs", [{"freeze": "layers"}, {"freeze_layers": 3}, {"freeze_layers": -1}]
)
def test_bad_freeze_options(tmp_path, kwargs):
    with pytest.raises(ConfigError, match="freeze"):
        build_nezha(pretrained=str(checkpoint_copy(tmp_path)), **kwargs)


# ------------------------------------------------------------------ bad checkpoints


def test_unreachable_hub_id_says_how_to_use_a_local_directory():
    with pytest.raises(ZhnlpError, match="encoder.pretrained=") as info:
        build_nezha(pretrained="zhnlp-test-no-such-user/no-such-nezha")
    assert "zhnlp-test-no-such-user/no-such-nezha" in str(info.value)


def test_missing_directory(tmp_path):
    with pytest.raises(ConfigError, match="no such directory"):
        build_nezha(pretrained=str(tmp_path / "nowhere"))


@pytest.mark.parametrize("name", ["config.json", "vocab.txt"])
def test_missing_file_is_named(tmp_path, name):
    directory = checkpoint_copy(tmp_path)
    (directory / name).unlink()
    with pytest.raises(ConfigError, match=f"{name}: file not found.*encoder.pretrained"):
        build_nezha(pretrained=str(directory))


def test_missing_weights_file(tmp_path):
    directory = checkpoint_copy(tmp_path)
    (directory / "model.safetensors").unlink()
    with pytest.raises(ConfigError, match="model.safetensors or pytorch_model.bin"):
        build_nezha(pretrained=str(directory))
    build_nezha(pretrained=str(directory), weights=False)  # the architecture alone still builds


@pytest.mark.parametrize("model_type", ["bert", None])
def test_wrong_model_type(tmp_path, model_type):
    directory = checkpoint_copy(tmp_path)
    config = json.loads((directory / "config.json").read_text())
    config.pop("model_type")
    if model_type:
        config["model_type"] = model_type
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match=r'config.json: "model_type" is .*expected "nezha"'):
        build_nezha(pretrained=str(directory))


def test_missing_architecture_key(tmp_path):
    directory = checkpoint_copy(tmp_path)
    config = json.loads((directory / "config.json").read_text())
    del config["hidden_size"]
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="config.json: key 'hidden_size'"):
        build_nezha(pretrained=str(directory))


def edit_weights(directory: Path, edit) -> None:
    path = directory / "model.safetensors"
    state = load_file(str(path))
    edit(state)
    save_file(state, str(path))


def test_unexpected_weight_is_named(tmp_path):
    directory = checkpoint_copy(tmp_path)
    extra = {"encoder.layer.2.output.dense.weight": torch.zeros(2)}
    edit_weights(directory, lambda s: s.update(extra))
    with pytest.raises(ConfigError, match=r"model.safetensors.*unexpected keys: encoder.layer.2"):
        build_nezha(pretrained=str(directory))


def test_missing_weight_is_named(tmp_path):
    directory = checkpoint_copy(tmp_path)
    edit_weights(directory, lambda s: s.pop("encoder.layer.1.attention.self.key.bias"))
    with pytest.raises(ConfigError, match=r"missing keys: encoder.layer.1.attention.self.key.bias"):
        build_nezha(pretrained=str(directory))


def test_config_that_does_not_fit_the_weights(tmp_path):
    directory = checkpoint_copy(tmp_path)
    config = json.loads((directory / "config.json").read_text())
    config["intermediate_size"] = 48
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match=r"wrong shape keys: encoder.layer.0.intermediate"):
        build_nezha(pretrained=str(directory))


# ------------------------------------------------------------------ config file and tiny recipe


def test_yaml_config_builds_through_the_registry(tmp_path):
    from omegaconf import OmegaConf

    yaml = Path(__file__).parents[1] / "conf" / "encoder" / "nezha.yaml"
    config = OmegaConf.load(yaml)
    assert config.name == "nezha" and "_target_" not in config
    assert config.pretrained == "sijunhe/nezha-cn-base"
    keys = {k for k in config if k != "name" and not is_meta_key(k)}
    assert keys == set(inspect.signature(build_nezha).parameters)
    config.pretrained = str(checkpoint_copy(tmp_path))
    encoder = registry.build_encoder(OmegaConf.to_container(config))
    assert (run(encoder) - EXPECTED["bare"]).abs().max().item() <= TOLERANCE


def test_spec_and_example_kwargs_build_a_tiny_encoder(tmp_path):
    spec = registry.get("encoders", "nezha")
    assert isinstance(spec, EncoderSpec) and spec is nezha and spec.build is build_nezha and spec.description
    assert not hasattr(build_nezha, "example_kwargs")
    kwargs = spec.example_kwargs(tmp_path)
    directory = Path(kwargs["pretrained"])
    files = {p.name for p in directory.iterdir()}
    assert {"config.json", "vocab.txt", "model.safetensors"} <= files
    assert json.loads((directory / "config.json").read_text())["model_type"] == "nezha"
    encoder = build_nezha(**kwargs)
    encoding = encoder.tokenizer("我们在北京发布了2个新模型", return_offsets_mapping=True)
    ids = torch.tensor([encoding["input_ids"]])  # (1, T)
    out = run(encoder, {"input_ids": ids, "attention_mask": torch.ones_like(ids)})
    assert out.shape == (1, ids.shape[1], encoder.hidden_size)
    assert encoder.tokenizer.unk_token_id not in encoding["input_ids"]


def test_no_import_of_the_transformers_plugin():
    import ast

    for path in Path(__file__).parents[1].rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [m for m in names if m.startswith("zhnlp_transformers")], path


# ------------------------------------------------------------------ masked LM


def test_masked_lm_loads_the_checkpoint_head(tmp_path):
    encoder = build_nezha(pretrained=str(checkpoint_copy(tmp_path, "mlm")))
    mlm = encoder.masked_lm().eval()
    assert isinstance(mlm, MaskedLM) and mlm.head_keys_loaded > 0
    batch = fixture_batch()
    with torch.inference_mode():
        logits = mlm(batch["input_ids"], batch["attention_mask"])  # (B, T, V)
    config = NezhaConfig.from_json_file(FIXTURES / "mlm" / "config.json")
    reference = NezhaForMaskedLM(config).eval()
    reference.load_state_dict(read_weights(FIXTURES / "mlm"), strict=True)  # the whole checkpoint, cls.* too
    with torch.inference_mode():
        want = reference(batch["input_ids"], batch["attention_mask"])  # (B, T, V), segment 0
    assert logits.shape == want.shape and (logits - want).abs().max().item() <= 1e-5


def test_masked_lm_save_pretrained_round_trip(tmp_path):
    encoder = build_nezha(pretrained=str(checkpoint_copy(tmp_path, "mlm")))
    mlm = encoder.masked_lm().eval()
    out = tmp_path / "out"
    encoder.save_assets(str(out))
    mlm.save_pretrained(out)
    saved = load_file(str(out / "model.safetensors"))
    assert "cls.predictions.decoder.weight" not in saved  # tied to the word embeddings: stored once
    reloaded = build_nezha(pretrained=str(out))  # strict load of the encoder part
    assert torch.equal(run(reloaded), run(encoder))
    again = reloaded.masked_lm().eval()
    assert again.head_keys_loaded == mlm.head_keys_loaded - 1  # the fixture also stores the tied decoder weight
    batch = fixture_batch()
    with torch.inference_mode():
        assert torch.equal(again(batch["input_ids"], batch["attention_mask"]),
                           mlm(batch["input_ids"], batch["attention_mask"]))


def test_masked_lm_of_a_bare_checkpoint_has_a_fresh_head(tmp_path):
    encoder = build_nezha(pretrained=str(checkpoint_copy(tmp_path, "bare")))
    mlm = encoder.masked_lm()
    assert mlm.head_keys_loaded == 0
    copied = mlm.model.nezha.state_dict()
    assert all(torch.equal(copied[k], v) for k, v in encoder.model.state_dict().items())
