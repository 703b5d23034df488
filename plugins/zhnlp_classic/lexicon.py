"""SoftLexicon-style word-set features from jieba's own bundled dictionary (no download).

For every character, the dictionary words (2+ characters) of the text that cover it are sorted
into three sets by the character's place in the word: **B** (word starts here), **M** (inside)
and **E** (ends here) — Ma et al. 2020, "Simplify the Usage of Lexicon in Chinese NER", without
the S set (the character embedding covers single-character words). Each set keeps at most
``max_words`` words, longest first. The encoder embeds the words (randomly initialised table,
vocabulary = words matched in the training texts) and mean-pools each set.
"""
from __future__ import annotations

from functools import lru_cache

import jieba

SETS = 3  # B, M, E
MAX_WORD_LEN = 10  # longer dictionary entries (idioms, phrases) are ignored


def _words(norm: str) -> list[tuple[int, int]]:
    """(start, end) spans, end exclusive, of every dictionary word of 2..MAX_WORD_LEN chars."""
    dag = jieba.dt.get_DAG(norm)  # {start: [inclusive end, ...]}; single chars included
    return [(i, j + 1) for i, ends in dag.items() for j in ends if 1 <= j - i < MAX_WORD_LEN]


@lru_cache(maxsize=1 << 16)
def word_sets(norm: str, max_words: int) -> tuple[tuple[str, ...], ...]:
    """Per character of ``norm``: ``SETS * max_words`` words ("" = empty slot), sets B, M, E.

    Args:
        norm: a normalised text (see :func:`zhnlp.text.same_length`).
        max_words: slots per set; longer words win when more match.

    Returns:
        ``len(norm)`` tuples of ``SETS * max_words`` strings.
    """
    sets = [[[], [], []] for _ in norm]  # [char][B/M/E] -> words
    for s, e in sorted(_words(norm), key=lambda se: (se[0] - se[1], se)):  # longest first
        w = norm[s:e]
        sets[s][0].append(w)
        for m in range(s + 1, e - 1):
            sets[m][1].append(w)
        sets[e - 1][2].append(w)
    out = []
    for per_char in sets:
        row: list[str] = []
        for words in per_char:
            words = words[:max_words]
            row.extend(words + [""] * (max_words - len(words)))
        out.append(tuple(row))
    return tuple(out)
