"""The classification dataset readers (entry points ``thucnews``, ``table``, ``clue_json``).

Entry points: ``thucnews`` -> :func:`build_thucnews_reader`; ``chnsenticorp`` and ``sample_cls``
-> ``table`` (:func:`build_table_reader`); ``clue_json`` -> :func:`build_clue_json_reader`.

A reader is ``reader(path, key) -> list[example]`` (``key``: the config key of the split, e.g.
``data.dev_path``, named in messages) with examples ``{"text", "label", "_file", "_line"}`` plus,
when present, ``"text_b"`` (sentence pairs), ``"id"`` and ``"_classes"``. ``label`` is a string,
or a list of strings for multi-label data (``label_separator``). ``_classes`` (THUCNews reader
with a class file) is the ordered class list; the classification head's ``collect_labels`` then
keeps that order, so label ids match ``class.txt``. Texts are kept exactly as in the file (no
stripping, no normalisation).

Files are read with :mod:`zhnlp.textio`: UTF-8 (a BOM is accepted), lines split on ``\\n`` only.
Bad input raises ``zhnlp.errors.DataError`` naming the file and the 1-based line: undecodable
bytes (with an ``iconv`` hint), wrong column count, empty text or label, a label missing from
``class.txt``, invalid JSON, a missing file. Blank lines are skipped.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from zhnlp.errors import ConfigError, DataError
from zhnlp.textio import parse_json_line, read_lines, read_text, split_lines
from zhnlp.types import DatasetSpec

CLASSES_KEY = "data.reader.classes_path"


def split_labels(value: str, separator: str | None) -> str | list[str]:
    """``"a|b"`` -> ``["a", "b"]`` when a separator is set (order kept, duplicates and blanks dropped)."""
    if separator is None:
        return value
    parts = [p.strip() for p in value.split(separator)]
    return list(dict.fromkeys(p for p in parts if p))


def _check_text(path: str, line: int, value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise DataError(path, line, f"{what} must be a string, got {type(value).__name__}: {value!r}.")
    if not value.strip():
        raise DataError(path, line, f"empty {what}. Remove the line or fill in the {what}.")
    return value


def _check_label(path: str, line: int, value: Any, separator: str | None) -> str | list[str]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, list):
        labels = [str(v).strip() for v in value]
        if not labels or not all(labels):
            raise DataError(path, line, f"empty label in {value!r}. Every example needs at least one label.")
        return list(dict.fromkeys(labels))
    if not isinstance(value, str) or not value.strip():
        raise DataError(path, line, f"empty or missing label ({value!r}). Every example needs a label.")
    label = split_labels(value.strip(), separator)
    if isinstance(label, list) and not label:
        raise DataError(path, line, f"empty label {value!r} (separator {separator!r}).")
    return label


# ---- THUCNews: text<TAB>label-id + class.txt ------------------------------------------------
def read_classes(path: str, key: str | None = None) -> list[str]:
    """Class names of a ``class.txt``: line i (0-based) is the name of label id i.

    Args:
        path: the class file.
        key: the config key that names it (for the missing-file message).
    """
    names = [line.strip() for _, line in read_lines(path, key)]
    while names and not names[-1]:
        names.pop()
    for number, name in enumerate(names, 1):
        if not name:
            raise DataError(path, number, "empty class name. class.txt needs one name per line, line i = id i-1.")
    if len(set(names)) != len(names):
        raise DataError(path, None, f"duplicate class names in {names}.")
    return names


class ThucnewsReader:
    """See :func:`build_thucnews_reader`."""

    def __init__(self, classes_path: str | None = None, delimiter: str = "\t"):
        self.classes_path, self.delimiter = classes_path, delimiter
        # (path, class file or None, first line with a raw numeric id or None) of each file read
        self._read: list[tuple[str, str | None, int | None]] = []

    def class_file(self, path: str) -> str | None:
        """The class file that maps ``path``'s ids: ``classes_path``, else a ``class.txt`` beside it."""
        if self.classes_path:
            return str(self.classes_path)
        sibling = Path(path).with_name("class.txt")
        return str(sibling) if sibling.is_file() else None

    def __call__(self, path: str, key: str | None = None) -> list[dict]:
        path = str(path)
        text = read_text(path, key)
        source = self.class_file(path)
        classes = read_classes(source, CLASSES_KEY if self.classes_path else None) if source else None
        by_name = {name: name for name in classes or []}
        examples, raw_id_line = [], None
        for number, line in enumerate(split_lines(text), 1):
            if not line.strip():
                continue
            fields = line.split(self.delimiter)
            if len(fields) != 2:
                raise DataError(path, number, f"expected 2 columns (text{_show(self.delimiter)}label id), found "
                                              f"{len(fields)}. Is there a stray {_show(self.delimiter)} in the text?")
            title, raw = fields
            _check_text(path, number, title, "text")
            raw = raw.strip()
            if not raw:
                raise DataError(path, number, "empty label id.")
            if classes is None:
                label = raw
                if raw.isdigit() and raw_id_line is None:
                    raw_id_line = number
            elif raw in by_name:
                label = raw
            elif raw.isdigit() and int(raw) < len(classes):
                label = classes[int(raw)]
            else:
                raise DataError(path, number, f"label {raw!r} is not in {source} (ids 0..{len(classes) - 1}: "
                                              f"{classes}). Fix the label or the class file.")
            example = {"text": title, "label": label, "_file": path, "_line": number}
            if classes is not None:
                example["_classes"] = classes
            examples.append(example)
        self._check_same_classes(path, key, source, raw_id_line)
        return examples

    def _check_same_classes(self, path: str, key: str | None, source: str | None, raw_id_line: int | None) -> None:
        """Every split must map its ids with the same class file: a file whose numeric ids stay raw
        (no ``class.txt`` beside it) next to one read with a class file is a DataError naming
        ``data.reader.classes_path``, instead of labels '3' vs 'education' that never match."""
        split = key or "this file"
        for other, other_source, other_raw in self._read:
            if source is None and raw_id_line is not None and other_source is not None:
                raise DataError(path, raw_id_line, f"numeric label ids but no class file maps them: there is no "
                                                   f"{Path(path).with_name('class.txt')} for {split}, while {other} "
                                                   f"took its class names from {other_source}. Set "
                                                   f"{CLASSES_KEY}={other_source} (one class list for every split).")
            if source is not None and other_source is None and other_raw is not None:
                raise DataError(other, other_raw, f"numeric label ids kept raw (no class.txt beside this file), "
                                                  f"while {path} ({split}) maps its ids with {source}. Set "
                                                  f"{CLASSES_KEY}={source} (one class list for every split).")
        self._read.append((path, source, raw_id_line))


def build_thucnews_reader(classes_path: str | None = None, delimiter: str = "\t") -> ThucnewsReader:
    """Reader for THUCNews-style files: ``text<TAB>label_id`` lines plus a ``class.txt``.

    Args:
        classes_path: the class list, line i = name of label id i, for every split. None: use
            the ``class.txt`` next to each data file if there is one, else keep the raw label ids
            as label strings. Splits in different folders need it: a split whose numeric ids have
            no class file, read by the same reader as one that had, is a DataError naming
            ``data.reader.classes_path``.
        delimiter: column separator.

    Returns:
        ``reader(path, key) -> list[example]``; labels are class names, and every example carries
        the ordered class list as ``_classes`` (so the head's label ids follow ``class.txt``).
    """
    return ThucnewsReader(classes_path, delimiter)


# ---- generic CSV / TSV table ----------------------------------------------------------------
def _show(delimiter: str) -> str:
    return {"\t": "<TAB>", ",": "<COMMA>"}.get(delimiter, repr(delimiter))


class TableReader:
    """See :func:`build_table_reader`."""

    def __init__(self, text_column, label_column, text_b_column, delimiter, header, label_separator,
                 id_column, quoting):
        if not delimiter:
            raise ConfigError("table reader: delimiter must be a non-empty string, e.g. '\\t' or ','.")
        self.columns = {"text": text_column, "label": label_column, "text_b": text_b_column, "id": id_column}
        self.delimiter, self.header, self.label_separator = delimiter, bool(header), label_separator
        self.quoting = (delimiter != "\t") if quoting is None else bool(quoting)
        if not self.header:
            for key, col in self.columns.items():
                if col is not None and not _is_index(col):
                    raise ConfigError(f"table reader: header=false, so {key}_column must be a column index "
                                      f"(0-based integer), got {col!r}.")

    def rows(self, path: str, text: str) -> list[tuple[int, list[str]]]:
        """(line number where the record starts, fields) for every non-blank record."""
        out = []
        if not self.quoting:
            for number, line in enumerate(split_lines(text), 1):
                out.append((number, line.split(self.delimiter)))
        else:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
            while True:
                start = reader.line_num + 1
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as err:
                    raise DataError(path, reader.line_num or start, f"cannot parse this CSV record ({err}).") from None
                out.append((start, row))
        return [(n, row) for n, row in out if any(field.strip() for field in row)]

    def resolve(self, path: str, header_row: list[str] | None, line: int) -> dict[str, int | None]:
        index = {}
        for key, col in self.columns.items():
            if col is None:
                index[key] = None
            elif _is_index(col):
                index[key] = int(col)
            elif header_row is not None and col in header_row:
                index[key] = header_row.index(col)
            else:
                raise DataError(path, line, f"no column {col!r} in the header {header_row}. Set the reader's "
                                            f"{key}_column to one of these names (or header=false and a 0-based index).")
        return index

    def __call__(self, path: str, key: str | None = None) -> list[dict]:
        path = str(path)
        rows = self.rows(path, read_text(path, key))
        if not rows:
            return []
        header_row = None
        if self.header:
            header_line, header_row = rows.pop(0)
            header_row = [h.strip() for h in header_row]
        else:
            header_line = rows[0][0]
        index = self.resolve(path, header_row, header_line)
        width = len(header_row) if header_row is not None else (len(rows[0][1]) if rows else 0)
        needed = max(i for i in index.values() if i is not None) + 1
        if width < needed:
            raise DataError(path, header_line, f"{width} column(s) but the reader needs column index {needed - 1}. "
                                               f"Check delimiter={_show(self.delimiter)} and the *_column options.")
        examples = []
        for number, row in rows:
            if len(row) != width:
                raise DataError(path, number, f"expected {width} columns separated by {_show(self.delimiter)}, found "
                                              f"{len(row)}. Is there a stray {_show(self.delimiter)} in the text "
                                              f"(use a quoted CSV, or another delimiter)?")
            example: dict[str, Any] = {
                "text": _check_text(path, number, row[index["text"]], "text"),
                "label": _check_label(path, number, row[index["label"]], self.label_separator),
            }
            if index["text_b"] is not None:
                example["text_b"] = _check_text(path, number, row[index["text_b"]], "text_b")
            if index["id"] is not None:
                example["id"] = row[index["id"]]
            example["_file"], example["_line"] = path, number
            examples.append(example)
        return examples


def _is_index(col: Any) -> bool:
    return (isinstance(col, int) and not isinstance(col, bool) and col >= 0) or (isinstance(col, str) and col.isdigit())


def build_table_reader(
    text_column: str | int = "text_a",
    label_column: str | int = "label",
    text_b_column: str | int | None = None,
    delimiter: str = "\t",
    header: bool = True,
    label_separator: str | None = None,
    id_column: str | int | None = None,
    quoting: bool | None = None,
) -> TableReader:
    """Reader for delimited tables, e.g. ChnSentiCorp's ``label<TAB>text_a`` TSV with a header.

    Args:
        text_column: column of the text: a header name, or a 0-based index.
        label_column: column of the label (name or index).
        text_b_column: column of the second text of a sentence pair (None: single texts).
        delimiter: ``"\\t"`` (TSV), ``","`` (CSV), ...
        header: the first non-blank line names the columns. ``false``: every column option must be
            an index; the first row fixes the expected column count.
        label_separator: split labels on this string for multi-label data (``"a|b"`` ->
            ``["a", "b"]``); None: one label per example.
        id_column: optional column kept as the example's ``id`` (used by submission formats).
        quoting: honour CSV double quotes (fields with delimiters or newlines inside). None:
            on for every delimiter except TAB (TSV files of Chinese text often contain bare
            quotes).

    Returns:
        ``reader(path, key) -> list[example]``.
    """
    return TableReader(text_column, label_column, text_b_column, delimiter, header, label_separator,
                       id_column, quoting)


# ---- CLUE-style JSON lines --------------------------------------------------------------------
class ClueJsonReader:
    """See :func:`build_clue_json_reader`."""

    def __init__(self, text_key, label_key, text_b_key, label_desc_key, id_key, label_separator):
        self.text_key, self.label_key, self.text_b_key = text_key, label_key, text_b_key
        self.label_desc_key, self.id_key, self.label_separator = label_desc_key, id_key, label_separator

    def __call__(self, path: str, key: str | None = None) -> list[dict]:
        path = str(path)
        examples = []
        for number, line in read_lines(path, key):
            if not line.strip():
                continue
            record = parse_json_line(line, path, number)
            example = {"text": _check_text(path, number, self._get(path, number, record, self.text_key), "text")}
            if self.label_desc_key and record.get(self.label_desc_key) not in (None, ""):
                raw = record[self.label_desc_key]
            else:
                raw = self._get(path, number, record, self.label_key)
            example["label"] = _check_label(path, number, raw, self.label_separator)
            if self.text_b_key:
                example["text_b"] = _check_text(path, number, self._get(path, number, record, self.text_b_key), "text_b")
            if self.id_key and self.id_key in record:
                example["id"] = record[self.id_key]
            example["_file"], example["_line"] = path, number
            examples.append(example)
        return examples

    @staticmethod
    def _get(path: str, number: int, record: dict, key: str) -> Any:
        if key not in record:
            raise DataError(path, number, f"no {key!r} field (fields: {sorted(record)}). Set the reader's key "
                                          f"options to the names this file uses.")
        return record[key]


def build_clue_json_reader(
    text_key: str = "sentence",
    label_key: str = "label",
    text_b_key: str | None = None,
    label_desc_key: str | None = "label_desc",
    id_key: str | None = "id",
    label_separator: str | None = None,
) -> ClueJsonReader:
    """Reader for CLUE-style JSON lines, e.g. TNEWS ``{"label": "102", "label_desc":
    "news_entertainment", "sentence": "..."}`` or AFQMC pairs (``text_key=sentence1,
    text_b_key=sentence2``).

    Args:
        text_key: field of the text.
        label_key: field of the label (string, number or list of strings for multi-label).
        text_b_key: field of the second text of a pair (None: single texts).
        label_desc_key: when this field is present and non-empty, its value is the label
            (readable names in reports); set to null to train on ``label_key`` codes.
        id_key: field copied to the example's ``id`` when present.
        label_separator: split string labels on this for multi-label data.

    Returns:
        ``reader(path, key) -> list[example]``.
    """
    return ClueJsonReader(text_key, label_key, text_b_key, label_desc_key, id_key, label_separator)


thucnews = DatasetSpec(build=build_thucnews_reader, label_kind="label",
                       description="THUCNews-style text<TAB>label id lines + class.txt")
table = DatasetSpec(build=build_table_reader, label_kind="label",
                    description="CSV / TSV tables (columns by name or index; pairs, multi-label)")
clue_json = DatasetSpec(build=build_clue_json_reader, label_kind="label",
                        description="CLUE-style JSON lines (TNEWS, AFQMC pairs ...)")
