"""Every YAML of this plugin names a real builder, composes, and matches its entry point."""
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from hydra.utils import get_method, instantiate
from omegaconf import OmegaConf

from zhnlp.config import compose_train_config, register_resolvers

CONF = Path(__file__).parents[1] / "conf"
DATA_KEYS = {"name", "reader", "train_path", "dev_path", "test_path", "batch_size", "eval_batch_size"}


@pytest.mark.parametrize("path", sorted((CONF / "data").glob("*.yaml")), ids=lambda p: p.stem)
def test_data_configs(path):
    register_resolvers()
    cfg = OmegaConf.load(path)
    assert set(cfg) == DATA_KEYS and cfg.name == path.stem
    resolved = OmegaConf.merge({"data_root": "/data"}, {"data": cfg}).data
    assert resolved.reader.train_path == resolved.train_path and resolved.reader.dev_path == resolved.dev_path
    assert callable(instantiate(resolved.reader))


def test_experiment_preset_composes():
    cfg = compose_train_config(["experiment=csl_keywords", "data_root=/data"])
    assert cfg["data"]["name"] == "csl_kg" and cfg["head"]["_target_"].endswith("build_keyword_tagger")
    assert cfg["report_metric"] == "val/f1@5"
    # the reader knows the resolved paths, so it can carve dev.tsv into train / dev
    assert cfg["data"]["reader"]["train_path"] == cfg["data"]["train_path"] == "/data/csl_kg/dev.tsv"
    sample = compose_train_config(["experiment=csl_keywords", "data=sample_keywords", "data.dev_path=/x/y.tsv"])
    assert sample["data"]["reader"]["dev_path"] == "/x/y.tsv"
    assert Path(sample["data"]["train_path"]).is_file() and Path(sample["data"]["test_path"]).is_file()


def test_entry_points_match_configs():
    heads = {ep.name: ep for ep in entry_points(group="zhnlp.heads") if ep.value.startswith("zhnlp_keywords.")}
    if not heads:
        pytest.skip("zhnlp is not installed (no entry points)")
    assert set(heads) == {p.stem for p in (CONF / "head").glob("*.yaml")}
    for name, ep in heads.items():
        assert ep.load() is get_method(OmegaConf.load(CONF / "head" / f"{name}.yaml")._target_)
    datasets = {ep.name: ep for ep in entry_points(group="zhnlp.datasets") if ep.value.startswith("zhnlp_keywords.")}
    for name, ep in datasets.items():  # every registered dataset has its config
        assert ep.load() is get_method(OmegaConf.load(CONF / "data" / f"{name}.yaml").reader._target_)
    methods = {ep.name for ep in entry_points(group="zhnlp.keyword_methods")}
    assert {"tfidf", "textrank", "keybert", "tagger"} <= methods
