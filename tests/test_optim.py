"""Optimizer groups: layer-wise LR decay, head and named-group learning rates, schedules."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from zhnlp.optim import build_optimizer, schedule_factor

ADAMW = {"_target_": "torch.optim.AdamW", "_partial_": True}


class Layered(nn.Module):
    """Embeddings + 3 layers, bottom to top."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.layers = nn.ModuleList(nn.Linear(4, 4) for _ in range(3))

    def layer_groups(self):
        return [list(self.emb.parameters())] + [list(layer.parameters()) for layer in self.layers]


class CrfLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 3)
        self.transitions = nn.Parameter(torch.zeros(3, 3))

    def param_groups(self):
        return {"crf": [self.transitions]}


def model_of(encoder, head) -> nn.Module:
    """What build_optimizer takes: a TaskModel-shaped module of (encoder, head) members."""
    from zhnlp.model import Member

    out = nn.Module()
    out.members = nn.ModuleList([Member(encoder, head)])
    return out


def lr_of(optimizer, param):
    return next(g["lr"] for g in optimizer.param_groups if any(p is param for p in g["params"]))


def test_layer_decay_head_lr_and_named_groups():
    encoder, head = Layered(), CrfLike()
    cfg = {"optimizer": ADAMW, "lr": 1e-3, "weight_decay": 0.01, "layer_decay": 0.5, "head_lr": 2e-3,
           "group_lr": {"crf": 1e-2}}
    opt = build_optimizer(cfg, model_of(encoder, head))
    assert lr_of(opt, encoder.layers[2].weight) == pytest.approx(1e-3)      # top layer: lr
    assert lr_of(opt, encoder.layers[1].weight) == pytest.approx(5e-4)      # one below: lr * 0.5
    assert lr_of(opt, encoder.emb.weight) == pytest.approx(1e-3 * 0.5 ** 3)  # embeddings: lowest
    assert lr_of(opt, head.proj.weight) == pytest.approx(2e-3)
    assert lr_of(opt, head.transitions) == pytest.approx(1e-2)
    every = [p for g in opt.param_groups for p in g["params"]]
    assert len(every) == len({id(p) for p in every}) == len(list(encoder.parameters())) + len(list(head.parameters()))
    biases = [g for g in opt.param_groups if any(p is encoder.layers[0].bias for p in g["params"])]
    assert biases[0]["weight_decay"] == 0.0  # no decay on biases


def test_frozen_parameters_are_left_out():
    encoder, head = Layered(), CrfLike()
    encoder.emb.weight.requires_grad_(False)
    opt = build_optimizer({"optimizer": ADAMW, "lr": 1e-3}, model_of(encoder, head))
    assert all(p is not encoder.emb.weight for g in opt.param_groups for p in g["params"])


def test_schedules():
    assert schedule_factor(0, 100, 10, "linear") == pytest.approx(0.1)
    assert schedule_factor(9, 100, 10, "linear") == pytest.approx(1.0)
    assert schedule_factor(55, 100, 10, "linear") == pytest.approx(0.5)
    assert schedule_factor(55, 100, 10, "cosine") == pytest.approx(0.5)
    assert schedule_factor(100, 100, 10, "cosine") == pytest.approx(0.0)
    assert schedule_factor(70, 100, 0, "constant") == 1.0
