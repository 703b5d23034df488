"""Each encoder YAML names its builder, holds its complete kwargs and instantiates."""
from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from zhnlp import registry
from zhnlp.builders import build, is_meta_key
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
    assert config._target_ == f"zhnlp_transformers.encoders.build_{name}"
    assert registry.get("encoders", name) is builder
    params = inspect.signature(builder).parameters
    kwargs = {k: v for k, v in config.items() if not is_meta_key(k)}
    assert set(kwargs) == set(params)
    assert config.pretrained == NAMES[name][0]
    for key, value in kwargs.items():
        assert params[key].default == value, key
    config.pretrained = str(Path(builder.example_kwargs(tmp_path)["pretrained"]))
    encoder = build(OmegaConf.to_container(config))
    assert encoder.hidden_size == 32
