"""Derive the topic entity's mention in a question from the gold triple's subject.

Tried in order, first hit wins (``method`` says which):
    exact       the subject string occurs in the question
    normalized  its key (width / case / punctuation folded, see ``normalize.key``) occurs in the
                question's key: ``史蒂芬·霍金`` in ``史蒂芬霍金的成就``, ``ipad`` in ``iPad``
    alias       the subject without its parenthetical disambiguation occurs (raw, then by key):
                ``李娜（网球运动员）`` -> ``李娜``
    partial     the longest common substring of the two keys, when it has >= 2 characters and
                covers at least ``min_partial`` of the (alias) subject key: ``万达广场`` -> ``万达``
Spans are char offsets into the ORIGINAL question (``end`` exclusive).
"""
from __future__ import annotations

from dataclasses import dataclass

from zhnlp_kbqa.normalize import key, key_with_offsets, strip_parenthetical

MAX_LCS_CHARS = 256


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    text: str
    method: str


def _find_by_key(question: str, name: str) -> tuple[int, int] | None:
    q_key, origin = key_with_offsets(question)
    n_key = key(name)
    if not n_key:
        return None
    at = q_key.find(n_key)
    if at < 0:
        return None
    return origin[at], origin[at + len(n_key) - 1] + 1


def longest_common_substring(a: str, b: str) -> tuple[int, int]:
    """(start in ``a``, length) of the longest common substring of ``a`` and ``b`` (first one)."""
    a, b = a[:MAX_LCS_CHARS], b[:MAX_LCS_CHARS]
    best_len, best_end = 0, 0
    previous = [0] * (len(b) + 1)
    for i in range(1, len(a) + 1):
        row = [0] * (len(b) + 1)
        ca = a[i - 1]
        for j in range(1, len(b) + 1):
            if ca == b[j - 1]:
                row[j] = previous[j - 1] + 1
                if row[j] > best_len:
                    best_len, best_end = row[j], i
        previous = row
    return best_end - best_len, best_len


def derive_mention(question: str, subject: str, min_partial: float = 0.5) -> Mention | None:
    """The span of ``question`` that names ``subject`` (see the module docstring), or None.

    Args:
        question: the original question text.
        subject: the gold triple's subject.
        min_partial: smallest share of the subject key a ``partial`` match must cover.

    Returns:
        a Mention, or None when no method finds one.
    """
    def make(span: tuple[int, int], method: str) -> Mention:
        return Mention(span[0], span[1], question[span[0] : span[1]], method)

    at = question.find(subject) if subject else -1
    if at >= 0:
        return make((at, at + len(subject)), "exact")
    span = _find_by_key(question, subject)
    if span:
        return make(span, "normalized")
    alias = strip_parenthetical(subject)
    if alias != subject:
        at = question.find(alias)
        if at >= 0:
            return make((at, at + len(alias)), "alias")
        span = _find_by_key(question, alias)
        if span:
            return make(span, "alias")
    q_key, origin = key_with_offsets(question)
    s_key = key(alias)
    start, length = longest_common_substring(q_key, s_key)
    if length >= 2 and s_key and length >= min_partial * len(s_key):
        return make((origin[start], origin[start + length - 1] + 1), "partial")
    return None


def mask_mention(question: str, start: int, end: int, mask: str) -> str:
    """The question with ``question[start:end]`` replaced by ``mask``."""
    return question[:start] + mask + question[end:]
