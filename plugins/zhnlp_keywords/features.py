"""Classic keyphrase features per token, from jieba words of the text itself.

The tagger's encoder sees characters; whether a word is a keyword also depends on facts about
the whole document that a char BiLSTM learns slowly from little data: how often the word occurs,
how specific it is (IDF), where it first and last occurs (a title at the end repeats the
keywords), whether it is a noun. Each char gets the features of the jieba word it belongs to; a
token gets those of its first char; special tokens and whitespace get zeros.

Features (all roughly in [0, 1]): log(1 + term frequency) / 3, IDF / 12 (jieba's table; the median
for unknown words), first and last occurrence as a fraction of the text length, noun-like POS,
word length / 8 (capped at 1), and whether the word occurs in the first sentence and in the last
segment (after the last whitespace or sentence end: the title of a CSL "abstract title" text).
"""
from __future__ import annotations

import math
from functools import lru_cache

import torch

from zhnlp_keywords.candidates import NOUN_POS
from zhnlp_keywords.segmenter import pos_cut
from zhnlp_keywords.text import normalize_keyword

NUM_FEATURES = 8
_SENTENCE_END = frozenset("。.!?！？;；")
_NOUNS = frozenset(NOUN_POS)


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    import jieba.analyse

    default = jieba.analyse.default_tfidf
    return default.idf_freq, default.median_idf


@lru_cache(maxsize=4096)
def char_features(text: str) -> tuple[tuple[float, ...], ...]:
    """One feature tuple per char of ``text`` (zeros on whitespace)."""
    idf, median = _idf()
    words = pos_cut(text)
    keys = [normalize_keyword(w) for w, _, _ in words]
    count: dict[str, int] = {}
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for key, (_, _, start) in zip(keys, words):
        count[key] = count.get(key, 0) + 1
        first.setdefault(key, start)
        last[key] = start
    n = max(1, len(text))
    first_end, last_start = _first_sentence_end(text), _last_segment_start(text)
    in_first = {k for k, (_, _, start) in zip(keys, words) if start < first_end}
    in_last = {k for k, (_, _, start) in zip(keys, words) if start >= last_start}
    zero = (0.0,) * NUM_FEATURES
    out: list[tuple[float, ...]] = []
    for key, (word, pos, _) in zip(keys, words):
        if not key:
            out.extend([zero] * len(word))
            continue
        feats = (math.log1p(count[key]) / 3.0, idf.get(word, median) / 12.0, first[key] / n, last[key] / n,
                 1.0 if pos in _NOUNS else 0.0, min(1.0, len(word) / 8.0),
                 1.0 if key in in_first else 0.0, 1.0 if key in in_last else 0.0)
        out.extend([feats] * len(word))
    return tuple(out)


def _first_sentence_end(text: str) -> int:
    """Index just past the first sentence end (the whole text when there is none)."""
    for i, ch in enumerate(text.rstrip()):
        if ch in _SENTENCE_END:
            return i + 1
    return len(text)


def _last_segment_start(text: str) -> int:
    """Start of the text after its last whitespace or sentence end (ignoring trailing ones)."""
    body = text.rstrip()
    while body and body[-1] in _SENTENCE_END:
        body = body[:-1]
    for i in range(len(body) - 1, -1, -1):
        if body[i].isspace() or body[i] in _SENTENCE_END:
            return i + 1
    return 0


def token_features(texts: list[str], offsets: list, length: int) -> torch.Tensor:
    """(B, T, NUM_FEATURES) features of each row's tokens (first char of the token's span)."""
    out = torch.zeros(len(texts), length, NUM_FEATURES)
    for r, (text, offs) in enumerate(zip(texts, offsets)):
        chars = char_features(text)
        rows = []
        index = []
        for k, (s, e) in enumerate(offs[:length]):
            s, e = int(s), int(e)
            if e > s and s < len(chars):
                index.append(k)
                rows.append(chars[s])
        if rows:
            out[r, index] = torch.tensor(rows)
    return out
