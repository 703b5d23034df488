"""Char <-> token alignment for entity heads.

Gold entities live in char offsets of the original text; heads work on tokens. A token is
*real* when its offset span is non-empty (special tokens have (0, 0); a SentencePiece ``▁`` that
owns no character has an empty span too). An entity maps to tokens when its start is the first
char of a token and its end is the last char of a token. An entity whose boundary falls inside a
token (``北京`` inside the piece ``在北京``) or on a char with no token (dropped whitespace) is
either left out of the targets or, with ``snap=True``, widened to the tokens that contain it;
both are counted (:class:`AlignmentStats`: a warning, and ``counts()`` for the run's metrics),
never silently shifted.
"""
from __future__ import annotations

import warnings
from collections import Counter
from typing import Any, Iterable, Sequence

Offsets = Sequence[tuple[int, int]]
TokenSpan = tuple[str, int, int]  # (type, first token, last token) -- inclusive


def as_offsets(offsets: Any) -> list[tuple[int, int]]:
    """Normalise an offset mapping (list of pairs, tensor, numpy array) to a list of int tuples."""
    if hasattr(offsets, "tolist"):
        offsets = offsets.tolist()
    elif isinstance(offsets, list) and set(map(type, offsets)) <= {tuple}:
        return offsets  # already pairs (what make_features stores): no copy on the decoding hot path
    return [(int(s), int(e)) for s, e in offsets]


def real_tokens(offsets: Offsets) -> list[int]:
    """Indices of tokens that cover text (non-empty span)."""
    return [k for k, (s, e) in enumerate(offsets) if e > s]


SNAPPED = "boundary inside a token: widened to the tokens containing it"


class AlignmentStats:
    """Counts gold entities a head cannot represent as given (left out, or widened with
    ``snap``); warns once per batch of new cases.

    Cases are keyed by example position and entity, so building targets for the same example
    again (a second epoch, a re-run of setup) does not count it twice.
    """

    def __init__(self, head_name: str):
        self.head_name = head_name
        self.seen: set[tuple] = set()
        self.pending: Counter[str] = Counter()
        self.first: dict[bool, str] = {}
        self.total: Counter[str] = Counter()

    def record(self, example: dict, entity: dict, reason: str) -> None:
        key = (example.get("_file"), example.get("_line"), example.get("_window"), example.get("id"),
               entity.get("type"), entity.get("start"), entity.get("end"))
        if key in self.seen:
            return
        self.seen.add(key)
        self.pending[reason] += 1
        self.total[reason] += 1
        snapped = reason == SNAPPED
        if snapped not in self.first:
            where = f"{example.get('_file', '?')}:{example.get('_line', '?')}"
            self.first[snapped] = f"{where} {entity.get('type')} {entity.get('text')!r}" + ("" if snapped else f" ({reason})")

    def counts(self) -> dict[str, int]:
        """All cases so far: ``{"entities_snapped": n, "entities_left_out": m}`` (for metrics.json)."""
        snapped = self.total[SNAPPED]
        return {"entities_snapped": snapped, "entities_left_out": sum(self.total.values()) - snapped}

    def flush(self) -> int:
        """Emit one warning for the cases recorded since the last flush; return their number."""
        count = sum(self.pending.values())
        snapped = self.pending.pop(SNAPPED, 0)
        left_out = count - snapped
        if snapped:
            warnings.warn(
                f"{snapped} gold entit{'y has' if snapped == 1 else 'ies have'} a boundary inside a token of this "
                f"tokenizer and {'was' if snapped == 1 else 'were'} widened to the tokens containing "
                f"{'it' if snapped == 1 else 'them'} in the {self.head_name} head's training targets; first: "
                f"{self.first[True]}. Predictions on such tokens cover whole tokens, so these entities count as "
                f"misses in evaluation; a tokenizer that splits at these boundaries (a char-level or WordPiece "
                f"encoder) keeps them exact.",
                stacklevel=3,
            )
        if left_out:
            reasons = ", ".join(f"{n} {why}" for why, n in self.pending.most_common())
            warnings.warn(
                f"{left_out} gold entit{'y' if left_out == 1 else 'ies'} cannot be represented by the "
                f"{self.head_name} head on these tokens and {'is' if left_out == 1 else 'are'} left out of its "
                f"training targets ({reasons}); first: {self.first[False]}. They still count as misses in "
                f"evaluation. Use a tokenizer that splits at these boundaries (e.g. a char-level encoder) "
                f"to keep them.",
                stacklevel=3,
            )
        self.pending.clear()
        self.first = {}
        return count


def entity_token_spans(
    entities: Iterable[dict],
    offsets: Offsets,
    label_index: dict[str, int],
    allow_overlap: bool,
    snap: bool = False,
) -> tuple[list[TokenSpan], list[tuple[dict, str]]]:
    """Map char-offset entities to inclusive token spans.

    Args:
        entities: {"type", "start", "end"} dicts, end exclusive.
        offsets: the encoding's offset mapping.
        label_index: known entity types.
        allow_overlap: False for tagging heads (one tag per token): an entity overlapping one
            already placed (longer first, then leftmost) is rejected.
        snap: an entity whose boundary falls inside a token (or on a char without one) is
            widened to the real tokens it touches (reason :data:`SNAPPED`, kept) instead of
            rejected.

    Returns:
        (token spans sorted by position, [(entity, reason)] for every entity not placed as
        given: rejected ones, and with ``snap`` the widened ones (reason :data:`SNAPPED`)).
    """
    first_of: dict[int, int] = {}
    last_of: dict[int, int] = {}
    real = real_tokens(offsets)
    for k in real:
        s, e = offsets[k]
        first_of.setdefault(s, k)
        last_of[e] = k
    spans: list[TokenSpan] = []
    rejected: list[tuple[dict, str]] = []
    taken: set[int] = set()
    seen: set[TokenSpan] = set()
    order = sorted(entities, key=lambda ent: (-(ent["end"] - ent["start"]), ent["start"], ent["type"]))
    for ent in order:
        if ent["type"] not in label_index:
            rejected.append((ent, "type not in the head's labels"))
            continue
        a, b = first_of.get(ent["start"]), last_of.get(ent["end"])
        widened = False
        if (a is None or b is None or a > b) and snap:
            touching = [k for k in real if offsets[k][0] < ent["end"] and offsets[k][1] > ent["start"]]
            a, b = (touching[0], touching[-1]) if touching else (None, None)
            widened = True
        if a is None or b is None or a > b:
            rejected.append((ent, "boundary inside a token or on a char without a token"))
            continue
        span = (ent["type"], a, b)
        if span in seen:  # a duplicate (or, widened, the same tokens as another entity)
            if widened:
                rejected.append((ent, SNAPPED))
            continue
        if not allow_overlap:
            if any(k in taken for k in range(a, b + 1)):
                rejected.append((ent, "overlaps another entity (nested entities need global_pointer)"))
                continue
            taken.update(range(a, b + 1))
        if widened:
            rejected.append((ent, SNAPPED))
        seen.add(span)
        spans.append(span)
    spans.sort(key=lambda sp: (sp[1], sp[2], sp[0]))
    return spans, rejected


def token_spans_to_entities(spans: Iterable[TokenSpan], offsets: Offsets, text: str) -> list[dict]:
    """Inclusive token spans -> entity dicts in char offsets of ``text`` (sorted, no duplicates)."""
    out = {}
    for typ, a, b in spans:
        start, end = offsets[a][0], offsets[b][1]
        if end > start:
            out[(start, end, typ)] = {"type": typ, "start": start, "end": end, "text": text[start:end]}
    return [out[key] for key in sorted(out)]
