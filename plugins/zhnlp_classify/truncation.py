"""Truncating an encoding that is longer than the encoder accepts: ``head``, ``tail`` or
``head+tail`` of each text, special tokens always kept.

Special tokens are the positions whose ``offset_mapping`` is ``(0, 0)`` ([CLS], [SEP] of
BERT-like tokenizers, the [SEP] joining a pair in the from-scratch tokenizers). The runs of
ordinary tokens between them are the segments (one per text of a pair). The token budget left
after the specials is shared longest-first (like ``transformers``' ``longest_first``), then each
segment keeps its first tokens (``head``), its last ones (``tail``) or a ``head_fraction`` share
from the start and the rest from the end (``head+tail``; Sun et al. 2019, "How to Fine-Tune BERT
for Text Classification", found 128 head + 382 tail tokens best for long documents).
"""
from __future__ import annotations

from zhnlp.errors import ConfigError

STRATEGIES = ("head", "tail", "head+tail")


def check_strategy(strategy: str, head_fraction: float) -> str:
    """Validate the head's ``truncation`` / ``head_fraction`` options."""
    if strategy not in STRATEGIES:
        raise ConfigError(f"head.truncation={strategy!r}: use one of {', '.join(STRATEGIES)}.")
    if not 0.0 <= float(head_fraction) <= 1.0:
        raise ConfigError(f"head.head_fraction={head_fraction!r} must be between 0 and 1.")
    return strategy


def segments(offsets: list) -> tuple[list[int], list[list[int]]]:
    """(special positions, runs of ordinary positions between them)."""
    special, runs, run = [], [], []
    for i, off in enumerate(offsets):
        if tuple(off) == (0, 0):
            special.append(i)
            if run:
                runs.append(run)
                run = []
        else:
            run.append(i)
    if run:
        runs.append(run)
    return special, runs


def allocate(sizes: list[int], budget: int) -> list[int]:
    """Share ``budget`` tokens among segments, cutting the longest first.

    Returns sizes ``k_i <= sizes[i]`` with ``sum(k) == min(sum(sizes), budget)``: a cap ``c`` is
    applied to every segment (``min(size, c)``) and the few tokens left go to the first segments
    still cut.
    """
    budget = max(0, budget)
    if sum(sizes) <= budget:
        return list(sizes)
    lo, hi = 0, max(sizes)
    while lo < hi:  # largest cap with sum(min(s, cap)) <= budget
        mid = (lo + hi + 1) // 2
        if sum(min(s, mid) for s in sizes) <= budget:
            lo = mid
        else:
            hi = mid - 1
    out = [min(s, lo) for s in sizes]
    left = budget - sum(out)
    for i, s in enumerate(sizes):
        if left and s > out[i]:
            out[i] += 1
            left -= 1
    return out


def pick(run: list[int], keep: int, strategy: str, head_fraction: float) -> list[int]:
    """``keep`` positions of one segment by ``strategy``."""
    if keep >= len(run):
        return run
    if keep <= 0:
        return []
    if strategy == "head":
        return run[:keep]
    if strategy == "tail":
        return run[len(run) - keep :]
    n_head = int(round(keep * head_fraction))
    return run[:n_head] + run[len(run) - (keep - n_head) :]


def keep_positions(offsets: list, max_length: int, strategy: str = "head", head_fraction: float = 0.25) -> list[int]:
    """Sorted positions to keep so that at most ``max_length`` tokens remain (specials first)."""
    if len(offsets) <= max_length:
        return list(range(len(offsets)))
    special, runs = segments(offsets)
    sizes = allocate([len(r) for r in runs], max_length - len(special))
    kept = list(special)
    for run, k in zip(runs, sizes):
        kept += pick(run, k, strategy, head_fraction)
    return sorted(kept)


def truncate_encoding(encoding: dict, max_length: int, strategy: str = "head", head_fraction: float = 0.25) -> dict:
    """The encoding cut to ``max_length`` tokens; every per-token list is cut alike.

    Args:
        encoding: one text's tokenizer output with ``offset_mapping``.
        max_length: token limit.
        strategy: ``head`` | ``tail`` | ``head+tail``.
        head_fraction: share of the kept tokens taken from the start for ``head+tail``.

    Returns:
        A new encoding dict.
    """
    n = len(encoding["input_ids"])
    keep = keep_positions(list(encoding["offset_mapping"]), max_length, strategy, head_fraction)
    out = {}
    for key, values in encoding.items():
        if isinstance(values, (list, tuple)) and len(values) == n:
            out[key] = [values[i] for i in keep]
        else:
            out[key] = values
    return out
