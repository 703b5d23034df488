"""Public builders and registrations of the NER dataset readers: ``conll`` (entry points
``sample_ner``, ``resume_ner``, ``msra_ner``, ``weibo_ner``) -> :func:`build_conll_reader`;
``cluener`` -> :func:`build_cluener_reader` (:class:`zhnlp.DatasetSpec` objects).

A reader is ``reader(path, key) -> list[example]``; ``key`` (e.g. ``"data.train_path"``) is the
config key of the split, named in the message when the file is missing. Examples:
``{"text", "entities": [{"type", "start", "end", "text"}], "_file", "_line"}``, end exclusive.

Bad input raises ``zhnlp.errors.DataError`` naming file and line. Repaired gold tags (an I-
continuing nothing) and skipped whitespace-only sentences give one warning per file with the
count and the first place. Runs of blank lines are plain separators, not errors.
"""
from __future__ import annotations

from typing import Callable

from zhnlp.types import DatasetSpec
from zhnlp_ner.cluener import read_cluener
from zhnlp_ner.conll import check_options, read_conll

Reader = Callable[[str, str], list]


def build_conll_reader(scheme: str = "auto", column: int = -1, char_column: int = 0,
                       char_with_seg_digit: str | bool = "auto") -> Reader:
    """Reader for char-per-line CoNLL files (``<char> <tag>``, blank line between sentences).

    Args:
        scheme: tag scheme of the file: ``auto`` (detected from the tags), ``BIO``/``IOB2``,
            ``IOB1``, ``BIOES``/``IOBES``, ``BMES`` (M = I) or ``BILOU``.
        column: index of the tag column (default: last).
        char_column: index of the char column (default: first).
        char_with_seg_digit: Weibo-style ``我0`` char columns: ``true`` strips the digits after
            the char, ``false`` keeps the column as is, ``auto`` strips when every token in the
            file is a char followed by digits.

    Returns:
        ``reader(path, key) -> list[example]``.
    """
    check_options(scheme, char_with_seg_digit)

    def read(path: str, key: str) -> list[dict]:
        return read_conll(str(path), scheme=scheme, column=column, char_column=char_column,
                          char_with_seg_digit=char_with_seg_digit, key=key)

    return read


def build_cluener_reader() -> Reader:
    """Reader for CLUENER2020 JSON lines (``label`` spans are end-inclusive char offsets).

    Returns:
        ``reader(path, key) -> list[example]``; unlabelled lines give ``entities: []`` and
        ``_gold: False``.
    """

    def read(path: str, key: str) -> list[dict]:
        return read_cluener(str(path), key=key)

    return read


conll = DatasetSpec(build=build_conll_reader, label_kind="entities",
                    description="char-per-line CoNLL files (BIO, IOB1, BIOES, BMES, BILOU; Weibo's 我0 columns)")
cluener = DatasetSpec(build=build_cluener_reader, label_kind="entities",
                      description="CLUENER2020 JSON lines (end-inclusive char spans)")
