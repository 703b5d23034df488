"""Gradient (activation) checkpointing for the transformers encoders.

BERT and ERNIE support it through transformers. AlbertModel does not (transformers 5), so each
shared ALBERT layer group is switched to a subclass that recomputes its forward in backward;
parameter names and state dicts are unchanged.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint
from transformers.models.albert.modeling_albert import AlbertLayerGroup

from zhnlp.errors import ConfigError


class CheckpointedAlbertLayerGroup(AlbertLayerGroup):
    """An ALBERT layer group whose activations are recomputed during backward when training."""

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None,
                **kwargs) -> torch.Tensor:
        if self.training and torch.is_grad_enabled():
            return checkpoint(super().forward, hidden_states, attention_mask,
                              use_reentrant=False, **kwargs)  # (B, T, H)
        return super().forward(hidden_states, attention_mask, **kwargs)  # (B, T, H)


def enable_gradient_checkpointing(model: nn.Module) -> None:
    """Turn on activation checkpointing for a BertModel, ErnieModel or AlbertModel."""
    if getattr(model, "supports_gradient_checkpointing", False):
        enable = getattr(model, "activation_checkpointing_enable", None)
        if enable is not None:
            enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:  # transformers 4.x
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        # transformers also hooks the embeddings to make their output require grad; that is only
        # needed by reentrant checkpointing, and the hook (a local function) cannot be pickled.
        if hasattr(model, "disable_input_require_grads"):
            model.disable_input_require_grads()
        return
    groups = getattr(getattr(model, "encoder", None), "albert_layer_groups", None)
    if groups is None:
        raise ConfigError(f"gradient_checkpointing=true is not supported for {type(model).__name__}.")
    for group in groups:
        group.__class__ = CheckpointedAlbertLayerGroup
