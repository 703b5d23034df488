"""What every NER head shares: the label set, evaluation, the report and long-text windows.

Kept as one small mixin so the three heads stay short; each head adds its own
``targets`` / ``forward`` / ``predict``.
"""
from __future__ import annotations

from typing import Any, Sequence

from zhnlp_ner.alignment import AlignmentStats
from zhnlp_ner.metrics import entity_metrics, format_report
from zhnlp_ner.windows import merge_predictions, split_example


def collect_entity_types(examples: Sequence[dict]) -> list[str]:
    """Sorted entity types present in ``examples`` (the NER label set)."""
    return sorted({ent["type"] for ex in examples for ent in ex.get("entities", ())})


def cluener_record(example: dict, entities: Sequence[dict]) -> dict:
    """One CLUENER2020 submission line: ``{"id", "label": {type: {mention: [[start, end], ...]}}}``.

    CLUENER offsets are inclusive on both ends (ours are end-exclusive); a mention found twice
    lists both spans.
    """
    label: dict[str, dict[str, list[list[int]]]] = {}
    for ent in entities:
        label.setdefault(ent["type"], {}).setdefault(ent["text"], []).append([ent["start"], ent["end"] - 1])
    return {"id": example.get("id"), "label": label}


class EntityHeadMixin:
    """Shared NER-head behaviour. Subclasses set ``labels``, ``window_overlap``, ``stats`` and
    ``eval_scheme`` (``"BIO"``/``"BIOES"`` for seqeval scoring, None for span-set scoring)."""

    main_metric = "f1"
    labels: list[str]
    window_overlap: int
    stats: AlignmentStats
    eval_scheme: str | None

    @staticmethod
    def collect_labels(examples: Sequence[dict]) -> list[str]:
        """Sorted entity types present in ``examples``."""
        return collect_entity_types(examples)

    @property
    def output_formats(self) -> dict[str, Any]:
        """Submission writers for ``zhnlp predict --format NAME``."""
        return {"cluener": cluener_record}

    def flush_warnings(self) -> int:
        """Warn once about gold entities left out of the targets since the last call."""
        return self.stats.flush()

    def evaluate(self, predictions: Sequence[Sequence[dict]], examples: Sequence[dict]) -> dict[str, float]:
        """Micro / macro / per-type entity P, R, F1 as fractions (see :mod:`zhnlp_ner.metrics`)."""
        metrics, self._support = entity_metrics(predictions, examples, self.eval_scheme)
        repairs = getattr(self, "decode_repairs", 0)
        self._repairs_since_eval, self._repairs_seen = repairs - getattr(self, "_repairs_seen", 0), repairs
        return metrics

    def report(self, metrics: dict[str, float]) -> str:
        """Printable per-type table of ``metrics`` (support and repairs from the last ``evaluate``)."""
        table = format_report(metrics, getattr(self, "_support", None))
        repairs = getattr(self, "_repairs_since_eval", 0)
        if repairs:
            table += (f"\n({repairs} repair(s) of decoded tags, as conlleval does: an I-/E- tag continuing no "
                      f"entity started one; in BIOES an entity without E- ended at its last token.)")
        return table

    def split(self, example: dict, max_chars: int) -> list[dict]:
        """Overlapping char windows of a text longer than ``max_chars``."""
        return split_example(example, max_chars, self.window_overlap)

    def merge(self, example: dict, parts: Sequence[tuple[dict, Any]]) -> list[dict]:
        """Window predictions -> one prediction in offsets of ``example["text"]``."""
        return merge_predictions(example, parts)
