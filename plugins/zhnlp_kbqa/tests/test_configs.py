"""The plugin's configs compose through Hydra, and the runner builds complete sub-run configs."""
from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from zhnlp.builders import build
from zhnlp.config import compose_train_config
from zhnlp.errors import ConfigError
from zhnlp_kbqa.pipeline import deep_merge, sub_config


def test_entry_points():
    names = {ep.name: ep.value for group in ("zhnlp.datasets", "zhnlp.commands", "zhnlp.conf")
             for ep in entry_points(group=group) if ep.value.startswith("zhnlp_kbqa")}
    assert names == {"nlpcc2016_kbqa": "zhnlp_kbqa.readers:build_nlpcc_reader", "kbqa": "zhnlp_kbqa.cli:main",
                     "zhnlp_kbqa": "zhnlp_kbqa.conf"}


def test_experiment_composes_both_parts():
    cfg = compose_train_config(["experiment=nlpcc_kbqa_scratch", "data_root=/data"])
    assert cfg["runner"] == "zhnlp_kbqa.pipeline.train_kbqa" and cfg["report_metric"] == "val/answer_acc"
    assert cfg["data"]["train_path"] == "/data/nlpcc2016_kbqa/nlpcc-iccpol-2016.kbqa.training-data"
    assert callable(build(cfg["data"]["reader"]))
    kbqa = cfg["kbqa"]
    assert kbqa["mention"]["encoder"]["_target_"] == "zhnlp_classic.encoders.build_char"
    assert kbqa["mention"]["head"]["_target_"] == "zhnlp_ner.heads.build_crf"
    assert kbqa["relation"]["encoder"]["_target_"] == "zhnlp_classic.encoders.build_bilstm"
    assert kbqa["relation"]["head"]["_target_"] == "zhnlp_classify.heads.build_classification"
    assert kbqa["relation"]["encoder"]["lstm_hidden"] == 128  # the experiment's values over bilstm.yaml


def test_parts_can_swap_encoder_and_head():
    cfg = compose_train_config(["experiment=nlpcc_kbqa_scratch", "encoder@kbqa.relation.encoder=textcnn",
                         "head@kbqa.mention.head=softmax", "kbqa.relation.head.pair_mode=siamese",
                         "data.kb_path=null", "trainer.max_epochs=1"])
    assert cfg["kbqa"]["relation"]["encoder"]["_target_"] == "zhnlp_classic.encoders.build_textcnn"
    assert cfg["kbqa"]["mention"]["head"]["_target_"] == "zhnlp_ner.heads.build_softmax"
    assert cfg["data"]["kb_path"] is None
    sub = sub_config(cfg, "relation", {"name": "x"})
    assert set(sub) >= {"seed", "data", "encoder", "head", "optim", "trainer", "early_stopping", "callbacks"}
    assert sub["trainer"]["max_epochs"] == 1 and sub["optim"]["lr"] == 2.0e-3
    assert sub["optim"]["optimizer"]["_target_"] == "torch.optim.AdamW"
    assert sub["head"]["pair_mode"] == "siamese"
    assert sub_config(cfg, "mention", {})["optim"]["group_lr"] == {"crf": 1.0e-2}


def test_sub_config_merging_and_errors():
    base = {"seed": 1, "optim": {"lr": 1, "optimizer": {"_target_": "x"}}, "trainer": {"max_epochs": 3, "devices": 1},
            "early_stopping": {"patience": 2},
            "kbqa": {"mention": {"encoder": {"_target_": "e"}, "head": {"_target_": "h"},
                                 "trainer": {"max_epochs": 7}}}}
    sub = sub_config(base, "mention", {"name": "d"})
    assert sub["trainer"] == {"max_epochs": 7, "devices": 1} and sub["optim"]["lr"] == 1
    with pytest.raises(ConfigError, match="kbqa.relation.encoder"):
        sub_config(base, "relation", {})
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}, "d": 4}) == {"a": {"b": 1, "c": 3}, "d": 4}
