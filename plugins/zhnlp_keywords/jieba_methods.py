"""The jieba baselines behind the keyword-method API: TF-IDF and TextRank (``jieba.analyse``).

Each extractor owns its own ``jieba.analyse`` object (jieba's module-level defaults are never
changed), so two extractors with different IDF tables or user dictionaries can coexist.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Iterable, Sequence

import jieba.analyse
from jieba.analyse.tfidf import IDFLoader

from zhnlp.errors import ConfigError
from zhnlp_keywords.idf import compute_idf, read_corpus, read_idf, write_idf
from zhnlp_keywords.segmenter import tokenizers
from zhnlp_keywords.text import load_stopwords

TEXTRANK_POS = ("ns", "n", "vn", "v")


def check_top_k(top_k) -> int:
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ConfigError(f"top_k={top_k!r}: give a positive integer (keywords per text).")
    return top_k


def check_texts(texts) -> list[str]:
    if isinstance(texts, str):
        raise ConfigError("pass a list of texts (zhnlp.keywords accepts a single string).")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise ConfigError(f"text {i} is a {type(t).__name__}, not a string: {t!r}")
    return texts


def _stop_words(stopwords) -> set[str]:
    """jieba's own English stop words plus ours (``stopwords=None`` keeps jieba's alone)."""
    return set(jieba.analyse.TFIDF.STOP_WORDS) | set(load_stopwords(stopwords))


def _tfidf_engine() -> jieba.analyse.TFIDF:
    """A fresh ``jieba.analyse.TFIDF`` sharing the default IDF table that ``jieba.analyse`` loaded
    at import (reading the 270k-line file again for every extractor takes seconds)."""
    default = jieba.analyse.default_tfidf
    engine = jieba.analyse.TFIDF.__new__(jieba.analyse.TFIDF)
    engine.tokenizer, engine.postokenizer = default.tokenizer, default.postokenizer
    engine.stop_words = set(default.STOP_WORDS)
    engine.idf_loader = IDFLoader()  # empty: never shares state with the default
    engine.idf_freq, engine.median_idf = default.idf_freq, default.median_idf
    return engine


class TfidfExtractor:
    """TF-IDF keywords: jieba's ``extract_tags`` with our IDF/user-dict/stopword options.

    See :func:`zhnlp_keywords.methods.build_tfidf` for the arguments.
    """

    def __init__(self, idf_path: str | None = None, idf_corpus: str | Sequence[str] | None = None,
                 idf_output: str | None = None, user_dict: str | None = None,
                 stopwords: str | Iterable[str] | None = None, allow_pos: Sequence[str] = ()):
        if idf_path and idf_corpus is not None:
            raise ConfigError("give idf_path (a ready IDF file) or idf_corpus (texts to compute one from), not both.")
        self.engine = _tfidf_engine()
        self.engine.tokenizer, self.engine.postokenizer = tokenizers(user_dict)
        self.engine.stop_words = _stop_words(stopwords)
        self.allow_pos = tuple(allow_pos or ())
        self.idf_file: str | None = None
        if idf_path:
            self._use(read_idf(idf_path), str(idf_path))
        elif idf_corpus is not None:
            docs = read_corpus(idf_corpus) if isinstance(idf_corpus, (str, Path)) else list(idf_corpus)
            idf = compute_idf(docs, user_dict)
            if idf_output is None:
                idf_output = str(Path(tempfile.mkdtemp(prefix="zhnlp_idf_")) / "idf.txt")
            self._use(idf, str(write_idf(idf, idf_output)))

    def _use(self, idf: dict[str, float], path: str) -> None:
        values = sorted(idf.values())
        self.engine.idf_freq, self.engine.median_idf = dict(idf), values[len(values) // 2]
        self.idf_file = path

    def __call__(self, texts: Sequence[str], top_k: int = 5) -> list[list[tuple[str, float]]]:
        return _keywords_per_text(self.engine.extract_tags, texts, top_k, self.allow_pos)


def _keywords_per_text(extract, texts: Sequence[str], top_k: int, allow_pos) -> list[list[tuple[str, float]]]:
    """Run a jieba ``extract(text, topK, withWeight, allowPOS)`` per text; blank texts get []."""
    top_k = check_top_k(top_k)
    return [[(w, float(s)) for w, s in extract(text, topK=top_k, withWeight=True, allowPOS=allow_pos)]
            if text.strip() else [] for text in check_texts(texts)]


class TextRankExtractor:
    """TextRank keywords: jieba's co-occurrence graph over POS-filtered words.

    See :func:`zhnlp_keywords.methods.build_textrank` for the arguments.
    """

    def __init__(self, user_dict: str | None = None, stopwords: str | Iterable[str] | None = None,
                 allow_pos: Sequence[str] = TEXTRANK_POS, window: int = 5):
        if window < 2:
            raise ConfigError(f"window={window}: co-occurrence window must be >= 2 words.")
        self.engine = jieba.analyse.TextRank()
        _, pos = tokenizers(user_dict)
        self.engine.tokenizer = self.engine.postokenizer = pos
        self.engine.stop_words = _stop_words(stopwords)
        self.engine.span = int(window)
        self.allow_pos = tuple(allow_pos or TEXTRANK_POS)

    def __call__(self, texts: Sequence[str], top_k: int = 5) -> list[list[tuple[str, float]]]:
        return _keywords_per_text(self.engine.textrank, texts, top_k, self.allow_pos)
