"""The tensor parts of the tagging heads for ONNX export (``Head.export_part``).

Each part is ``module(hidden (B, T, H), attention_mask (B, T)) -> tags (B, T)`` (int64, -1 on
padding), traceable by ``torch.jit.trace``; the head's ``predict_from_export`` turns the tags into
entities exactly as its ``predict`` does after decoding (``TaggingHeadMixin.entities_from_tags``).
The span head ``global_pointer`` has no part: its top-k span decoding stays in Python.
"""
from __future__ import annotations

import torch
from torch import nn


class CrfPart(nn.Module):
    """CRF head: emissions + the constrained Viterbi, scripted so its time loop stays a loop for
    any length in the graph."""

    def __init__(self, head: nn.Module):
        super().__init__()
        self.head = head
        self.decoder = torch.jit.script(head.export_decoder())

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.bool()  # (B, T)
        return self.decoder(self.head.emissions(hidden, mask), mask)  # (B, T)


class ArgmaxPart(nn.Module):
    """Softmax head: the per-token argmax of its projection."""

    def __init__(self, head: nn.Module):
        super().__init__()
        self.head = head

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        tags = self.head.proj(hidden).argmax(-1)  # (B, T)
        return tags.masked_fill(attention_mask == 0, -1)
