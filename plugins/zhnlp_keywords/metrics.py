"""Precision / recall / F1 at k of ranked keywords against author keywords.

Per document: the ranked predictions are normalised (NFKC + lower), de-duplicated keeping the
first (best) one, and cut to the top ``k``; ``correct`` = how many of them are gold keywords
(gold also normalised and de-duplicated, and ALL gold keywords count, also those absent from the
text). Then ``P@k = correct / k`` (a method that returns fewer than k keywords is not rewarded
for it), ``R@k = correct / |gold|`` and ``F1@k`` = their harmonic mean. Each of the three is
averaged over documents (macro average, the usual keyphrase-extraction protocol). Documents
without gold keywords are left out.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from zhnlp_keywords.text import normalize_keyword

KS = (3, 5, 10)
MAIN_METRIC = "f1@5"


def _keyword_of(item) -> str:
    """A prediction is ``(keyword, score)`` (a tuple or JSON list) or a bare string."""
    return item if isinstance(item, str) else item[0]


def ranked_keys(predictions: Iterable) -> list[str]:
    """Normalised predicted keywords, best first, duplicates removed."""
    return list(dict.fromkeys(k for k in (normalize_keyword(_keyword_of(p)) for p in predictions) if k))


def gold_keys(keywords: Iterable[str]) -> set[str]:
    return {k for k in (normalize_keyword(g) for g in keywords) if k}


def keyword_metrics(predictions: Sequence[Iterable], golds: Sequence[Iterable[str]],
                    ks: Sequence[int] = KS) -> dict[str, float]:
    """``{"p@k", "r@k", "f1@k"}`` for every k, plus ``"documents"`` (how many were scored).

    Args:
        predictions: per document, ranked ``(keyword, score)`` pairs (or strings), best first.
        golds: per document, the author keywords.
        ks: cut-offs.

    Returns:
        fractions in [0, 1].
    """
    if len(predictions) != len(golds):
        raise ValueError(f"{len(predictions)} predictions for {len(golds)} documents")
    sums = {f"{m}@{k}": 0.0 for k in ks for m in ("p", "r", "f1")}
    n = 0
    for pred, gold in zip(predictions, golds):
        g = gold_keys(gold)
        if not g:
            continue
        n += 1
        ranked = ranked_keys(pred)
        for k in ks:
            correct = len(set(ranked[:k]) & g)
            p, r = correct / k, correct / len(g)
            sums[f"p@{k}"] += p
            sums[f"r@{k}"] += r
            sums[f"f1@{k}"] += 2 * p * r / (p + r) if correct else 0.0
    out = {key: (value / n if n else 0.0) for key, value in sums.items()}
    out["documents"] = float(n)
    return out


def format_table(rows: dict[str, dict[str, float]], ks: Sequence[int] = KS) -> str:
    """One line per method: P / R / F1 at each k, in percent."""
    name_width = max([len(r) for r in rows] + [6])
    header = f"{'method':<{name_width}}" + "".join(f"  {m + '@' + str(k):>7}" for k in ks for m in ("P", "R", "F1"))
    lines = [header, "-" * len(header)]
    for name, metrics in rows.items():
        lines.append(f"{name:<{name_width}}" + "".join(
            f"  {100 * metrics.get(f'{m}@{k}', 0.0):7.2f}" for k in ks for m in ("p", "r", "f1")))
    return "\n".join(lines)
