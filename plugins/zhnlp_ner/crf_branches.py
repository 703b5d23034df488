"""``BranchCrfHead``: K CRF taggers over the K equal slices of an encoder made of K branches
(``encoder.branches: K`` of the from-scratch encoders), trained together in one run.

Each branch has its own dropout, optional BiLSTM, emission layer and CRF, and is trained on its
own log-likelihood (the loss is the mean over branches). Decoding is a product of experts: the
constrained Viterbi runs on the mean of the branches' emissions and transition scores, i.e. the
path that maximises the sum of the K CRFs' unnormalised log-scores.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torchcrf import CRF

from zhnlp.errors import ConfigError
from zhnlp_ner.crf import CrfHead


class BranchCrfHead(CrfHead):
    """A :class:`CrfHead` whose own layers serve branch 0 and ``others`` serve branches 1..K-1."""

    def __init__(self, hidden_size: int, labels: Sequence[str], branches: int, **kwargs):
        if int(branches) < 2 or hidden_size % int(branches):
            raise ConfigError(f"head.branches={branches!r}: use 1, or the number of encoder branches K (K >= 2 "
                              f"dividing the encoder's hidden size {hidden_size}).")
        self.branches = int(branches)
        width = hidden_size // self.branches
        super().__init__(width, labels, **kwargs)
        self.others = nn.ModuleList(CrfHead(width, labels, **kwargs) for _ in range(self.branches - 1))

    def crfs(self) -> list[CRF]:
        """The K CRFs, branch order."""
        return [self.crf] + [o.crf for o in self.others]

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """``{"crf": every branch's transition parameters}``."""
        return {"crf": [p for crf in self.crfs() for p in crf.parameters()]}

    def branch_emissions(self, hidden: torch.Tensor, mask: torch.Tensor) -> list[torch.Tensor]:
        """(B, T, K * H) -> K x (B, T, num_tags): branch ``i`` scores slice ``i``."""
        slices = hidden.chunk(self.branches, dim=-1)  # K x (B, T, H)
        first = CrfHead.emissions(self, slices[0], mask)
        return [first] + [o.emissions(s, mask) for o, s in zip(self.others, slices[1:])]

    def emissions(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, T, K * H) -> (B, T, num_tags): the mean of the branches' emissions."""
        return torch.stack(self.branch_emissions(hidden, mask)).mean(0)

    def transitions(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The mean start (K,), transition (K, K) and end (K,) scores over the branches' CRFs
        (what ``decode`` and ``export_decoder`` use: a product-of-experts Viterbi)."""
        crfs = self.crfs()
        return tuple(torch.stack([getattr(c, name) for c in crfs]).mean(0)
                     for name in ("start_transitions", "transitions", "end_transitions"))

    def forward(self, hidden: torch.Tensor, batch: dict) -> dict[str, torch.Tensor]:
        """``{"emissions"}`` (the branches' mean) and ``"loss"`` (mean of the branches' NLLs)."""
        self.stats.flush()
        mask = batch["attention_mask"].bool()  # (B, T)
        per_branch = self.branch_emissions(hidden, mask)  # K x (B, T, num_tags)
        out = {"emissions": torch.stack(per_branch).mean(0)}
        if "tags" in batch:
            tags = self.gold_tags(batch, per_branch[0])
            out["loss"] = torch.stack([self.nll(crf, em, tags, mask)
                                       for crf, em in zip(self.crfs(), per_branch)]).mean()
        return out
