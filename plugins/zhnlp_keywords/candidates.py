"""KeyBERT candidates from jieba: POS-filtered words and noun-phrase n-grams of adjacent ones.

A candidate word has a noun-like POS tag (``n``, ``nr``, ``ns``, ``nt``, ``nz``, ``vn``, ``eng``,
... see :data:`NOUN_POS`), at least two characters (or one Latin/digit token of two or more), at
least one letter, and is not a stopword. Runs of candidate words that are adjacent in the text
(two Latin words may be separated by spaces) also give n-grams of 2..``max_ngram`` words; their
surface form is the original substring. Candidates are de-duplicated by their normalised form
(NFKC + lower), keeping the first occurrence's surface.
"""
from __future__ import annotations

import unicodedata
from typing import Iterable

from zhnlp_keywords.segmenter import pos_cut
from zhnlp_keywords.text import normalize_keyword

NOUN_POS = ("n", "nr", "nrfg", "nrt", "ns", "nt", "nz", "nw", "ng", "vn", "an", "eng", "j")


def _has_letter(word: str) -> bool:
    return any(unicodedata.category(c)[0] == "L" for c in word)


def candidate_spans(text: str, allow_pos: Iterable[str] = NOUN_POS, stopwords: frozenset[str] = frozenset(),
                    max_ngram: int = 3, user_dict: str | None = None) -> list[tuple[str, int, int]]:
    """Candidate phrases of ``text`` with every occurrence.

    Args:
        text: the document.
        allow_pos: jieba POS tags of candidate words.
        stopwords: normalised words that are never candidates (nor parts of n-grams).
        max_ngram: longest phrase in words (1: single words only).
        user_dict: jieba user dictionary (domain terms become single words).

    Returns:
        ``(surface, start, end)`` for every occurrence of every candidate, in text order
        (surfaces of one normalised candidate may differ in width/case).
    """
    allow = frozenset(allow_pos)
    words = pos_cut(text, user_dict)
    good = []
    for word, pos, start in words:
        key = normalize_keyword(word)
        ok = (pos in allow and key not in stopwords and _has_letter(word) and word == word.strip()
              and (len(word) >= 2))
        good.append(ok)
    spans = []
    n = len(words)
    for i in range(n):
        if not good[i]:
            continue
        count, j = 0, i
        while j < n and count < max_ngram:
            if not good[j]:
                break
            count += 1
            end = words[j][2] + len(words[j][0])
            spans.append((text[words[i][2]:end], words[i][2], end))
            j += 1
            # two Latin words separated only by spaces stay one phrase ("deep learning")
            if j + 1 < n and words[j][0].isspace() and words[j][1] == "x" and words[j - 1][1] == "eng" \
                    and good[j + 1] and words[j + 1][1] == "eng":
                j += 1
    spans.sort(key=lambda s: (s[1], s[2]))
    return spans


def group_candidates(spans: Iterable[tuple[str, int, int]]) -> dict[str, list[tuple[str, int, int]]]:
    """Occurrences grouped by normalised candidate, in order of first occurrence."""
    groups: dict[str, list[tuple[str, int, int]]] = {}
    for surface, start, end in spans:
        groups.setdefault(normalize_keyword(surface), []).append((surface, start, end))
    return groups
