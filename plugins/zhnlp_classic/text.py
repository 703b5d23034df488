"""Length-preserving character normalisation and jieba word segmentation.

Every function here keeps ``len(result) == len(text)`` so that position ``i`` of the result still
describes character ``i`` of the ORIGINAL string; offsets computed on it are exact.
"""
from __future__ import annotations

import logging
import unicodedata
from functools import lru_cache

import jieba

jieba.setLogLevel(logging.WARNING)  # jieba prints "Building prefix dict ..." to stderr otherwise

# BMES tag of a character inside its jieba word. 0 is padding; SEG_SPECIAL marks separators.
SEG_B, SEG_M, SEG_E, SEG_S, SEG_SPECIAL = 1, 2, 3, 4, 5
NUM_SEG_TAGS = 6

_NORM_CACHE: dict[str, str] = {}


def normalize_char(ch: str) -> str:
    """One character -> one character: whitespace -> " ", NFKC (full-width -> half-width) and
    lower case when they give a single character, otherwise the character itself."""
    out = _NORM_CACHE.get(ch)
    if out is None:
        if ch.isspace():
            out = " "
        else:
            out = unicodedata.normalize("NFKC", ch).lower()
            if len(out) != 1 or out.isspace():
                low = ch.lower()
                out = low if len(low) == 1 else ch
        _NORM_CACHE[ch] = out
    return out


_TABLE: dict[int, str] = {}  # str.translate table of every character seen so far
_SEEN: set[str] = set()  # the same characters, for a C-speed "all known?" test


def normalize(text: str) -> str:
    """Normalise every character of ``text`` with :func:`normalize_char`; same length."""
    if not _SEEN.issuperset(text):
        for c in set(text).difference(_SEEN):
            _TABLE[ord(c)] = normalize_char(c)
            _SEEN.add(c)
    return text.translate(_TABLE)


@lru_cache(maxsize=1 << 16)
def cut(text: str) -> tuple[str, ...]:
    """jieba's words of ``text`` (precise mode, HMM on); they concatenate back to ``text``."""
    words = tuple(jieba.cut(text, HMM=True))
    if sum(map(len, words)) != len(text):  # never seen; keep positions exact regardless
        return tuple(text)
    return words


@lru_cache(maxsize=1 << 16)
def bmes(text: str) -> tuple[int, ...]:
    """One BMES tag id per character of ``text``, from the jieba word each character is in."""
    tags: list[int] = []
    for w in cut(text):
        n = len(w)
        if n == 1:
            tags.append(SEG_S)
        else:
            tags.append(SEG_B)
            tags.extend([SEG_M] * (n - 2))
            tags.append(SEG_E)
    return tuple(tags)
