"""Inverse document frequencies from the user's own corpus, written in jieba's IDF file format
(``word idf`` per line, UTF-8), so ``jieba.analyse`` and the ``tfidf`` method can use them.

``idf(w) = log((N + 1) / (df(w) + 1)) + 1`` (smoothed), with ``df`` counted over documents
segmented by the same jieba tokenizer the extractor uses. Words unseen in the corpus get
jieba's usual fallback, the median IDF of the file.
"""
from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Iterable

from zhnlp.errors import ConfigError, DataError
from zhnlp.textio import parse_json_line, read_lines
from zhnlp_keywords.segmenter import tokenizers


def document_frequencies(texts: Iterable[str], user_dict: str | None = None) -> tuple[Counter, int]:
    """(document frequency per word, number of documents); whitespace-only words are skipped."""
    tokenizer, _ = tokenizers(user_dict)
    df: Counter = Counter()
    n = 0
    for text in texts:
        n += 1
        df.update({w for w in tokenizer.cut(text) if w.strip() and " " not in w})
    return df, n


def compute_idf(texts: Iterable[str], user_dict: str | None = None) -> dict[str, float]:
    """Smoothed IDF of every word in ``texts``.

    Raises:
        ConfigError: no documents.
    """
    df, n = document_frequencies(texts, user_dict)
    if n == 0:
        raise ConfigError("idf_corpus is empty: give at least one document to compute IDF from.")
    return {w: math.log((n + 1) / (c + 1)) + 1.0 for w, c in df.items()}


def write_idf(idf: dict[str, float], path: str | Path) -> Path:
    """Write ``word idf`` lines (jieba's format), highest IDF first, then by word."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8") as f:
        for word, value in sorted(idf.items(), key=lambda kv: (-kv[1], kv[0])):
            f.write(f"{word} {value:.6f}\n")
    return p


def read_idf(path: str | Path) -> dict[str, float]:
    """Read a jieba-format IDF file.

    Raises:
        DataError: missing file, invalid UTF-8 or a malformed line.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(str(p), None, "IDF file not found. Pass idf_path=FILE in jieba's format ('word idf' "
                                      "per line) or idf_corpus=... to compute one.")
    out = {}
    for number, line in read_lines(p):
        if not line.strip():
            continue
        word, _, value = line.strip().rpartition(" ")
        try:
            out[word] = float(value)
        except ValueError:
            raise DataError(str(p), number, f"expected 'word idf', got {line!r}.") from None
        if not word:
            raise DataError(str(p), number, f"expected 'word idf', got {line!r}.")
    if not out:
        raise DataError(str(p), None, "IDF file is empty.")
    return out


def read_documents(path: str | Path, tsv: bool = False, key: str = "--input") -> list[dict]:
    """Documents of a file, one per line: JSON objects with ``text`` (other fields kept), or plain
    text (with ``tsv=True``, a keyword TSV line gives its text column). Blank lines are skipped;
    each document records its ``_line``.

    Args:
        path: the file.
        tsv: read tab-separated lines as keyword TSV rows.
        key: the option that names the file (``--input``, ``--corpus``, ``idf_corpus``), for the
            missing-file message.

    Raises:
        DataError: missing file, invalid UTF-8 or JSON, a JSON line without a string ``text``.
    """
    if not Path(path).exists():
        raise DataError(str(path), None, f"file not found. Fix {key} to point at an existing file.")
    docs = []
    for number, line in read_lines(path, key):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            obj = parse_json_line(line, path, number)
            if not isinstance(obj.get("text"), str):
                raise DataError(str(path), number, "JSON line without a string 'text' field.")
            docs.append({**obj, "_line": number})
        elif tsv and "\t" in line:
            cols = line.split("\t")
            docs.append({"text": cols[1] if len(cols) >= 3 else cols[0], "_line": number})
        else:
            docs.append({"text": line, "_line": number})
    return docs


def read_corpus(path: str | Path, key: str = "idf_corpus") -> list[str]:
    """Texts of a corpus file: JSON lines with ``text``, keyword TSV (the text column), or one
    plain document per line (see :func:`read_documents`)."""
    return [doc["text"] for doc in read_documents(path, tsv=True, key=key)]
