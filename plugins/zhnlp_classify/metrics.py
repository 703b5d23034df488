"""Classification metrics (fractions), multi-label threshold tuning and a printable report.

Per-class precision / recall / F1 are reported for every class of the label set (0.0 where
undefined). Macro averages run over the classes that occur in the gold labels or the predictions
(scikit-learn's convention), micro averages over all decisions.
"""
from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Iterable, Sequence


def _prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _from_counts(tp: Counter, n_pred: Counter, n_gold: Counter, labels: Sequence[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    present = [c for c in dict.fromkeys([*labels, *n_gold, *n_pred]) if n_gold[c] or n_pred[c]]
    per_class = {c: _prf(tp[c], n_pred[c], n_gold[c]) for c in dict.fromkeys([*labels, *present])}
    for i, name in enumerate(("macro_precision", "macro_recall", "macro_f1")):
        out[name] = sum(per_class[c][i] for c in present) / len(present) if present else 0.0
    p, r, f = _prf(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values()))
    out["micro_precision"], out["micro_recall"], out["micro_f1"] = p, r, f
    for c, (p, r, f) in per_class.items():
        out[f"precision/{c}"], out[f"recall/{c}"], out[f"f1/{c}"] = p, r, f
    return out


def single_label_metrics(golds: Sequence[str], preds: Sequence[str], labels: Sequence[str]) -> tuple[dict[str, float], dict[str, int]]:
    """Accuracy, macro / micro P-R-F1 and per-class P-R-F1 of one label per example.

    Args:
        golds: gold label per example.
        preds: predicted label per example.
        labels: the label set (every one gets per-class entries).

    Returns:
        (metrics, gold support per class).
    """
    if len(golds) != len(preds):
        raise ValueError(f"{len(preds)} predictions for {len(golds)} examples")
    tp, n_pred, n_gold = Counter(), Counter(), Counter()
    for g, p in zip(golds, preds):
        n_gold[g] += 1
        n_pred[p] += 1
        tp[g] += g == p
    metrics = {"acc": sum(tp.values()) / len(golds) if golds else 0.0}
    metrics.update(_from_counts(tp, n_pred, n_gold, labels))
    return metrics, dict(n_gold)


def multi_label_metrics(golds: Sequence[Iterable[str]], preds: Sequence[Iterable[str]], labels: Sequence[str]) -> tuple[dict[str, float], dict[str, int]]:
    """Multi-label metrics: ``subset_acc`` (exact set match; also reported as ``acc``),
    ``example_f1`` (mean per-example F1, 1.0 when both sets are empty), micro / macro and
    per-class P-R-F1 over (example, label) decisions.

    Returns:
        (metrics, gold support per class).
    """
    if len(golds) != len(preds):
        raise ValueError(f"{len(preds)} predictions for {len(golds)} examples")
    tp, n_pred, n_gold = Counter(), Counter(), Counter()
    exact, example_f1 = 0, 0.0
    for g, p in zip(golds, preds):
        g, p = set(g), set(p)
        n_gold.update(g)
        n_pred.update(p)
        tp.update(g & p)
        exact += g == p
        example_f1 += 1.0 if not g and not p else 2 * len(g & p) / (len(g) + len(p))
    n = len(golds)
    metrics = {"subset_acc": exact / n if n else 0.0, "example_f1": example_f1 / n if n else 0.0}
    metrics["acc"] = metrics["subset_acc"]
    metrics.update(_from_counts(tp, n_pred, n_gold, labels))
    return metrics, dict(n_gold)


def best_threshold(probs: Sequence[float], gold: Sequence[bool], default: float = 0.5) -> tuple[float, float]:
    """The decision threshold that maximises F1 of one label (predict positive when p >= t).

    Every distinct cut of the sorted probabilities is tried; the threshold returned is the
    midpoint between the lowest probability kept and the next lower one (half of it at the
    bottom), so it generalises a little better than the probability itself. Ties keep the
    highest threshold. With no positive gold example, ``default`` is returned unchanged.

    Returns:
        (threshold, F1 at that threshold).
    """
    positives = sum(bool(g) for g in gold)
    if positives == 0:
        return default, 0.0
    pairs = sorted(zip(probs, gold), key=lambda x: -x[0])
    best_f1, best_t = 0.0, default
    tp = k = 0
    i = 0
    while i < len(pairs):
        p = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == p:  # take the whole tie group
            tp += bool(pairs[i][1])
            k += 1
            i += 1
        f1 = 2 * tp / (k + positives)
        if f1 > best_f1:
            lower = pairs[i][0] if i < len(pairs) else 0.0
            best_f1, best_t = f1, (p + lower) / 2
    return best_t, best_f1


def format_report(metrics: dict[str, float], support: dict[str, int] | None = None) -> str:
    """A per-class precision / recall / F1 table (percent) with macro, micro and accuracy rows."""
    support = support or {}
    classes = [k.split("/", 1)[1] for k in metrics if k.startswith("f1/")]
    width = max([_width(c) for c in classes] + [12])
    total = sum(support.values())

    def row(name: str, p: float, r: float, f: float, n: int | str) -> str:
        pad = " " * (width - _width(name))
        return f"{name}{pad}  {100 * p:9.2f}  {100 * r:7.2f}  {100 * f:7.2f}  {n:>7}"

    lines = [f"{'class':<{width}}  {'precision':>9}  {'recall':>7}  {'f1':>7}  {'support':>7}"]
    for c in classes:
        lines.append(row(c, metrics.get(f"precision/{c}", 0.0), metrics.get(f"recall/{c}", 0.0),
                         metrics.get(f"f1/{c}", 0.0), support.get(c, 0)))
    lines.append(row("macro avg", metrics.get("macro_precision", 0.0), metrics.get("macro_recall", 0.0),
                     metrics.get("macro_f1", 0.0), total))
    lines.append(row("micro avg", metrics.get("micro_precision", 0.0), metrics.get("micro_recall", 0.0),
                     metrics.get("micro_f1", 0.0), total))
    extra = [f"{name} {100 * metrics[name]:.2f}" for name in ("acc", "example_f1") if name in metrics]
    if "subset_acc" in metrics:
        extra[0] = f"subset_acc {100 * metrics['subset_acc']:.2f}"
    if extra:
        lines.append("  ".join(extra))
    return "\n".join(lines)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
