"""``BranchEncoder``: K independently initialised copies of a from-scratch encoder that share one
tokenizer; their outputs are concatenated, (B, T, K * H).

Paired with the classification head's ``branches: K`` (one pooler + classifier per slice, the
loss averaged over the branches, the class probabilities averaged at prediction) or the crf head's
(one emission layer + CRF per slice, Viterbi on the averaged scores), this trains an ensemble of K
models in one run: each branch has its own embeddings and context layer, sees the
same batches and its own dropout masks.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence

import torch
from torch import nn

if TYPE_CHECKING:
    from zhnlp_classic.encoders import ClassicEncoder


class BranchEncoder(nn.Module):
    """K :class:`ClassicEncoder` branches over one tokenizer; ``hidden_size = K * H``.

    Args:
        branches: the encoders; each must use the same tokenizer object (the vocabularies are
            built once, by the first branch's ``fit``).
    """

    def __init__(self, branches: Sequence[ClassicEncoder]):
        super().__init__()
        self.branches = nn.ModuleList(branches)
        first = self.branches[0]
        if any(b.tokenizer is not first.tokenizer for b in self.branches):
            raise ValueError("BranchEncoder branches must share one tokenizer")
        self.branch_size = first.hidden_size
        self.hidden_size = self.branch_size * len(self.branches)
        self.max_length = first.max_length

    @property
    def tokenizer(self):
        return self.branches[0].tokenizer

    def fit(self, texts: Iterable[str]) -> None:
        """Build the shared vocabularies once; every branch gets fresh tables of its own."""
        rows = self.branches[0].fit(texts)  # pretrained vector files are read once
        for branch in self.branches[1:]:
            branch.features._build_tables(rows=rows)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None, **features) -> torch.Tensor:
        outs = [b(input_ids, attention_mask, token_type_ids, **features) for b in self.branches]  # K x (B, T, H)
        return torch.cat(outs, dim=-1)  # (B, T, K * H)

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """Bottom-to-top groups: group i holds group i of every branch."""
        per = [b.layer_groups() for b in self.branches]
        return [[p for groups in per if i < len(groups) for p in groups[i]] for i in range(max(map(len, per)))]
