"""The keyword dataset reader: :func:`build_csl_reader` and its spec ``csl`` (entry points ``csl_kg``
and ``sample_keywords``).

File format (CSL ``kg`` task): UTF-8 TSV, no header, one document per line,
``prompt<TAB>text<TAB>kw1_kw2_kw3`` (the prompt column is ignored; two-column lines
``text<TAB>kw1_kw2`` are accepted too). Examples:
``{"text", "keywords", "entities", "id", "_file", "_line"}`` where ``entities`` are the
non-overlapping occurrences of the keywords in ``text`` (type ``KW``, original char offsets), the
training targets of the ``keyword_tagger`` head.

Splits: CSL's only labelled non-test file is ``dev.tsv`` (1,000 abstracts), so the reader carves
it deterministically into train / dev: documents are ordered by SHA-1 of ``"<seed>:<text>"`` and
the first ``round(n * dev_fraction)`` go to dev (independent of line order and of Python's hash
seed; the same text always lands in the same split). See :func:`build_csl_reader` for how the
split is chosen.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

from zhnlp.errors import ConfigError, DataError
from zhnlp.textio import read_lines
from zhnlp.types import DatasetSpec
from zhnlp_keywords.occurrences import keyword_entities

SPLITS = ("auto", "train", "dev", "all")
# When one file is both train and dev, a test read of that same file gets the dev part (no leak).
_KEY_SPLIT = {"data.train_path": "train", "data.dev_path": "dev", "data.test_path": "dev"}


def read_rows(path: str, separator: str = "_", key: str | None = None) -> list[dict]:
    """Parse a keyword TSV into examples (all rows, file order).

    Args:
        path: the TSV file.
        separator: what joins the keywords in the last column.
        key: the config key or option naming the file (``data.train_path``, ``--data``), for the
            missing-file message.

    Raises:
        DataError: missing file, bad UTF-8, wrong column count, empty text.
    """
    examples = []
    for number, line in read_lines(path, key):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) == 3:
            text, kw = cols[1], cols[2]
        elif len(cols) == 2:
            text, kw = cols
        else:
            raise DataError(path, number, f"expected 3 tab-separated columns (prompt, text, keywords joined "
                                          f"by '{separator}') or 2 (text, keywords); found {len(cols)}.")
        if not text.strip():
            raise DataError(path, number, "empty text. Remove the line or fill in the document.")
        keywords = list(dict.fromkeys(k.strip() for k in kw.split(separator) if k.strip()))
        examples.append({"text": text, "keywords": keywords, "entities": keyword_entities(text, keywords),
                         "id": number, "_file": str(path), "_line": number})
    return examples


def carve(examples: list[dict], split: str, dev_fraction: float, seed: int) -> list[dict]:
    """The ``train`` or ``dev`` part of ``examples`` (file order kept), or all of them.

    Args:
        examples: every document of the file.
        split: ``train``, ``dev`` or ``all``.
        dev_fraction: share of documents in dev (``round(n * dev_fraction)`` of them).
        seed: changes which documents go to dev.
    """
    if split == "all":
        return examples
    n_dev = round(len(examples) * dev_fraction)
    order = sorted(range(len(examples)), key=lambda i: (_digest(seed, examples[i]["text"]), i))
    dev = set(order[:n_dev])
    return [ex for i, ex in enumerate(examples) if (i in dev) == (split == "dev")]


def _digest(seed: int, text: str) -> str:
    return hashlib.sha1(f"{seed}:{text}".encode("utf-8")).hexdigest()


def _same_file(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def build_csl_reader(split: str = "auto", dev_fraction: float = 0.2, seed: int = 13,
                     train_path: str | None = None, dev_path: str | None = None,
                     separator: str = "_") -> Callable[..., list[dict]]:
    """Reader for keyword TSV files (CSL ``kg`` layout), carving train/dev from one file.

    Args:
        split: which documents of a file to return. ``all``: every row (use for a held-out test
            file). ``train`` / ``dev``: the deterministic carve (see module doc). ``auto``
            (the data configs' default): when the file read is both ``train_path`` and
            ``dev_path``, the core's train read gets the train part and its dev read the dev
            part (so does a test read of that same file, and a read from elsewhere such as
            ``zhnlp eval``); any other file is read whole.
        dev_fraction: share of a carved file that goes to dev, in (0, 1).
        seed: carving seed (a different seed gives a different, still disjoint, split).
        train_path, dev_path: the data config's paths (the YAMLs pass ``${..train_path}``), so
            ``auto`` knows when one file must be carved.
        separator: what joins the keywords in the last column.

    Returns:
        ``reader(path, key, split=None) -> list[example]``; ``key`` (``data.train_path`` ...,
        ``--data``) names the split being read, ``split`` overrides the configured one.
    """
    if split not in SPLITS:
        raise ConfigError(f"reader split={split!r}: use one of {', '.join(SPLITS)}.")
    if not 0.0 < float(dev_fraction) < 1.0:
        raise ConfigError(f"reader dev_fraction={dev_fraction!r} must be between 0 and 1 (e.g. 0.2).")
    if not separator:
        raise ConfigError("reader separator must be a non-empty string (CSL uses '_').")

    configured = split

    def read(path: str, key: str, split: str | None = None) -> list[dict]:
        chosen = split or configured
        if chosen not in SPLITS:
            raise ConfigError(f"split={chosen!r}: use one of {', '.join(SPLITS)}.")
        if chosen == "auto":
            if _same_file(path, train_path) and _same_file(path, dev_path):
                chosen = _KEY_SPLIT.get(key, "dev")
            else:
                chosen = "all"
        return carve(read_rows(str(path), separator, key), chosen, float(dev_fraction), int(seed))

    return read


csl = DatasetSpec(build=build_csl_reader, label_kind="keywords",
                  description="keyword TSV (CSL kg layout: prompt, text, kw_kw_kw); carves train/dev from one file")
