"""Every YAML of this plugin names a registered component, builds through the registry, and the
entry points name this plugin's specs."""
from __future__ import annotations

import inspect
import re
import warnings
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from zhnlp import registry
from zhnlp.types import DatasetSpec, Head, HeadSpec
from zhnlp_ner import heads, readers

CONF = Path(__file__).parents[1] / "conf"
REPO = Path(__file__).parents[3]
DATASETS = REPO.parent / "shared" / "datasets"
DATA_KEYS = {"name", "reader", "train_path", "dev_path", "test_path", "batch_size", "eval_batch_size"}


def no_targets(node) -> bool:
    """No ``_target_`` / ``_partial_`` anywhere in a config."""
    if isinstance(node, dict):
        return not ({"_target_", "_partial_"} & set(node)) and all(no_targets(v) for v in node.values())
    return all(no_targets(v) for v in node) if isinstance(node, list) else True


@pytest.mark.parametrize("name", ["crf", "softmax", "global_pointer"])
def test_head_configs_build(name):
    cfg = OmegaConf.to_container(OmegaConf.load(CONF / "head" / f"{name}.yaml"))
    assert cfg["name"] == name and no_targets(cfg) and "branches" not in cfg
    assert cfg["split_newlines"] is True
    spec = registry.head_spec(cfg)
    # every builder option is in the YAML with the builder's default (the YAML documents them all)
    options = {k: p.default for k, p in inspect.signature(spec.build).parameters.items()
               if k not in ("hidden_size", "labels")}
    assert set(cfg) - {"name"} == set(options)
    labels = spec.collect_labels([{"entities": [{"type": "PER"}, {"type": "LOC"}]}])
    head = registry.build_head(cfg, hidden_size=16, labels=labels)
    assert isinstance(head, Head) and head.labels == ["LOC", "PER"] and head.split_newlines


@pytest.mark.parametrize("path", sorted((CONF / "data").glob("*.yaml")), ids=lambda p: p.stem)
def test_data_configs(path):
    cfg = OmegaConf.load(path)
    assert set(cfg) == DATA_KEYS and cfg.name == path.stem
    raw = OmegaConf.to_container(cfg, resolve=False)
    assert no_targets(raw)
    reader = registry.build_reader({"name": raw["name"], "reader": raw["reader"]})
    assert callable(reader)
    if path.stem == "sample_ner":
        for key in ("train_path", "dev_path", "test_path"):
            match = re.fullmatch(r"\$\{sample:(.+)\}", raw[key])
            assert match and (REPO / "datasets" / match.group(1)).is_file(), raw[key]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert reader(str(REPO / "datasets" / "sample_ner" / "dev.txt"), "data.dev_path")
        return
    assert raw["train_path"].startswith("${data_root}/") and raw["test_path"] is None
    resolved = OmegaConf.merge({"data_root": str(DATASETS)}, {"data": cfg})
    if not DATASETS.is_dir() or not Path(resolved.data.dev_path).is_file():
        pytest.skip("shared datasets not present")
    for key in ("train_path", "dev_path"):
        assert Path(resolved.data[key]).is_file(), resolved.data[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        examples = reader(resolved.data.dev_path, "data.dev_path")
    assert examples and all("entities" in ex for ex in examples)


def test_entry_points_name_the_specs():
    head_eps = {ep.name: ep for ep in entry_points(group="zhnlp.heads") if ep.value.startswith("zhnlp_ner.")}
    data_eps = {ep.name: ep for ep in entry_points(group="zhnlp.datasets") if ep.value.startswith("zhnlp_ner.")}
    if not head_eps:
        pytest.skip("zhnlp is not installed (no entry points)")
    assert set(head_eps) == {p.stem for p in (CONF / "head").glob("*.yaml")}
    assert set(data_eps) == {p.stem for p in (CONF / "data").glob("*.yaml")}
    for name, ep in head_eps.items():
        assert ep.load() is getattr(heads, name) and isinstance(ep.load(), HeadSpec)
    for name, ep in data_eps.items():
        spec = ep.load()
        assert isinstance(spec, DatasetSpec) and spec.label_kind == "entities"
        assert spec is (readers.cluener if name == "cluener" else readers.conll), name
