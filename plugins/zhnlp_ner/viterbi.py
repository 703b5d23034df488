"""Batched CRF Viterbi decoding in plain tensor ops (TorchScript- and ONNX-exportable).

pytorch-crf's ``CRF.decode`` loops over batch rows in Python and returns lists, so it cannot be
scripted or exported. :func:`viterbi_decode` loops only over time steps; every row and tag is
handled by tensor ops. With the same weights and no constraints it returns the paths of
``torchcrf.CRF.decode`` (ties go to the lowest previous tag, as there). The emission of step t is
added after the max over previous tags rather than before it, which gives bit-identical best
scores; only two previous tags whose sums differ by less than one rounding step of the emission
could be ordered differently.
"""
from __future__ import annotations

from typing import List, Tuple

import torch
from torch import nn


def viterbi_decode(
    emissions: torch.Tensor,
    mask: torch.Tensor,
    start_transitions: torch.Tensor,
    transitions: torch.Tensor,
    end_transitions: torch.Tensor,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Best tag path per row.

    Args:
        emissions: (B, T, K) scores.
        mask: (B, T) bool; True on real positions, left-aligned, ``mask[:, 0]`` all True.
        start_transitions: (K,) score of starting in each tag.
        transitions: (K, K) score of moving from tag i (row) to tag j (column).
        end_transitions: (K,) score of ending in each tag.

    Returns:
        (tags (B, T) long with -1 on masked positions, best path scores (B,)).
    """
    batch, seq_len, num_tags = emissions.shape
    mask = mask.to(torch.bool)
    incoming = transitions.permute(1, 0).contiguous()  # (K_to, K_from): the max below runs over contiguous memory
    # time-major views: the loops index the first dimension (in ONNX a plain Gather, no per-step slice)
    steps = emissions.permute(1, 0, 2)  # (T, B, K)
    keeps = mask.permute(1, 0).unsqueeze(2)  # (T, B, 1)
    score = start_transitions + steps[0]  # (B, K)
    identity = torch.arange(num_tags, device=emissions.device).unsqueeze(0).expand(batch, num_tags)  # (B, K)
    history: List[torch.Tensor] = []
    for t in range(1, seq_len):
        # (B, 1, K_from) + (K_to, K_from) -> (B, K_to, K_from); the emission of the new tag does not
        # depend on the previous one, so it is added after the max (same best scores and paths)
        best_score, best_prev = (score.unsqueeze(1) + incoming).max(dim=2)  # (B, K) each
        keep = keeps[t]  # (B, 1)
        score = torch.where(keep, best_score + steps[t], score)
        # A masked step points every tag at itself, so backtracking passes through padding.
        history.append(torch.where(keep, best_prev, identity))
    score = score + end_transitions  # (B, K)
    best_score, best_last = score.max(dim=1)  # (B,)
    path: List[torch.Tensor] = [best_last]
    current = best_last.unsqueeze(1)  # (B, 1)
    for t in range(seq_len - 2, -1, -1):
        current = history[t].gather(1, current)  # (B, 1)
        path.append(current[:, 0])
    tags = torch.stack(path, dim=1).flip(1)  # (B, T); built back to front, so flip
    return tags.masked_fill(~mask, -1), best_score


def log_partition(
    emissions: torch.Tensor,
    mask: torch.Tensor,
    start_transitions: torch.Tensor,
    transitions: torch.Tensor,
    end_transitions: torch.Tensor,
) -> torch.Tensor:
    """log Z per row (the forward algorithm), same arguments as :func:`viterbi_decode`.

    Returns:
        (B,) log of the summed exp-scores of all tag paths.
    """
    mask = mask.to(torch.bool)
    score = start_transitions + emissions[:, 0]  # (B, K)
    for t in range(1, emissions.size(1)):
        next_score = torch.logsumexp(score.unsqueeze(2) + transitions + emissions[:, t].unsqueeze(1), dim=1)  # (B, K)
        score = torch.where(mask[:, t].unsqueeze(1), next_score, score)
    return torch.logsumexp(score + end_transitions, dim=1)


def path_score(
    emissions: torch.Tensor,
    tags: torch.Tensor,
    mask: torch.Tensor,
    start_transitions: torch.Tensor,
    transitions: torch.Tensor,
    end_transitions: torch.Tensor,
) -> torch.Tensor:
    """Score of given tag paths (B, T) (masked positions ignored); (B,)."""
    mask = mask.to(torch.bool)
    tags = tags.clamp(min=0)
    emit = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (B, T)
    trans = transitions[tags[:, :-1], tags[:, 1:]]  # (B, T-1)
    score = start_transitions[tags[:, 0]] + (emit * mask).sum(1) + (trans * mask[:, 1:]).sum(1)
    last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)  # (B,)
    return score + end_transitions[last]


class ConstrainedViterbi(nn.Module):
    """Viterbi with forbidden starts / transitions / ends set to -inf.

    Holds only the constraint masks (non-persistent buffers: they follow from the tag set, so
    checkpoints do not carry them); the CRF weights are passed in. Scriptable with ``torch.jit.script``.

    Args:
        start_allowed: (K,) bool.
        transition_allowed: (K, K) bool, [from, to].
        end_allowed: (K,) bool.
    """

    def __init__(self, start_allowed: torch.Tensor, transition_allowed: torch.Tensor, end_allowed: torch.Tensor):
        super().__init__()
        inf = float("-inf")
        self.register_buffer("start_bias", torch.zeros(start_allowed.shape).masked_fill(~start_allowed, inf), persistent=False)
        self.register_buffer("transition_bias", torch.zeros(transition_allowed.shape).masked_fill(~transition_allowed, inf), persistent=False)
        self.register_buffer("end_bias", torch.zeros(end_allowed.shape).masked_fill(~end_allowed, inf), persistent=False)

    def forward(
        self,
        emissions: torch.Tensor,
        mask: torch.Tensor,
        start_transitions: torch.Tensor,
        transitions: torch.Tensor,
        end_transitions: torch.Tensor,
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Same as :func:`viterbi_decode` with the constraints applied; emissions cast to float32."""
        return viterbi_decode(
            emissions.float(),
            mask,
            start_transitions.float() + self.start_bias,
            transitions.float() + self.transition_bias,
            end_transitions.float() + self.end_bias,
        )


class CrfDecoder(nn.Module):
    """A standalone, exportable CRF decoder: ``forward(emissions, mask) -> tags (B, T)``.

    Holds a copy of the CRF weights and the constraint masks; script it with
    ``torch.jit.script`` or export it with ``torch.onnx.export(..., dynamo=False)``.

    Args:
        start_transitions: (K,). transitions: (K, K) [from, to]. end_transitions: (K,).
        start_allowed, transition_allowed, end_allowed: constraint masks (see ConstrainedViterbi).
    """

    def __init__(self, start_transitions: torch.Tensor, transitions: torch.Tensor, end_transitions: torch.Tensor,
                 start_allowed: torch.Tensor, transition_allowed: torch.Tensor, end_allowed: torch.Tensor):
        super().__init__()
        self.start_transitions = nn.Parameter(start_transitions.detach().clone().float())
        self.transitions = nn.Parameter(transitions.detach().clone().float())
        self.end_transitions = nn.Parameter(end_transitions.detach().clone().float())
        self.viterbi = ConstrainedViterbi(start_allowed, transition_allowed, end_allowed)

    def forward(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, T, K) emissions, (B, T) mask -> (B, T) best tags, -1 on padding."""
        return self.viterbi(emissions, mask, self.start_transitions, self.transitions, self.end_transitions)[0]
