"""Occurrences (span, score) -> one ranked keyword list per text.

Several occurrences of the same keyword (same normalised form) are combined into one score:
``noisy_or`` = 1 - prod(1 - p) (the probability that at least one occurrence is a keyword
span, were they independent: repeated keywords rank higher), ``max`` or ``sum``. The rankings of
several ensemble members combine by their weighted mean score (:func:`combine_rankings`).
"""
from __future__ import annotations

import math
import unicodedata
from typing import Iterable, Sequence

from zhnlp.errors import ConfigError
from zhnlp_keywords.text import normalize_keyword

AGGREGATES = ("noisy_or", "max", "sum")
Occurrence = tuple[int, int, float]  # (start, end exclusive, score) in char offsets


def check_aggregate(name: str) -> str:
    if name not in AGGREGATES:
        raise ConfigError(f"aggregate={name!r}: use one of {', '.join(AGGREGATES)}.")
    return name


def is_keyword_like(surface: str) -> bool:
    """No leading/trailing whitespace and at least one letter, digit or CJK character."""
    if not surface or surface != surface.strip():
        return False
    return any(unicodedata.category(c)[0] in "LN" for c in surface)


def rank_occurrences(text: str, occurrences: Iterable[Occurrence], aggregate: str = "noisy_or",
                     drop_nested: bool = True) -> list[tuple[str, float]]:
    """Combine occurrence scores per keyword and rank.

    Args:
        text: the original text the offsets refer to.
        occurrences: (start, end, score) with scores in [0, 1] (``sum`` accepts any).
        aggregate: ``noisy_or``, ``max`` or ``sum``.
        drop_nested: leave out a keyword each of whose occurrences lies inside an occurrence of
            a better-ranked keyword (a boundary variant such as ``粮食安`` of ``粮食安全``;
            ``粮食`` stays when it also occurs on its own).

    Returns:
        ``[(keyword, score), ...]`` best first; the keyword is the surface form (original
        string) of its highest-scoring occurrence; ties keep the earlier keyword first.
    """
    check_aggregate(aggregate)
    best: dict[str, tuple[float, int, str]] = {}  # key -> (best score, first start, surface)
    acc: dict[str, float] = {}
    spans: dict[str, set[tuple[int, int]]] = {}
    for start, end, score in occurrences:
        surface = text[start:end]
        if not is_keyword_like(surface):
            continue
        key = normalize_keyword(surface)
        spans.setdefault(key, set()).add((start, end))
        score = float(score)
        if aggregate == "noisy_or":
            acc[key] = acc.get(key, 0.0) + math.log1p(-min(score, 1.0 - 1e-12))
        elif aggregate == "sum":
            acc[key] = acc.get(key, 0.0) + score
        else:
            acc[key] = max(acc.get(key, 0.0), score)
        prev = best.get(key)
        if prev is None:
            best[key] = (score, start, surface)
        elif score > prev[0]:
            best[key] = (score, min(prev[1], start), surface)
        else:
            best[key] = (prev[0], min(prev[1], start), prev[2])
    if aggregate == "noisy_or":
        acc = {k: -math.expm1(v) for k, v in acc.items()}
    ranked = sorted(acc, key=lambda k: (-acc[k], best[k][1]))
    if drop_nested:
        ranked = _drop_nested(ranked, spans)
    return [(best[k][2], round(acc[k], 6)) for k in ranked]


def _drop_nested(ranked: list[str], spans: dict[str, set[tuple[int, int]]]) -> list[str]:
    """Keep a key unless every one of its spans lies inside a span of an already kept key."""
    kept: list[str] = []
    covering: list[tuple[int, int]] = []
    for key in ranked:
        inside = all(any(s <= a and b <= e and (s, e) != (a, b) for s, e in covering) for a, b in spans[key])
        if not inside:
            kept.append(key)
            covering.extend(spans[key])
    return kept


def combine_rankings(rankings: Sequence[Sequence], weights: Sequence[float]) -> list[tuple[str, float]]:
    """Several rankings of one text (ensemble members') -> one: the weighted mean score of every
    keyword (same normalised form), 0 from a ranking without it.

    Args:
        rankings: per member, ``[(keyword, score), ...]`` (tuples or JSON lists).
        weights: one weight per member.

    Returns:
        ``[(keyword, score), ...]`` best first; the surface form is the first member's that has the
        keyword; ties keep the order of first appearance (member, then rank).
    """
    total = float(sum(weights)) or 1.0
    score: dict[str, float] = {}
    surface: dict[str, str] = {}
    for ranking, weight in zip(rankings, weights):
        seen: set[str] = set()
        for item in ranking:
            keyword, value = str(item[0]), float(item[1])
            key = normalize_keyword(keyword)
            if key in seen:
                continue
            seen.add(key)
            surface.setdefault(key, keyword)
            score[key] = score.get(key, 0.0) + weight * value / total
    order = {key: i for i, key in enumerate(surface)}
    ranked = sorted(score, key=lambda k: (-score[k], order[k]))
    return [(surface[k], round(score[k], 6)) for k in ranked]
