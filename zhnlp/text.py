"""Normalising Chinese text while keeping offsets into the ORIGINAL string.

Two shapes, one per need:
    same_length(text)            one character -> one character (whitespace -> " ", NFKC full-width
                                 -> half-width, lower case where that gives one character), so
                                 position i still describes original character i (tokenizers)
    fold_with_offsets(text, f)   any per-character fold (``nfkc_lower``, or a plugin's own that
                                 drops punctuation); returns the folded text and, per folded
                                 character, the index of the original character it came from
                                 (matching keywords, mentions, KB names)
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Callable


@lru_cache(maxsize=1 << 16)
def same_length_char(ch: str) -> str:
    """One character -> one character: whitespace -> ``" "``; NFKC and lower case when they give a
    single non-space character; otherwise the character lower-cased, or itself."""
    if ch.isspace():
        return " "
    out = unicodedata.normalize("NFKC", ch).lower()
    if len(out) != 1 or out.isspace():
        low = ch.lower()
        out = low if len(low) == 1 else ch
    return out


_TABLE: dict[int, str] = {}  # str.translate table of every character seen so far
_SEEN: set[str] = set()  # the same characters, for a C-speed "all known?" test


def same_length(text: str) -> str:
    """``text`` with :func:`same_length_char` applied to every character; ``len`` unchanged."""
    if not _SEEN.issuperset(text):
        for c in set(text).difference(_SEEN):
            _TABLE[ord(c)] = same_length_char(c)
            _SEEN.add(c)
    return text.translate(_TABLE)


@lru_cache(maxsize=1 << 16)
def nfkc_lower(ch: str) -> str:
    """NFKC (full-width -> half-width, compatibility forms) then lower case; may change length
    (``㎏`` -> ``kg``). Whitespace of any kind becomes one ASCII space."""
    if ch.isspace():
        return " "
    return unicodedata.normalize("NFKC", ch).lower()


def fold_with_offsets(text: str, fold: Callable[[str], str] = nfkc_lower) -> tuple[str, list[int]]:
    """Fold ``text`` character by character.

    Args:
        text: the original string.
        fold: one character -> its folded form (any length, ``""`` drops it).

    Returns:
        (folded, origin): ``origin[j]`` is the index in ``text`` of the character folded
        character ``j`` came from, so a match ``[j, k)`` covers ``text[origin[j] : origin[k - 1] + 1]``.
    """
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        folded = fold(ch)
        out.append(folded)
        origin.extend([i] * len(folded))
    return "".join(out), origin
