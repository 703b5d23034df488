"""The NLPCC 2016 KBQA file formats: 4-line question blocks and ``s ||| p ||| o`` triple lines.

Question file::

    <question id=1>	《机械设计基础》这本书的作者是谁？
    <triple id=1>	机械设计基础 ||| 作者 ||| 杨可桢，程光蕴，李仲生
    <answer id=1>	杨可桢，程光蕴，李仲生
    ==================================================

``<triple>`` / ``<answer>`` lines are optional (unlabelled questions). Texts are kept exactly
as written (only the line break is removed).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from zhnlp.errors import DataError
from zhnlp.textio import read_lines

_TAG = re.compile(r"^<(question|triple|answer) id=(\d+)>\t?(.*)$")
_SEPARATOR = re.compile(r"^=+\s*$")
_TRIPLE_SPLIT = re.compile(r"\s*\|\|\|\s*")


@dataclass
class Question:
    """One question block; ``line`` is the 1-based line of its ``<question>`` line."""

    id: str
    text: str
    line: int
    triple: tuple[str, str, str] | None = None
    answer: str | None = None
    unusable_triple: str | None = None  # a <triple> with an empty subject, predicate or object


def parse_triple(text: str) -> tuple[str, str, str] | None:
    """``"s ||| p ||| o"`` -> ``(s, p, o)`` with outer spaces stripped; None when malformed
    (fewer than three parts, or an empty subject, predicate or object). An object may itself
    contain ``|||``."""
    parts = _TRIPLE_SPLIT.split(text.strip(), maxsplit=2)
    if len(parts) != 3:
        return None
    subject, predicate, obj = (p.strip() for p in parts)
    if not subject or not predicate or not obj:
        return None
    return subject, predicate, obj


def read_questions(path: str, key: str | None = None) -> list[Question]:
    """Parse an NLPCC question file (UTF-8, read with :func:`zhnlp.textio.read_lines`).

    Args:
        path: the file.
        key: the config key that names it (for the missing-file message).

    Raises:
        DataError: a line that is neither a tagged line, a separator nor blank; a ``<triple>`` or
            ``<answer>`` whose id differs from the question's; a triple without two ``|||``; an
            empty question; a missing or non-UTF-8 file. A triple with an empty part is kept as
            ``unusable_triple``.
    """
    path = str(path)
    out: list[Question] = []
    current: Question | None = None
    for number, line in read_lines(path, key):
        if not line.strip() or _SEPARATOR.match(line):
            continue
        match = _TAG.match(line)
        if not match:
            raise DataError(path, number, f"expected '<question id=N>', '<triple id=N>', '<answer id=N>' or a "
                                          f"line of '=', found {line[:60]!r}.")
        tag, qid, body = match.groups()
        if tag == "question":
            if not body.strip():
                raise DataError(path, number, f"question id={qid} is empty.")
            current = Question(qid, body, number)
            out.append(current)
            continue
        if current is None or current.id != qid:
            where = f"question id={current.id}" if current else "no question before it"
            raise DataError(path, number, f"<{tag} id={qid}> does not belong to the block above ({where}).")
        if tag == "triple":
            if body.count("|||") < 2:
                raise DataError(path, number, f"malformed triple {body[:80]!r}; expected 'subject ||| predicate "
                                              f"||| object'.")
            current.triple = parse_triple(body)
            if current.triple is None:  # the official training data has two such gold triples
                current.unusable_triple = body
        else:
            current.answer = body.strip()
    return out
