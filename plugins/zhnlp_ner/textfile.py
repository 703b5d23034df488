"""Reading data files line by line with errors that name the file, the line and the fix."""
from __future__ import annotations

import warnings
from pathlib import Path

from zhnlp.errors import DataError

PATH_KEYS = "data.train_path / data.dev_path / data.test_path"


def check_file(path: str, key: str | None = None) -> Path:
    """Return ``path`` as a Path or raise DataError saying which config key to fix."""
    p = Path(path)
    which = key or f"whichever of {PATH_KEYS} points here"
    if not p.exists():
        raise DataError(path, None, f"file not found. Fix {which} (or data_root) to point at an existing file.")
    if not p.is_file():
        raise DataError(path, None, f"is not a file (a directory?). Fix {which} to point at the data file itself.")
    return p


def read_lines(path: str, key: str | None = None) -> list[tuple[int, str]]:
    """(1-based line number, line) pairs: UTF-8 (a BOM is dropped), without ``\\n``/``\\r\\n``.

    Only ``\\n`` ends a line, so characters such as U+2028 or U+0085 inside the text are kept.
    """
    data = check_file(path, key).read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise DataError(path, line, f"not valid UTF-8 ({err.reason}); convert the file to UTF-8.") from None
    return [(number, line[:-1] if line.endswith("\r") else line) for number, line in enumerate(text.split("\n"), start=1)]


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
