"""The ``crf`` head: optional BiLSTM, linear emissions, CRF (pytorch-crf log-likelihood,
our own constrained batched Viterbi for decoding)."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torchcrf import CRF

from zhnlp.alignment import AlignmentStats
from zhnlp.errors import ConfigError
from zhnlp.layers import BiLSTM
from zhnlp.types import GraphPart, ModelOutput
from zhnlp_ner.common import check_boundary
from zhnlp_ner.export_parts import CrfPart
from zhnlp_ner.schemes import build_tags, check_head_scheme, transition_constraints
from zhnlp_ner.tagging import TaggingHeadMixin, tag_targets
from zhnlp_ner.viterbi import ConstrainedViterbi, CrfDecoder


def fit_length(tags: torch.Tensor, length: int, fill: int) -> torch.Tensor:
    """Pad or cut (B, T') target tags to (B, length)."""
    if tags.size(1) >= length:
        return tags[:, :length]
    return torch.cat([tags, tags.new_full((tags.size(0), length - tags.size(1)), fill)], dim=1)


class CrfHead(TaggingHeadMixin, nn.Module):
    """Token tagging with a linear-chain CRF.

    Targets: ``{"tags": (T,) long}``; special tokens get ``O`` and stay inside the CRF mask
    (pytorch-crf needs the first step unmasked), padding (-100 from the collate) is read as ``O``
    and masked out by ``attention_mask``.
    """

    def __init__(self, hidden_size: int, labels: Sequence[str], scheme: str = "BIO", lstm_layers: int = 0,
                 lstm_hidden: int = 256, dropout: float = 0.1, reduction: str = "mean", window_overlap: int = 64,
                 split_newlines: bool = True, boundary: str = "snap"):
        super().__init__()
        if not labels:
            raise ConfigError("the crf head needs at least one entity type (labels=[] given).")
        if reduction not in ("mean", "sum", "token_mean"):
            raise ConfigError(f"head.reduction={reduction!r}: use mean, sum or token_mean.")
        self.labels, self.scheme = list(labels), check_head_scheme(scheme)
        self.eval_scheme, self.window_overlap, self.reduction = self.scheme, int(window_overlap), reduction
        self.split_newlines = bool(split_newlines)
        self.tags = build_tags(self.labels, self.scheme)
        self.tag_index = {t: i for i, t in enumerate(self.tags)}
        self.label_index = {t: i for i, t in enumerate(self.labels)}
        self.stats, self.snap = AlignmentStats("crf"), check_boundary(boundary)
        self.decode_repairs = 0
        self.dropout = nn.Dropout(dropout)
        # dropout between stacked LSTM layers only; none on the LSTM output
        self.lstm = BiLSTM(hidden_size, lstm_hidden, lstm_layers, dropout=dropout) if lstm_layers > 0 else None
        self.proj = nn.Linear(self.lstm.output_size if self.lstm else hidden_size, len(self.tags))
        self.crf = CRF(len(self.tags), batch_first=True)
        self.constraints = transition_constraints(self.tags, self.scheme)
        self.decoder = ConstrainedViterbi(*self.constraints)

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """``{"crf": transition parameters}`` so the optimiser can give them their own LR."""
        return {"crf": list(self.crf.parameters())}

    def targets(self, example: dict, encoding: dict) -> dict[str, torch.Tensor]:
        """``{"tags": (T,)}`` tag ids, ``O`` on special tokens."""
        return {"tags": tag_targets(example, encoding, self.tag_index, self.label_index, self.scheme, 0, self.stats,
                                    self.snap)}

    def emissions(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, T, H) hidden states -> (B, T, num_tags) float32 emission scores."""
        x = self.dropout(hidden)
        if self.lstm is not None:
            x = self.lstm(x, mask)  # (B, T, 2 * lstm_hidden)
        return self.proj(x).float()

    def forward(self, hidden: torch.Tensor, batch: dict) -> ModelOutput:
        """Emissions (B, T, K) as ``scores`` (masked by ``attention_mask``); ``loss`` = negative CRF
        log-likelihood when ``tags`` is in the batch."""
        self.stats.flush()
        mask = batch["attention_mask"].bool()  # (B, T)
        emissions = self.emissions(hidden, mask)  # (B, T, K)
        loss = self.nll(emissions, self.gold_tags(batch, emissions), mask) if "tags" in batch else None
        return ModelOutput(loss=loss, scores=emissions, scores_mask=mask)

    @staticmethod
    def gold_tags(batch: dict, emissions: torch.Tensor) -> torch.Tensor:
        """(B, T) target tags cut/padded to the emissions' length, padding read as ``O``."""
        tags = fit_length(batch["tags"].to(emissions.device), emissions.size(1), 0)
        return tags.masked_fill(tags < 0, 0)  # padding -> O (masked anyway)

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Negative CRF log-likelihood of (B, T) ``tags`` under (B, T, K) ``emissions``."""
        return -self.crf(emissions, tags, mask=mask, reduction=self.reduction)

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Constrained Viterbi: (B, T, K), (B, T) -> (B, T) tag ids (-1 on padding)."""
        crf = self.crf
        return self.decoder(emissions, mask.bool(), crf.start_transitions, crf.transitions, crf.end_transitions)[0]

    def export_decoder(self) -> CrfDecoder:
        """A scriptable / ONNX-exportable copy of the constrained decoder with the current weights."""
        crf = self.crf
        return CrfDecoder(crf.start_transitions, crf.transitions, crf.end_transitions, *self.constraints)

    @torch.no_grad()
    def predict(self, hidden: torch.Tensor, batch: dict) -> list[list[dict]]:
        """One list of entities per row, in char offsets of ``batch["examples"][i]["text"]``."""
        self.stats.flush()
        mask = batch["attention_mask"].bool()
        return self.entities_from_tags(self.decode(self.emissions(hidden, mask), mask), batch)

    def export_part(self, batch: dict) -> GraphPart:
        """Emissions + the scripted constrained Viterbi: ``tags`` (B, T), -1 on padding."""
        return GraphPart(CrfPart(self), output="tags", axes={0: "batch", 1: "seq"})

    def predict_from_export(self, output: torch.Tensor, batch: dict) -> list[list[dict]]:
        """The graph's ``tags`` (B, T) -> entities per row (what ``predict`` does after Viterbi)."""
        return self.entities_from_tags(output, batch)
