"""Optimizer parameter groups (layer-wise LR decay, head / named-group LRs) and LR schedules."""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from zhnlp.builders import build
from zhnlp.types import has


def _split_decay(params: list[nn.Parameter], lr: float, weight_decay: float, name: str) -> list[dict]:
    """Biases and norm weights (1-D) get no weight decay."""
    params = [p for p in params if p.requires_grad]
    decay = [p for p in params if p.dim() > 1]
    no_decay = [p for p in params if p.dim() <= 1]
    groups = []
    if decay:
        groups.append({"params": decay, "lr": lr, "weight_decay": weight_decay, "name": name})
    if no_decay:
        groups.append({"params": no_decay, "lr": lr, "weight_decay": 0.0, "name": f"{name}.no_decay"})
    return groups


def encoder_groups(encoder: nn.Module, lr: float, weight_decay: float, layer_decay: float | None) -> list[dict]:
    """One group per encoder layer with ``lr * layer_decay ** depth_from_top`` (or one group)."""
    if not layer_decay or not has(encoder, "layer_groups"):
        return _split_decay(list(encoder.parameters()), lr, weight_decay, "encoder")
    layers = encoder.layer_groups()  # bottom (embeddings) to top
    groups, covered = [], set()
    for depth, params in enumerate(layers):
        scale = layer_decay ** (len(layers) - 1 - depth)
        groups += _split_decay(list(params), lr * scale, weight_decay, f"encoder.{depth}")
        covered |= {id(p) for p in params}
    rest = [p for p in encoder.parameters() if id(p) not in covered]
    return groups + _split_decay(rest, lr, weight_decay, "encoder.rest")


def head_groups(head: nn.Module, lr: float, weight_decay: float, group_lr: dict[str, float]) -> list[dict]:
    """Head parameters at ``lr``; named groups from ``head.param_groups()`` at ``group_lr[name]``."""
    named = head.param_groups() if has(head, "param_groups") else {}
    groups, covered = [], set()
    for name, params in named.items():
        groups += _split_decay(list(params), group_lr.get(name, lr), weight_decay, f"head.{name}")
        covered |= {id(p) for p in params}
    rest = [p for p in head.parameters() if id(p) not in covered]
    return groups + _split_decay(rest, lr, weight_decay, "head")


def build_optimizer(cfg: dict[str, Any], model: nn.Module) -> torch.optim.Optimizer:
    """The optimizer from ``cfg`` (the ``optim`` config) for every member of a TaskModel: groups
    with their own learning rates (layer-wise decay, ``head_lr``, ``group_lr``)."""
    lr, wd = float(cfg["lr"]), float(cfg.get("weight_decay", 0.0))
    head_lr = float(cfg.get("head_lr") or lr)
    groups = []
    for member in model.members:
        groups += encoder_groups(member.encoder, lr, wd, cfg.get("layer_decay"))
        groups += head_groups(member.head, head_lr, wd, dict(cfg.get("group_lr") or {}))
    return build(cfg["optimizer"])(groups, lr=lr)


def schedule_factor(step: int, total: int, warmup: int, kind: str) -> float:
    """LR multiplier at ``step``: linear warmup, then constant / linear / cosine decay to 0."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    if kind == "constant" or total <= warmup:
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    if kind == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    return 1.0 - progress
