"""What every NER head shares: the label set, evaluation, the report, long-text windows,
ensemble voting and the line-break rule of decoding.

Kept as one small mixin so the three heads stay short; each head adds its own
``targets`` / ``forward`` / ``predict``.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

from zhnlp.alignment import AlignmentStats
from zhnlp.errors import ConfigError
from zhnlp.voting import vote_spans
from zhnlp.windows import merge_predictions, split_example
from zhnlp_ner.metrics import entity_metrics, format_report

# What a gold entity whose boundary falls inside a token becomes in the targets (zhnlp.alignment).
BOUNDARIES = ("snap", "drop")


def check_boundary(boundary: str) -> bool:
    """``head.boundary`` -> the ``snap`` flag of :func:`zhnlp.alignment.entity_token_spans`."""
    if boundary not in BOUNDARIES:
        raise ConfigError(f"head.boundary={boundary!r}: use snap (widen the entity to the tokens containing it) "
                          f"or drop (leave it out of the targets).")
    return boundary == "snap"


# What ``str.splitlines`` breaks at: no decoded entity contains one of these (``split_newlines``).
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_LINE_BREAK = re.compile(f"[{re.escape(LINE_BREAKS)}]")


def cluener_record(example: dict, entities: Sequence[dict]) -> dict:
    """One CLUENER2020 submission line: ``{"id", "label": {type: {mention: [[start, end], ...]}}}``.

    CLUENER offsets are inclusive on both ends (ours are end-exclusive); a mention found twice
    lists both spans.
    """
    label: dict[str, dict[str, list[list[int]]]] = {}
    for ent in entities:
        label.setdefault(ent["type"], {}).setdefault(ent["text"], []).append([ent["start"], ent["end"] - 1])
    return {"id": example.get("id"), "label": label}


def has_line_break(text: str) -> bool:
    """Whether ``text`` holds one of :data:`LINE_BREAKS`."""
    return _LINE_BREAK.search(text) is not None


def cut_at_line_breaks(entities: Sequence[dict], text: str) -> list[dict]:
    """Entities of ``text`` that contain a line break, cut into their pieces on each line.

    A piece keeps the entity's type and loses the whitespace next to the cut (e.g. a space
    before the ``\\n``); empty pieces are dropped. Entities without a line break are returned
    as they are.

    Returns:
        the entities, sorted by (start, end, type) without duplicates.
    """
    if not has_line_break(text):
        return list(entities)
    out: dict[tuple[int, int, str], dict] = {}
    for ent in entities:
        start, end, typ = ent["start"], ent["end"], ent["type"]
        breaks = [m.start() for m in _LINE_BREAK.finditer(text, start, end)]
        if not breaks:
            out[(start, end, typ)] = ent
            continue
        bounds = list(zip([start] + [k + 1 for k in breaks], breaks + [end]))
        for i, (s, e) in enumerate(bounds):
            if i > 0:  # the cut before this piece
                while s < e and text[s].isspace():
                    s += 1
            if i < len(bounds) - 1:  # the cut after it
                while e > s and text[e - 1].isspace():
                    e -= 1
            if e > s:
                out[(s, e, typ)] = {"type": typ, "start": s, "end": e, "text": text[s:e]}
    return [out[key] for key in sorted(out)]


class EntityHeadMixin:
    """Shared NER-head behaviour. Subclasses set ``labels``, ``window_overlap``, ``stats``,
    ``split_newlines`` and ``eval_scheme`` (``"BIO"``/``"BIOES"`` for seqeval scoring, None for
    span-set scoring)."""

    main_metric = "f1"
    labels: list[str]
    window_overlap: int
    split_newlines: bool
    stats: AlignmentStats
    eval_scheme: str | None

    @property
    def output_formats(self) -> dict[str, Any]:
        """Submission writers for ``zhnlp predict --format NAME``."""
        return {"cluener": cluener_record}

    def flush_warnings(self) -> int:
        """Warn once about gold entities left out of the targets since the last call."""
        return self.stats.flush()

    def data_counts(self) -> dict[str, int]:
        """Gold entities (all splits) whose boundary fell inside a token: widened (``boundary:
        snap``) or left out of the targets (``drop``, and entities of other reasons)."""
        return self.stats.counts()

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

    def combine(self, predictions: Sequence[Sequence[dict]], weights: Sequence[float], heads: Sequence[Any],
                vote: float = 0.5) -> list[dict]:
        """One example's ensemble prediction: span voting (see :func:`vote_spans`)."""
        return vote_spans(predictions, weights, vote)

    def cut_lines(self, predictions: list[list[dict]], texts: Sequence[str]) -> list[list[dict]]:
        """With ``split_newlines``, every predicted entity cut at the line breaks of its text."""
        if not self.split_newlines:
            return predictions
        return [cut_at_line_breaks(pred, text) for pred, text in zip(predictions, texts)]
