"""Keyword normalisation (NFKC + lower case, :func:`zhnlp.text.nfkc_lower`) and the stopword list
shared by the extraction methods.

Matching keywords against text happens on the folded form (``zhnlp.text.fold_with_offsets``
keeps the map back to ORIGINAL character offsets); every reported span is an offset pair into the
original string.
"""
from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Iterable

from zhnlp.errors import ConfigError
from zhnlp.text import nfkc_lower
from zhnlp.textio import decode, split_lines


def normalize_keyword(text: str) -> str:
    """The comparison key of a keyword: per-char NFKC + lower, whitespace runs squeezed, stripped.

    Args:
        text: a keyword or candidate phrase.

    Returns:
        the key used for exact-match evaluation and de-duplication.
    """
    return " ".join("".join(nfkc_lower(c) for c in text).split())


def is_ascii_word_char(ch: str) -> bool:
    """Latin letters and digits: a keyword must not start or end inside a run of these."""
    return ch.isascii() and ch.isalnum()


# ---- stopwords ------------------------------------------------------------------------------
DEFAULT_STOPWORDS = "stopwords.txt"


@lru_cache(maxsize=8)
def _read_stopwords(path: str) -> frozenset[str]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"stopwords file {path} not found. Pass a UTF-8 file with one word per line, "
                          f"a list of words, or 'default'.")
    return frozenset(normalize_keyword(w) for w in split_lines(decode(p.read_bytes(), p)) if w.strip())


def load_stopwords(stopwords: str | Iterable[str] | None = "default") -> frozenset[str]:
    """The stopword set (normalised).

    Args:
        stopwords: ``"default"`` (the list shipped with this plugin: Chinese function words,
            academic boilerplate such as 本文 / 研究 / 方法, English function words), a path to a
            UTF-8 file with one word per line, an iterable of words, or None / ``"none"`` for no
            stopwords.

    Returns:
        a frozenset of normalised words.
    """
    if stopwords is None or stopwords == "none":
        return frozenset()
    if isinstance(stopwords, str):
        if stopwords == "default":
            return _read_stopwords(str(files("zhnlp_keywords") / DEFAULT_STOPWORDS))
        return _read_stopwords(stopwords)
    return frozenset(normalize_keyword(w) for w in stopwords if str(w).strip())
