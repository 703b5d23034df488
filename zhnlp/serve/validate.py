"""Request bodies -> texts, or an :class:`ApiError` saying what is wrong (the status and one line)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class ApiError(Exception):
    """An error answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


@dataclass(frozen=True)
class Limits:
    """What one request may hold.

    Attributes:
        max_texts: the most texts per request (``--max-texts``).
        max_chars: the most characters per text (``--max-chars``).
    """

    max_texts: int = 256
    max_chars: int = 5000

    @property
    def max_body_bytes(self) -> int:
        """The largest body a valid request can need: every text at the limit, 4-byte UTF-8 (or a
        12-byte ``\\uXXXX\\uXXXX`` escape) per character, plus JSON punctuation."""
        return self.max_texts * (self.max_chars * 12 + 8) + 1024


def parse_texts(body: bytes, limits: Limits) -> list[str]:
    """The ``texts`` of a ``/predict`` body.

    Args:
        body: the raw request body.
        limits: the server's limits.

    Returns:
        The texts, in order (empty strings included).

    Raises:
        ApiError: 400 for a body that is not JSON, 422 for a missing or mistyped ``texts``, 413
            for more texts or longer texts than the limits.
    """
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ApiError(400, f"malformed JSON: the body is not UTF-8 ({error.reason} at byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise ApiError(400, f"malformed JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    if not isinstance(data, dict):
        raise ApiError(422, f"field 'texts' is missing: the body must be an object like {{\"texts\": [\"...\"]}}, "
                            f"not a JSON {json_type(data)}", field="texts")
    if "texts" not in data:
        raise ApiError(422, "field 'texts' is missing: send {\"texts\": [\"...\"]}", field="texts")
    texts = data["texts"]
    if not isinstance(texts, list):
        raise ApiError(422, f"field 'texts' must be a list of strings, not a JSON {json_type(texts)}", field="texts")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ApiError(422, f"field 'texts[{i}]' must be a string, not a JSON {json_type(text)}", field=f"texts[{i}]")
    if len(texts) > limits.max_texts:
        raise ApiError(413, f"too many texts: {len(texts)}; the limit is {limits.max_texts} per request (--max-texts)",
                       limit=limits.max_texts)
    for i, text in enumerate(texts):
        if len(text) > limits.max_chars:
            raise ApiError(413, f"texts[{i}] has {len(text)} characters; the limit is {limits.max_chars} per text "
                                f"(--max-chars)", limit=limits.max_chars)
    return texts


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type."""
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__)
