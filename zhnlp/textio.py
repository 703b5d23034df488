"""Reading text files: UTF-8 (a BOM dropped), lines split on ``\\n`` only, errors as file:line.

The one implementation every reader, command and plugin uses. Only ``\\n`` ends a line (a
trailing ``\\r`` is dropped), so characters such as U+2028 or U+0085 inside a text stay in it.
Every problem is a :class:`~zhnlp.errors.DataError` naming the file, the line where known, and
the fix (the config key to set, or how to convert the encoding).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Iterator

from zhnlp.errors import ConfigError, DataError

BOM = b"\xef\xbb\xbf"
PATH_KEYS = "data.train_path / data.dev_path / data.test_path"


def check_file(path: str | Path, key: str | None = None) -> Path:
    """``path`` as a Path, or a DataError saying which config key (or option) to fix."""
    p = Path(path)
    which = key or f"whichever of {PATH_KEYS} points here"
    if not p.exists():
        raise DataError(path, None, f"file not found. Fix {which} (or data_root) to point at an existing file.")
    if not p.is_file():
        raise DataError(path, None, f"is not a file (a directory?). Fix {which} to point at the data file itself.")
    return p


def decode(data: bytes, path: str | Path) -> str:
    """UTF-8 bytes -> text (a leading BOM dropped); a DataError naming the line otherwise."""
    if data.startswith(BOM):
        data = data[len(BOM):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        bad = data[err.start : err.start + 1].hex()
        name = Path(path).name
        raise DataError(path, line, f"not valid UTF-8: byte 0x{bad} ({err.reason}). The file is probably in another "
                                    f"encoding (GBK/GB18030 is common for Chinese data); convert it, e.g. "
                                    f"`iconv -f GB18030 -t UTF-8 {name} > {Path(name).stem}.utf8{Path(name).suffix}`."
                        ) from None


def read_text(path: str | Path, key: str | None = None) -> str:
    """The whole file as text (see :func:`decode`)."""
    return decode(check_file(path, key).read_bytes(), path)


def split_lines(text: str) -> list[str]:
    """Split on ``\\n`` only; a trailing ``\\r`` is dropped from each line."""
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def read_lines(path: str | Path, key: str | None = None) -> list[tuple[int, str]]:
    """(1-based line number, line) pairs of the whole file, blank lines included."""
    return list(enumerate(split_lines(read_text(path, key)), start=1))


def iter_lines(path: str | Path, key: str | None = None, strict: bool = True) -> Iterator[tuple[int, str | None, int]]:
    """(line number, line, byte length) streamed, for files too large to read at once.

    Args:
        path: the file.
        key: the config key or option that names it (for the missing-file message).
        strict: a line that is not UTF-8 raises a DataError; False yields None for it instead
            (for builders that count and report bad lines).
    """
    with check_file(path, key).open("rb") as f:
        for number, raw in enumerate(f, 1):
            size = len(raw)
            if number == 1 and raw.startswith(BOM):
                raw = raw[len(BOM):]
            try:
                line: str | None = raw.decode("utf-8").rstrip("\n").removesuffix("\r")
            except UnicodeDecodeError as err:
                if strict:
                    raise DataError(path, number, f"not valid UTF-8 ({err.reason}); convert the file to UTF-8.") from None
                line = None
            yield number, line, size


def parse_json_line(line: str, path: str | Path, number: int) -> dict:
    """One JSON object; a DataError naming file:line otherwise."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(path, number, f"invalid JSON ({exc.msg} at column {exc.colno}).") from None
    if not isinstance(obj, dict):
        raise DataError(path, number, f"expected a JSON object per line, got {type(obj).__name__}.")
    return obj


def read_jsonl(path: str | Path, key: str | None = None) -> list[tuple[int, dict]]:
    """(line number, object) for every non-blank line of a JSON-lines file."""
    return [(n, parse_json_line(line, path, n)) for n, line in read_lines(path, key) if line.strip()]


def read_corpus_lines(path: str | Path, option: str) -> list[str]:
    """The non-blank lines of a raw-text corpus, stripped (for commands such as pretrain and vectors).

    Raises:
        ConfigError: the file given by ``option`` (e.g. ``--corpus``) is missing or holds no text.
        DataError: the file is not valid UTF-8.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{option} {path}: file not found.")
    lines = [line.strip() for line in split_lines(decode(p.read_bytes(), p))]
    lines = [line for line in lines if line]
    if not lines:
        raise ConfigError(f"{option} {path}: no text found (one document or sentence per line).")
    return lines


class Tally:
    """Counts one kind of repaired or skipped input and warns once with the count and the first place."""

    def __init__(self, what: str):
        self.what, self.count, self.first = what, 0, None

    def add(self, path: str, line: int, n: int = 1) -> None:
        if n and self.first is None:
            self.first = f"{path}:{line}"
        self.count += n

    def warn(self) -> None:
        if self.count:
            warnings.warn(f"{self.count} {self.what} (first at {self.first}).", stacklevel=3)
