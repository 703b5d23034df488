"""User-facing errors: short messages that say what is wrong and how to fix it.

The CLI prints these without a traceback; everything else is a bug and keeps its traceback.
"""
from __future__ import annotations


class ZhnlpError(Exception):
    """Base class for errors caused by user input (config, data, paths)."""


class DataError(ZhnlpError):
    """Bad data file content. Names the file and, where known, the 1-based line."""

    def __init__(self, path, line: int | None, message: str):
        self.path, self.line = str(path), line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class ConfigError(ZhnlpError):
    """A config value or option that cannot work."""


class PluginError(ZhnlpError):
    """Unknown plugin name, or two distributions registering the same name."""
