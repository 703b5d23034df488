"""Combining ensemble members' predictions of one example (``Head.combine`` and its fallback).

    majority(predictions, weights)           any JSON-able prediction: the weighted most frequent
    vote_spans(predictions, weights, vote)   entity lists: keep what more than ``vote`` predicts
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any, Sequence


def majority(predictions: Sequence[Any], weights: Sequence[float]) -> Any:
    """The (weighted) most frequent prediction; ties go to the earliest member."""
    score: Counter = Counter()
    first: dict[str, Any] = {}
    for pred, w in zip(predictions, weights):
        key = json.dumps(pred, sort_keys=True, ensure_ascii=False)
        score[key] += w
        first.setdefault(key, pred)
    best = max(score.values())
    return next(first[k] for k in first if score[k] == best)


def vote_spans(predictions: Sequence[Sequence[dict]], weights: Sequence[float], vote: float = 0.5) -> list[dict]:
    """Entities predicted by more than ``vote`` of the (weighted) members.

    Args:
        predictions: each member's entities (``{"type", "start", "end", ...}``) for one example.
        weights: one weight per member.
        vote: the share of the total weight an entity ``(type, start, end)`` must exceed
            (0.5: a strict majority).

    Returns:
        the kept entities (each as the first member predicting it wrote it), sorted by
        (start, end, type).
    """
    votes: dict[tuple, float] = defaultdict(float)
    first: dict[tuple, dict] = {}
    for pred, w in zip(predictions, weights):
        for ent in {(e["type"], int(e["start"]), int(e["end"])): e for e in pred}.values():  # one vote per member
            key = (ent["type"], int(ent["start"]), int(ent["end"]))
            votes[key] += w
            first.setdefault(key, ent)
    total = sum(weights)
    kept = [key for key, v in votes.items() if v > vote * total + 1e-9]
    return [first[key] for key in sorted(kept, key=lambda k: (k[1], k[2], k[0]))]
