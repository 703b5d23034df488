"""Layers and helpers that several plugins need: one BiLSTM, one freezing helper.

``BiLSTM`` runs each direction as its own unidirectional ``nn.LSTM`` on the right-padded tensor;
the backward one reads every row reversed within its own length, so padding never reaches a real
position and the result equals a packed bidirectional LSTM on the same weights (tested). On CPU
it is the fastest variant measured (``benchmarks/bilstm_speed.py``): ``nn.LSTM`` on a
PackedSequence re-fills a zero tensor of the whole packed batch at every time step in its
backward pass, which grows with the square of the text length.
"""
from __future__ import annotations

from typing import Iterable

import torch
from torch import nn

from zhnlp.errors import ConfigError


def reverse_index(mask: torch.Tensor) -> torch.Tensor:
    """(B, T) index that reverses each row's first ``length`` positions and keeps the padding."""
    length = mask.long().sum(1, keepdim=True)  # (B, 1)
    t = torch.arange(mask.size(1), device=mask.device).unsqueeze(0)  # (1, T)
    return torch.where(t < length, length - 1 - t, t)  # (B, T)


class BiLSTM(nn.Module):
    """Stacked bidirectional LSTM over right-padded batches: ``(B, T, D), mask (B, T) -> (B, T, 2H)``,
    zero on padding.

    Args:
        input_size: D.
        hidden: H, units per direction.
        layers: stacked layers (>= 1).
        dropout: dropout between layers.
        output_dropout: dropout on the output.
    """

    def __init__(self, input_size: int, hidden: int, layers: int = 1, dropout: float = 0.0,
                 output_dropout: float = 0.0):
        super().__init__()
        if int(layers) < 1 or int(hidden) < 1:
            raise ConfigError(f"a BiLSTM needs layers >= 1 and hidden >= 1 (got layers={layers}, hidden={hidden}).")
        sizes = [int(input_size)] + [2 * int(hidden)] * (int(layers) - 1)
        self.forward_layers = nn.ModuleList(nn.LSTM(n, int(hidden), batch_first=True) for n in sizes)
        self.backward_layers = nn.ModuleList(nn.LSTM(n, int(hidden), batch_first=True) for n in sizes)
        self.dropout = nn.Dropout(dropout)
        self.output_dropout = nn.Dropout(output_dropout)
        self.output_size = 2 * int(hidden)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if x.size(1) == 0:
            return x.new_zeros(x.size(0), 0, self.output_size)
        index = reverse_index(mask).unsqueeze(2)  # (B, T, 1)
        h = x
        for i, (fwd, bwd) in enumerate(zip(self.forward_layers, self.backward_layers)):
            if i > 0:
                h = self.dropout(h)
            out_f, _ = fwd(h)  # (B, T, H)
            rev = h.gather(1, index.expand(-1, -1, h.size(2)))  # (B, T, D) each row reversed
            out_b, _ = bwd(rev)
            out_b = out_b.gather(1, index.expand(-1, -1, out_b.size(2)))  # back to text order
            h = torch.cat([out_f, out_b], dim=2)  # (B, T, 2H)
        h = self.output_dropout(h)
        return h * mask.unsqueeze(2).to(h.dtype)

    def groups(self) -> list[list[nn.Parameter]]:
        """One parameter group per layer, bottom to top (for layer-wise learning rates)."""
        return [list(f.parameters()) + list(b.parameters()) for f, b in zip(self.forward_layers, self.backward_layers)]


FREEZE_CHOICES = ("none", "all", "embeddings")


def freeze(groups: list[list[nn.Parameter]], freeze: str = "none", freeze_layers: int = 0) -> int:
    """Set ``requires_grad=False`` on the frozen part of an encoder.

    Args:
        groups: the encoder's bottom-to-top parameter groups (embeddings first), as its
            ``layer_groups()`` gives them.
        freeze: ``none``, ``all`` (everything) or ``embeddings`` (group 0).
        freeze_layers: also freeze the first k groups above the embeddings (and the embeddings
            themselves when k > 0).

    Returns:
        The number of parameters frozen.

    Raises:
        ConfigError: an unknown ``freeze`` or an out-of-range ``freeze_layers`` (named as the
            ``encoder.`` keys to fix).
    """
    if freeze not in FREEZE_CHOICES:
        raise ConfigError(f"encoder.freeze={freeze!r}: choose one of {', '.join(FREEZE_CHOICES)}.")
    if not isinstance(freeze_layers, int) or isinstance(freeze_layers, bool) or not 0 <= freeze_layers <= len(groups) - 1:
        raise ConfigError(f"encoder.freeze_layers={freeze_layers!r}: must be an integer from 0 to {len(groups) - 1} "
                          f"(the number of distinct layers); use encoder.freeze=all to freeze everything.")
    if freeze == "all":
        frozen: Iterable[nn.Parameter] = [p for g in groups for p in g]
    else:
        count = max(freeze_layers + 1 if freeze_layers else 0, 1 if freeze == "embeddings" else 0)
        frozen = [p for g in groups[:count] for p in g]
    n = 0
    for p in frozen:
        p.requires_grad_(False)
        n += 1
    return n
