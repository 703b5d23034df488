"""Tagging schemes: tag sets, tag <-> span conversion with conlleval-style repairs, and the
transition constraints a CRF decoder must respect.

A tag is ``O`` or ``<prefix>-<TYPE>``. Prefixes map to four roles:
    B (begin)                       B
    I (inside)                      I, M (BMES)
    E (end)                         E, L (BILOU)
    S (single-token entity)         S, U (BILOU)
The head's own tagging scheme is ``BIO`` or ``BIOES``; readers accept more file schemes and turn
them into entities first, so the head never depends on a file's format.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from zhnlp.errors import ConfigError

if TYPE_CHECKING:
    import torch

ROLE_OF_PREFIX = {"B": "B", "I": "I", "M": "I", "E": "E", "L": "E", "S": "S", "U": "S"}

# Head tagging schemes: the prefixes each type gets, in tag-index order.
HEAD_SCHEMES = {"BIO": ("B", "I"), "BIOES": ("B", "I", "E", "S")}

Span = tuple[str, int, int]  # (type, first index, last index)  -- both inclusive


def check_head_scheme(scheme: str) -> str:
    """Normalise a head scheme name (``BIO``/``IOB2`` or ``BIOES``/``IOBES``/``BMES``)."""
    name = str(scheme).upper()
    name = {"IOB2": "BIO", "IOBES": "BIOES", "BMES": "BIOES", "BILOU": "BIOES"}.get(name, name)
    if name not in HEAD_SCHEMES:
        raise ConfigError(f"head.scheme={scheme!r} is not supported; use BIO or BIOES.")
    return name


def build_tags(labels: Sequence[str], scheme: str) -> list[str]:
    """The head's tag list: ``O`` first (index 0), then each label's prefixes in scheme order.

    Args:
        labels: entity types, e.g. ``["LOC", "PER"]``.
        scheme: ``BIO`` or ``BIOES``.

    Returns:
        e.g. ``["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]``.
    """
    prefixes = HEAD_SCHEMES[check_head_scheme(scheme)]
    return ["O"] + [f"{p}-{label}" for label in labels for p in prefixes]


def split_tag(tag: str) -> tuple[str, str | None]:
    """``"B-PER"`` -> ``("B", "PER")``; ``"O"`` -> ``("O", None)``. Raises ValueError when malformed."""
    if tag == "O":
        return "O", None
    prefix, sep, typ = tag.partition("-")
    if not sep:
        raise ValueError(f"tag {tag!r} has no '-' between prefix and type (expected e.g. B-PER or O)")
    if prefix not in ROLE_OF_PREFIX:
        raise ValueError(f"tag {tag!r} has unknown prefix {prefix!r} (expected one of B, I, M, E, S, L, U or the tag O)")
    if not typ.strip():
        raise ValueError(f"tag {tag!r} has no entity type after {prefix}-")
    return prefix, typ


def decode_roles(roles: Sequence[tuple[str, str] | None], strict_end: bool) -> tuple[list[Span], int, int]:
    """Turn per-token ``(role, type)`` items (None = O) into spans, repairing as conlleval does.

    An ``I``/``E`` that does not continue an open entity of the same type starts a new entity
    (for ``E`` a one-token one). With ``strict_end`` (BIOES-style schemes) an entity that is
    not closed by ``E``/``S`` is still kept (ending at its last token) and counted as a repair.

    Args:
        roles: one item per token.
        strict_end: True for schemes with explicit ends (BIOES, BMES, BILOU).

    Returns:
        (spans sorted by position, number of repairs, index of the first repair or -1).
    """
    spans: list[Span] = []
    repairs, first = 0, -1
    open_type: str | None = None
    open_start = 0

    def repair(k: int) -> None:
        nonlocal repairs, first
        repairs += 1
        if first < 0:
            first = k

    def close(k: int) -> None:  # close the open entity before token k, if any
        nonlocal open_type
        if open_type is not None:
            spans.append((open_type, open_start, k - 1))
            if strict_end:
                repair(k - 1)
            open_type = None

    for k, item in enumerate(roles):
        if item is None:
            close(k)
            continue
        role, typ = item
        if role == "B":
            close(k)
            open_type, open_start = typ, k
        elif role == "S":
            close(k)
            spans.append((typ, k, k))
        elif role == "I":
            if open_type != typ:
                close(k)
                repair(k)
                open_type, open_start = typ, k
        else:  # "E"
            if open_type == typ:
                spans.append((typ, open_start, k))
                open_type = None
            else:
                close(k)
                repair(k)
                spans.append((typ, k, k))
    close(len(roles))
    return spans, repairs, first


def tags_to_spans(tags: Sequence[str], strict_end: bool) -> tuple[list[Span], int, int]:
    """Like :func:`decode_roles` on tag strings (``"B-PER"``, ``"O"`` ...)."""
    roles = []
    for tag in tags:
        prefix, typ = split_tag(tag)
        roles.append(None if typ is None else (ROLE_OF_PREFIX[prefix], typ))
    return decode_roles(roles, strict_end)


def spans_to_tags(spans: Sequence[Span], length: int, scheme: str) -> list[str]:
    """Tag a sequence of ``length`` items with non-overlapping inclusive spans.

    Args:
        spans: (type, first, last) inclusive; must not overlap.
        length: sequence length.
        scheme: ``BIO`` or ``BIOES``.

    Returns:
        the tag strings.
    """
    bioes = check_head_scheme(scheme) == "BIOES"
    tags = ["O"] * length
    for typ, a, b in spans:
        if bioes and a == b:
            tags[a] = f"S-{typ}"
            continue
        tags[a] = f"B-{typ}"
        for k in range(a + 1, b + 1):
            tags[k] = f"I-{typ}"
        if bioes:
            tags[b] = f"E-{typ}"
    return tags


def transition_constraints(tags: Sequence[str], scheme: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Which tags may start a sequence, follow each other and end a sequence.

    BIO: ``I-X`` only after ``B-X``/``I-X``; never first. BIOES: after ``B-X``/``I-X`` only
    ``I-X``/``E-X``; ``I-X``/``E-X`` only after ``B-X``/``I-X``; the first tag is ``O``/``B``/``S``,
    the last ``O``/``E``/``S``.

    Args:
        tags: the head's tag list (from :func:`build_tags`).
        scheme: ``BIO`` or ``BIOES``.

    Returns:
        (start_allowed (K,), transition_allowed (K, K) indexed [from, to], end_allowed (K,)), bool.
    """
    import torch  # only the heads need tensors; readers use this module without torch

    bioes = check_head_scheme(scheme) == "BIOES"
    parsed = [split_tag(t) for t in tags]
    k = len(tags)
    start = torch.zeros(k, dtype=torch.bool)
    end = torch.zeros(k, dtype=torch.bool)
    trans = torch.zeros(k, k, dtype=torch.bool)
    for j, (p, typ) in enumerate(parsed):
        start[j] = p in ("O", "B", "S")
        end[j] = p in ("O", "E", "S") if bioes else True
    for i, (p1, t1) in enumerate(parsed):
        inside = p1 in ("B", "I")  # an entity of type t1 is open after this tag
        for j, (p2, t2) in enumerate(parsed):
            if p2 in ("I", "E"):
                ok = inside and t1 == t2
            else:  # O, B, S: only where no entity is left open
                ok = not (bioes and p1 in ("B", "I"))
            trans[i, j] = ok
    return start, trans, end


def is_valid_sequence(tags: Sequence[str], scheme: str) -> bool:
    """True when ``tags`` obey the scheme (no repairs needed and, for BIOES, every entity closed)."""
    start, trans, end = transition_constraints(sorted(set(tags) | {"O"}), scheme)
    index = {t: i for i, t in enumerate(sorted(set(tags) | {"O"}))}
    ids = [index[t] for t in tags]
    if not ids:
        return True
    if not start[ids[0]] or not end[ids[-1]]:
        return False
    return all(bool(trans[a, b]) for a, b in zip(ids, ids[1:]))
