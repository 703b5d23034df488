"""The ``crf`` head: optional BiLSTM, linear emissions, CRF (pytorch-crf log-likelihood,
our own constrained batched Viterbi for decoding)."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torchcrf import CRF

from zhnlp.errors import ConfigError
from zhnlp_ner.alignment import AlignmentStats
from zhnlp_ner.common import EntityHeadMixin
from zhnlp_ner.schemes import build_tags, check_head_scheme, transition_constraints
from zhnlp_ner.tagging import decode_tag_ids, tag_targets
from zhnlp_ner.viterbi import ConstrainedViterbi, CrfDecoder


def fit_length(tags: torch.Tensor, length: int, fill: int) -> torch.Tensor:
    """Pad or cut (B, T') target tags to (B, length)."""
    if tags.size(1) >= length:
        return tags[:, :length]
    return torch.cat([tags, tags.new_full((tags.size(0), length - tags.size(1)), fill)], dim=1)


class BiLSTM(nn.Module):
    """A bidirectional LSTM over the unpadded part of each row."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, dropout: float):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=num_layers, batch_first=True,
                            bidirectional=True, dropout=dropout if num_layers > 1 else 0.0)
        self.output_size = 2 * hidden_size

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        lengths = mask.sum(1).clamp(min=1).cpu()  # (B,)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.size(1))
        return out  # (B, T, 2 * hidden)


class CrfHead(EntityHeadMixin, nn.Module):
    """Token tagging with a linear-chain CRF.

    Targets: ``{"tags": (T,) long}``; special tokens get ``O`` and stay inside the CRF mask
    (pytorch-crf needs the first step unmasked), padding (-100 from the collate) is read as ``O``
    and masked out by ``attention_mask``.
    """

    def __init__(self, hidden_size: int, labels: Sequence[str], scheme: str = "BIO", lstm_layers: int = 0,
                 lstm_hidden: int = 256, dropout: float = 0.1, reduction: str = "mean", window_overlap: int = 64):
        super().__init__()
        if not labels:
            raise ConfigError("the crf head needs at least one entity type (labels=[] given).")
        if reduction not in ("mean", "sum", "token_mean"):
            raise ConfigError(f"head.reduction={reduction!r}: use mean, sum or token_mean.")
        self.labels, self.scheme = list(labels), check_head_scheme(scheme)
        self.eval_scheme, self.window_overlap, self.reduction = self.scheme, int(window_overlap), reduction
        self.tags = build_tags(self.labels, self.scheme)
        self.tag_index = {t: i for i, t in enumerate(self.tags)}
        self.label_index = {t: i for i, t in enumerate(self.labels)}
        self.stats = AlignmentStats("crf")
        self.decode_repairs = 0
        self.dropout = nn.Dropout(dropout)
        self.lstm = BiLSTM(hidden_size, lstm_hidden, lstm_layers, dropout) if lstm_layers > 0 else None
        self.proj = nn.Linear(self.lstm.output_size if self.lstm else hidden_size, len(self.tags))
        self.crf = CRF(len(self.tags), batch_first=True)
        self.constraints = transition_constraints(self.tags, self.scheme)
        self.decoder = ConstrainedViterbi(*self.constraints)

    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """``{"crf": transition parameters}`` so the optimiser can give them their own LR."""
        return {"crf": list(self.crf.parameters())}

    def targets(self, example: dict, encoding: dict) -> dict[str, torch.Tensor]:
        """``{"tags": (T,)}`` tag ids, ``O`` on special tokens."""
        return {"tags": tag_targets(example, encoding, self.tag_index, self.label_index, self.scheme, 0, self.stats)}

    def emissions(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, T, H) hidden states -> (B, T, num_tags) float32 emission scores."""
        x = self.dropout(hidden)
        if self.lstm is not None:
            x = self.lstm(x, mask)
        return self.proj(x).float()

    def forward(self, hidden: torch.Tensor, batch: dict) -> dict[str, torch.Tensor]:
        """``{"emissions", "loss"}`` (loss = negative CRF log-likelihood, when ``tags`` is in batch)."""
        self.stats.flush()
        mask = batch["attention_mask"].bool()  # (B, T)
        emissions = self.emissions(hidden, mask)  # (B, T, K)
        out = {"emissions": emissions}
        if "tags" in batch:
            out["loss"] = self.nll(self.crf, emissions, self.gold_tags(batch, emissions), mask)
        return out

    @staticmethod
    def gold_tags(batch: dict, emissions: torch.Tensor) -> torch.Tensor:
        """(B, T) target tags cut/padded to the emissions' length, padding read as ``O``."""
        tags = fit_length(batch["tags"].to(emissions.device), emissions.size(1), 0)
        return tags.masked_fill(tags < 0, 0)  # padding -> O (masked anyway)

    def nll(self, crf: CRF, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Negative CRF log-likelihood of (B, T) ``tags`` under (B, T, K) ``emissions``."""
        return -crf(emissions, tags, mask=mask, reduction=self.reduction)

    def transitions(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The start (K,), transition (K, K) [from, to] and end (K,) scores decoding uses."""
        crf = self.crf
        return crf.start_transitions, crf.transitions, crf.end_transitions

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Constrained Viterbi: (B, T, K), (B, T) -> (B, T) tag ids (-1 on padding)."""
        return self.decoder(emissions, mask.bool(), *self.transitions())[0]

    def export_decoder(self) -> CrfDecoder:
        """A scriptable / ONNX-exportable copy of the constrained decoder with the current weights."""
        return CrfDecoder(*self.transitions(), *self.constraints)

    @torch.no_grad()
    def predict(self, hidden: torch.Tensor, batch: dict) -> list[list[dict]]:
        """One list of entities per row, in char offsets of ``batch["examples"][i]["text"]``."""
        self.stats.flush()
        mask = batch["attention_mask"].bool()
        paths = self.decode(self.emissions(hidden, mask), mask).tolist()
        texts = [ex["text"] for ex in batch["examples"]]
        preds, repairs = decode_tag_ids(paths, batch["offsets"], texts, self.tags, self.scheme == "BIOES")
        self.decode_repairs += repairs
        return preds
