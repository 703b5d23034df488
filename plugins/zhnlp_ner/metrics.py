"""Entity-level precision / recall / F1 (micro, macro and per type) and a printable report.

Both gold and predicted entities are char-offset dicts. When neither side has overlapping
entities, each text is tagged per char in the head's scheme and scored with seqeval
(default mode for BIO, strict mode for BIOES). With overlapping (nested) entities a tag
sequence cannot hold them, so exact (type, start, end) set matching is used instead; on
non-overlapping data both give identical numbers (tested).
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence


from zhnlp_ner.schemes import check_head_scheme, spans_to_tags

Entity = tuple[str, int, int]  # (type, start, end exclusive)


def _keys(entities: Iterable[dict]) -> set[Entity]:
    return {(e["type"], int(e["start"]), int(e["end"])) for e in entities}


def has_overlap(entities: set[Entity]) -> bool:
    """True when two of these char spans share a char."""
    ordered = sorted(entities, key=lambda x: (x[1], x[2]))
    return any(b[1] < a[2] for a, b in zip(ordered, ordered[1:]))


def _finish(tp: Counter, n_pred: Counter, n_gold: Counter) -> dict[str, float]:
    def prf(t: int, p: int, g: int) -> tuple[float, float, float]:
        precision = t / p if p else 0.0
        recall = t / g if g else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    out: dict[str, float] = {}
    types = sorted(set(n_pred) | set(n_gold))
    per_type = {t: prf(tp[t], n_pred[t], n_gold[t]) for t in types}
    out["precision"], out["recall"], out["f1"] = prf(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values()))
    for i, name in enumerate(("macro_precision", "macro_recall", "macro_f1")):
        out[name] = sum(v[i] for v in per_type.values()) / len(types) if types else 0.0
    for t, (p, r, f) in per_type.items():
        out[f"precision/{t}"], out[f"recall/{t}"], out[f"f1/{t}"] = p, r, f
    return out


def span_metrics(golds: Sequence[set[Entity]], preds: Sequence[set[Entity]]) -> dict[str, float]:
    """Exact (type, start, end) matching; macro averages over types seen in gold or predictions."""
    tp, n_pred, n_gold = Counter(), Counter(), Counter()
    for gold, pred in zip(golds, preds):
        n_gold.update(t for t, _, _ in gold)
        n_pred.update(t for t, _, _ in pred)
        tp.update(t for t, _, _ in gold & pred)
    return _finish(tp, n_pred, n_gold)


def seqeval_metrics(golds: Sequence[set[Entity]], preds: Sequence[set[Entity]], lengths: Sequence[int], scheme: str) -> dict[str, float]:
    """Char-level tags in ``scheme`` scored by seqeval (entity level)."""
    from seqeval.metrics import classification_report  # imports scikit-learn: only when scoring
    from seqeval.scheme import IOBES

    scheme = check_head_scheme(scheme)
    y_true, y_pred = [], []
    for gold, pred, n in zip(golds, preds, lengths):
        y_true.append(spans_to_tags([(t, s, e - 1) for t, s, e in gold], n, scheme))
        y_pred.append(spans_to_tags([(t, s, e - 1) for t, s, e in pred], n, scheme))
    if scheme == "BIOES":
        report = classification_report(y_true, y_pred, mode="strict", scheme=IOBES, output_dict=True, zero_division=0)
    else:
        report = classification_report(y_true, y_pred, output_dict=True, zero_division=0)
    out = {
        "precision": report["micro avg"]["precision"], "recall": report["micro avg"]["recall"],
        "f1": report["micro avg"]["f1-score"], "macro_precision": report["macro avg"]["precision"],
        "macro_recall": report["macro avg"]["recall"], "macro_f1": report["macro avg"]["f1-score"],
    }
    for t, row in report.items():
        if t.endswith(" avg"):
            continue
        out[f"precision/{t}"], out[f"recall/{t}"], out[f"f1/{t}"] = row["precision"], row["recall"], row["f1-score"]
    return {k: float(v) for k, v in out.items()}


def entity_metrics(predictions: Sequence[Iterable[dict]], examples: Sequence[dict], scheme: str | None) -> tuple[dict[str, float], dict[str, int]]:
    """Score predicted entities against ``examples[i]["entities"]``.

    Args:
        predictions: one list of entity dicts per example.
        examples: the gold examples (``text``, ``entities``).
        scheme: ``BIO``/``BIOES`` to score with seqeval; None for span-set matching.

    Returns:
        (metrics as fractions, gold support per type).
    """
    if len(predictions) != len(examples):
        raise ValueError(f"{len(predictions)} predictions for {len(examples)} examples")
    golds = [_keys(ex.get("entities", [])) for ex in examples]
    preds = [_keys(p) for p in predictions]
    support = Counter(t for g in golds for t, _, _ in g)
    if not any(golds) and not any(preds):
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0, "macro_precision": 0.0, "macro_recall": 0.0, "macro_f1": 0.0}, {}
    nested = any(has_overlap(s) for s in golds) or any(has_overlap(s) for s in preds)
    lengths = [max([len(ex["text"])] + [e for s in (g, p) for _, _, e in s]) for ex, g, p in zip(examples, golds, preds)]
    if scheme is None or nested:
        metrics = span_metrics(golds, preds)
    else:
        metrics = seqeval_metrics(golds, preds, lengths, scheme)
    return metrics, dict(support)


def format_report(metrics: dict[str, float], support: dict[str, int] | None = None) -> str:
    """A per-type table of precision / recall / F1 (percent) with micro and macro rows."""
    support = support or {}
    types = sorted({k.split("/", 1)[1] for k in metrics if k.startswith("f1/")})
    width = max([len(t) for t in types] + [9])
    lines = [f"{'type':<{width}}  {'precision':>9}  {'recall':>7}  {'f1':>7}  {'support':>7}"]
    for t in types:
        lines.append(
            f"{t:<{width}}  {100 * metrics.get(f'precision/{t}', 0.0):9.2f}  {100 * metrics.get(f'recall/{t}', 0.0):7.2f}"
            f"  {100 * metrics.get(f'f1/{t}', 0.0):7.2f}  {support.get(t, 0):7d}"
        )
    total = sum(support.values())
    lines.append(
        f"{'micro avg':<{width}}  {100 * metrics.get('precision', 0.0):9.2f}  {100 * metrics.get('recall', 0.0):7.2f}"
        f"  {100 * metrics.get('f1', 0.0):7.2f}  {total:7d}"
    )
    lines.append(
        f"{'macro avg':<{width}}  {100 * metrics.get('macro_precision', 0.0):9.2f}  {100 * metrics.get('macro_recall', 0.0):7.2f}"
        f"  {100 * metrics.get('macro_f1', 0.0):7.2f}  {total:7d}"
    )
    return "\n".join(lines)
