"""Reading classification data files: strict UTF-8 with errors that say where and how to fix."""
from __future__ import annotations

from pathlib import Path

from zhnlp.errors import DataError

BOM = b"\xef\xbb\xbf"


def read_text(path: str) -> str:
    """The whole file as text: UTF-8, a leading BOM dropped silently (``utf-8-sig``).

    Raises:
        DataError: the file is missing, is a directory, or is not valid UTF-8 (the message gives
            the line, the byte offset and the offending byte).
    """
    p = Path(path)
    if not p.exists():
        raise DataError(path, None, "file not found. Fix data.train_path / dev_path / test_path (or data_root).")
    if not p.is_file():
        raise DataError(path, None, "is a directory, not a data file. Point the path at the file itself.")
    data = p.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        bad = data[err.start : err.start + 1].hex()
        raise DataError(
            path, line,
            f"not valid UTF-8: byte 0x{bad} at byte offset {err.start} ({err.reason}). The file is probably "
            f"in another encoding (GBK/GB18030 is common for Chinese data); convert it, e.g. "
            f"`iconv -f GB18030 -t UTF-8 {p.name} > {p.stem}.utf8{p.suffix}`.",
        ) from None


def lines(text: str) -> list[str]:
    """Split on ``\\n`` only (keeping U+2028, U+0085 ... inside texts); a trailing ``\\r`` is dropped."""
    out = text.split("\n")
    return [line[:-1] if line.endswith("\r") else line for line in out]


def split_labels(value: str, separator: str | None) -> str | list[str]:
    """``"a|b"`` -> ``["a", "b"]`` when a separator is set (order kept, duplicates and blanks dropped)."""
    if separator is None:
        return value
    parts = [p.strip() for p in value.split(separator)]
    return list(dict.fromkeys(p for p in parts if p))
