"""Raw text corpora (one document or sentence per line) for commands such as pretrain and vectors."""
from __future__ import annotations

from pathlib import Path

from zhnlp.errors import ConfigError, DataError


def read_raw_lines(path: str | Path, option: str) -> list[str]:
    """The non-blank lines of a UTF-8 text file, stripped (a leading BOM is dropped).

    Raises:
        ConfigError: the file given by ``option`` (e.g. ``--corpus``) is missing or holds no text.
        DataError: the file is not valid UTF-8 (names the line and suggests a conversion).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{option} {path}: file not found.")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise DataError(path, line, f"not valid UTF-8 ({err.reason}); convert it, e.g. "
                                    f"`iconv -f GB18030 -t UTF-8 {path.name} > {path.stem}.utf8{path.suffix}`.") from None
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        raise ConfigError(f"{option} {path}: no text found (one document or sentence per line).")
    return lines
