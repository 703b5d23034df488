"""The plugin's configs compose through Hydra, and the runner builds complete sub-run configs."""
from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from zhnlp import registry
from zhnlp.config import compose_train_config
from zhnlp.errors import ConfigError
from zhnlp_kbqa.pipeline import deep_merge, sub_config


def test_entry_points():
    names = {ep.name: ep.value for group in ("zhnlp.datasets", "zhnlp.commands", "zhnlp.conf")
             for ep in entry_points(group=group) if ep.value.startswith("zhnlp_kbqa")}
    assert names == {"nlpcc2016_kbqa": "zhnlp_kbqa.readers:nlpcc", "kbqa": "zhnlp_kbqa.cli:main",
                     "zhnlp_kbqa": "zhnlp_kbqa.conf"}


def test_experiment_composes_both_parts():
    cfg = compose_train_config(["experiment=nlpcc_kbqa_scratch", "data_root=/data"])
    assert cfg["runner"] == "zhnlp_kbqa.pipeline.train_kbqa" and cfg["report_metric"] == "val/answer_acc"
    assert cfg["data"]["train_path"] == "/data/nlpcc2016_kbqa/nlpcc-iccpol-2016.kbqa.training-data"
    assert cfg["data"]["name"] == "nlpcc2016_kbqa" and "_target_" not in cfg["data"]["reader"]
    assert callable(registry.build_reader(cfg["data"]))
    kbqa = cfg["kbqa"]
    assert [kbqa[part][kind]["name"] for part in ("mention", "relation") for kind in ("encoder", "head")] == [
        "char", "crf", "bilstm", "classification"]
    assert kbqa["relation"]["encoder"]["lstm_hidden"] == 128  # the experiment's values over bilstm.yaml
    for part, data in (("mention", {"name": "nlpcc2016_kbqa", "reader": {}}), ("relation", {"name": "clue_json"})):
        registry.check_combination(sub_config(cfg, part, data))  # names, options, head / data kinds fit


def test_parts_can_swap_encoder_and_head():
    cfg = compose_train_config(["experiment=nlpcc_kbqa_scratch", "encoder@kbqa.relation.encoder=textcnn",
                         "head@kbqa.mention.head=softmax", "kbqa.relation.head.pair_mode=siamese",
                         "data.kb_path=null", "trainer.max_epochs=1"])
    assert cfg["kbqa"]["relation"]["encoder"]["name"] == "textcnn"
    assert cfg["kbqa"]["mention"]["head"]["name"] == "softmax"
    assert cfg["data"]["kb_path"] is None
    sub = sub_config(cfg, "relation", {"name": "x"})
    assert set(sub) >= {"seed", "data", "encoder", "head", "members", "optim", "trainer", "early_stopping", "callbacks"}
    assert sub["trainer"]["max_epochs"] == 1 and sub["optim"]["lr"] == 2.0e-3
    assert sub["optim"]["optimizer"]["_target_"] == "torch.optim.AdamW"
    assert sub["head"]["pair_mode"] == "siamese"
    assert sub_config(cfg, "mention", {})["optim"]["group_lr"] == {"crf": 1.0e-2}


def test_sub_config_merging_and_errors():
    base = {"seed": 1, "optim": {"lr": 1, "optimizer": {"_target_": "x"}}, "trainer": {"max_epochs": 3, "devices": 1},
            "early_stopping": {"patience": 2}, "torch_threads": 1,
            "kbqa": {"mention": {"encoder": {"name": "e"}, "head": {"name": "h"}, "members": 2,
                                 "trainer": {"max_epochs": 7}},
                     "relation": {"encoder": {"_target_": "old.style"}, "head": {"name": "h"}}}}
    sub = sub_config(base, "mention", {"name": "d"})
    assert sub["trainer"] == {"max_epochs": 7, "devices": 1} and sub["optim"]["lr"] == 1
    assert (sub["members"], sub["torch_threads"]) == (2, 1)
    with pytest.raises(ConfigError, match="kbqa.relation.encoder must be a full config that names a registered "
                                          "encoder with `name:`"):
        sub_config(base, "relation", {})
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}, "d": 4}) == {"a": {"b": 1, "c": 3}, "d": 4}
