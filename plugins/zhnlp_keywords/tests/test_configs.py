"""Every YAML of this plugin names a registered component, composes, and builds."""
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from zhnlp import registry
from zhnlp.config import compose_train_config, register_resolvers
from zhnlp.types import DatasetSpec, HeadSpec
from zhnlp_keywords import heads, readers

CONF = Path(__file__).parents[1] / "conf"
DATA_KEYS = {"name", "reader", "train_path", "dev_path", "test_path", "batch_size", "eval_batch_size"}


@pytest.mark.parametrize("path", sorted((CONF / "data").glob("*.yaml")), ids=lambda p: p.stem)
def test_data_configs(path):
    register_resolvers()
    cfg = OmegaConf.load(path)
    assert set(cfg) == DATA_KEYS and cfg.name == path.stem
    assert "_target_" not in cfg.reader
    data = OmegaConf.to_container(OmegaConf.merge({"data_root": "/data"}, {"data": cfg}).data, resolve=True)
    # the reader's options see the data config's own paths (${..train_path} under data.reader)
    assert data["reader"]["train_path"] == data["train_path"] and data["reader"]["dev_path"] == data["dev_path"]
    assert callable(registry.build_reader(data))


def test_experiment_preset_composes():
    cfg = compose_train_config(["experiment=csl_keywords", "data_root=/data"])
    assert cfg["data"]["name"] == "csl_kg" and cfg["head"]["name"] == "keyword_tagger"
    assert cfg["task"] == "keywords" and cfg["report_metric"] == "val/f1@5"
    assert cfg["optim"]["group_lr"]["crf"] == pytest.approx(1e-2)
    assert cfg["data"]["max_length"] == 510  # the windows the README's figures were measured with
    # the reader knows the resolved paths, so it can carve dev.tsv into train / dev
    assert cfg["data"]["reader"]["train_path"] == cfg["data"]["train_path"] == "/data/csl_kg/dev.tsv"
    registry.check_combination(cfg)
    sample = compose_train_config(["experiment=csl_keywords", "data=sample_keywords", "data.dev_path=/x/y.tsv"])
    assert sample["data"]["reader"]["dev_path"] == "/x/y.tsv"
    assert Path(sample["data"]["train_path"]).is_file() and Path(sample["data"]["test_path"]).is_file()
    task = compose_train_config(["task=keywords"])
    assert task["head"]["name"] == "keyword_tagger" and task["data"]["name"] == "sample_keywords"
    registry.check_combination(task)


def test_entry_points_match_configs():
    found = {ep.name: ep for group in ("zhnlp.heads", "zhnlp.datasets") for ep in entry_points(group=group)
             if ep.value.startswith("zhnlp_keywords.")}
    if not found:
        pytest.skip("zhnlp is not installed (no entry points)")
    assert {p.stem for p in (CONF / "head").glob("*.yaml")} == {"keyword_tagger"}
    assert registry.get("heads", "keyword_tagger") is heads.keyword_tagger
    assert isinstance(heads.keyword_tagger, HeadSpec)
    for name in (p.stem for p in (CONF / "data").glob("*.yaml")):  # every data config names our reader spec
        assert registry.get("datasets", name) is readers.csl
    assert isinstance(readers.csl, DatasetSpec) and readers.csl.label_kind == "keywords"
    methods = {ep.name for ep in entry_points(group="zhnlp.keyword_methods")}
    assert {"tfidf", "textrank", "keybert", "tagger"} <= methods
