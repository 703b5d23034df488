"""jieba word segmentation of normalised text, and the BMES tags of each character.

Texts are normalised with :func:`zhnlp.text.same_length` first (one character -> one character),
and ``cut`` keeps ``sum(map(len, words)) == len(text)``, so position ``i`` still describes
character ``i`` of the ORIGINAL string; offsets computed on it are exact.
"""
from __future__ import annotations

import logging
from functools import lru_cache

import jieba

jieba.setLogLevel(logging.WARNING)  # jieba prints "Building prefix dict ..." to stderr otherwise

# BMES tag of a character inside its jieba word. 0 is padding; SEG_SPECIAL marks separators.
SEG_B, SEG_M, SEG_E, SEG_S, SEG_SPECIAL = 1, 2, 3, 4, 5
NUM_SEG_TAGS = 6


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
