"""jieba word segmentation with part-of-speech tags, with an optional user dictionary that stays
private to the extractor (jieba's global default tokenizer is never modified)."""
from __future__ import annotations

import logging
import unicodedata
from functools import lru_cache
from pathlib import Path

import jieba

from zhnlp.errors import ConfigError

jieba.setLogLevel(logging.WARNING)  # jieba prints "Building prefix dict ..." otherwise


@lru_cache(maxsize=8)
def _tokenizers(user_dict: str | None) -> tuple:
    import jieba.posseg  # loads the POS model (~1 s): only when a method segments

    if user_dict is None:
        return jieba.dt, jieba.posseg.dt
    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(user_dict)
    return tokenizer, jieba.posseg.POSTokenizer(tokenizer)


def tokenizers(user_dict: str | None = None) -> tuple:
    """(word tokenizer, POS tokenizer); with ``user_dict`` a private pair that also knows its words.

    Args:
        user_dict: a jieba user dictionary (UTF-8, ``word [freq] [pos]`` per line) or None.

    Raises:
        ConfigError: the file does not exist.
    """
    if user_dict is None:
        return _tokenizers(None)
    path = Path(user_dict)
    if not path.is_file():
        raise ConfigError(f"user_dict={user_dict}: file not found. Give a jieba user dictionary "
                          f"(one 'word [freq] [pos]' per line).")
    return _tokenizers(str(path.resolve()))


@lru_cache(maxsize=1 << 14)
def _width_char(ch: str) -> str:
    out = unicodedata.normalize("NFKC", ch)
    return out if len(out) == 1 else ch


def width_normalized(text: str) -> str:
    """Full-width forms -> half-width (NFKC where it gives one char); same length as ``text``."""
    return "".join(_width_char(c) for c in text)


def pos_cut(text: str, user_dict: str | None = None) -> list[tuple[str, str, int]]:
    """``(word, pos, start)`` for each jieba word of ``text``; words are substrings of the ORIGINAL
    text. jieba segments the width-normalised text (``ＧＰＵ`` is tagged like ``GPU``)."""
    _, pos = tokenizers(user_dict)
    out, start = [], 0
    for pair in pos.cut(width_normalized(text)):
        n = len(pair.word)
        out.append((text[start:start + n], pair.flag, start))
        start += n
    if start != len(text):  # jieba dropped or added chars (never seen): fall back to one char per word
        return [(ch, "x", i) for i, ch in enumerate(text)]
    return out
