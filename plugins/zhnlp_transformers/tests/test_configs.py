"""Each encoder YAML names its registered encoder, holds the builder's complete kwargs and builds."""
from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from zhnlp import registry
from zhnlp.builders import is_meta_key
from zhnlp_transformers import encoders

CONF = Path(__file__).parents[1] / "conf" / "encoder"
NAMES = {"bert_wwm": ("hfl/chinese-bert-wwm-ext", "bert"),
         "roberta_wwm": ("hfl/chinese-roberta-wwm-ext", "bert"),
         "ernie": ("nghuyong/ernie-3.0-base-zh", "ernie"),
         "albert_zh": ("voidful/albert_chinese_base", "albert")}


@pytest.mark.parametrize("name", NAMES)
def test_yaml_matches_builder(tmp_path, name):
    config = OmegaConf.load(CONF / f"{name}.yaml")
    builder = getattr(encoders, f"build_{name}")
    assert config.name == name and "_target_" not in config
    assert registry.get("encoders", name).build is builder
    params = inspect.signature(builder).parameters
    kwargs = {k: v for k, v in config.items() if k != "name" and not is_meta_key(k)}
    assert set(kwargs) == set(params)
    assert config.pretrained == NAMES[name][0]
    for key, value in kwargs.items():
        assert params[key].default == value, key
    config.pretrained = str(Path(registry.get("encoders", name).example_kwargs(tmp_path)["pretrained"]))
    encoder = registry.build_encoder(OmegaConf.to_container(config))
    assert encoder.hidden_size == 32 and encoder.model_type == NAMES[name][1]
