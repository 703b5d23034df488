"""Every YAML of this plugin names a real builder, instantiates, and matches its entry point."""
from __future__ import annotations

import re
import warnings
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from hydra.utils import get_method, instantiate
from omegaconf import OmegaConf

from zhnlp.types import Head

CONF = Path(__file__).parents[1] / "conf"
REPO = Path(__file__).parents[3]
DATASETS = REPO.parent / "shared" / "datasets"
DATA_KEYS = {"name", "reader", "train_path", "dev_path", "test_path", "batch_size", "eval_batch_size"}


@pytest.mark.parametrize("name", ["crf", "softmax", "global_pointer"])
def test_head_configs_instantiate(name):
    cfg = OmegaConf.load(CONF / "head" / f"{name}.yaml")
    assert cfg._partial_ is True and cfg._target_ == f"zhnlp_ner.heads.build_{name}"
    builder = get_method(cfg._target_)
    labels = builder.collect_labels([{"entities": [{"type": "PER"}, {"type": "LOC"}]}])
    head = instantiate(cfg)(hidden_size=16, labels=labels)
    assert isinstance(head, Head) and head.labels == ["LOC", "PER"]


@pytest.mark.parametrize("path", sorted((CONF / "data").glob("*.yaml")), ids=lambda p: p.stem)
def test_data_configs(path):
    cfg = OmegaConf.load(path)
    assert set(cfg) == DATA_KEYS and cfg.name == path.stem
    reader = instantiate(cfg.reader)
    assert callable(reader)
    raw = OmegaConf.to_container(cfg, resolve=False)
    if path.stem == "sample_ner":
        for key in ("train_path", "dev_path", "test_path"):
            match = re.fullmatch(r"\$\{sample:(.+)\}", raw[key])
            assert match and (REPO / "datasets" / match.group(1)).is_file(), raw[key]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert reader(str(REPO / "datasets" / "sample_ner" / "dev.txt"))
        return
    assert raw["train_path"].startswith("${data_root}/") and raw["test_path"] is None
    resolved = OmegaConf.merge({"data_root": str(DATASETS)}, {"data": cfg})
    if not DATASETS.is_dir():
        pytest.skip("shared datasets not present")
    for key in ("train_path", "dev_path"):
        assert Path(resolved.data[key]).is_file(), resolved.data[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        examples = reader(resolved.data.dev_path)
    assert examples and all("entities" in ex for ex in examples)


def test_entry_points_match_configs():
    heads = {ep.name: ep for ep in entry_points(group="zhnlp.heads") if ep.value.startswith("zhnlp_ner.")}
    datasets = {ep.name: ep for ep in entry_points(group="zhnlp.datasets") if ep.value.startswith("zhnlp_ner.")}
    if not heads:
        pytest.skip("zhnlp is not installed (no entry points)")
    assert set(heads) == {p.stem for p in (CONF / "head").glob("*.yaml")}
    assert set(datasets) == {p.stem for p in (CONF / "data").glob("*.yaml")}
    for name, ep in heads.items():
        assert ep.load() is get_method(OmegaConf.load(CONF / "head" / f"{name}.yaml")._target_)
    for name, ep in datasets.items():
        assert ep.load() is get_method(OmegaConf.load(CONF / "data" / f"{name}.yaml").reader._target_)
