"""CLUENER2020 JSON lines: ``{"text": ..., "label": {type: {mention: [[start, end_inclusive], ...]}}}``.

Test files may have no ``label``: those examples get ``entities: []`` and ``_gold: False``.
"""
from __future__ import annotations

from zhnlp.errors import DataError
from zhnlp.textio import Tally, parse_json_line, read_lines


def parse_label(path: str, line: int, text: str, label) -> list[dict]:
    """The ``label`` object -> sorted, de-duplicated entity dicts (end exclusive)."""
    if not isinstance(label, dict):
        raise DataError(path, line, f"'label' must be an object {{type: {{mention: [[start, end], ...]}}}}, got {type(label).__name__}.")
    found = {}
    for typ, mentions in label.items():
        if not isinstance(mentions, dict):
            raise DataError(path, line, f"label[{typ!r}] must be an object {{mention: [[start, end], ...]}}, got {type(mentions).__name__}.")
        if not str(typ).strip():
            raise DataError(path, line, "empty entity type in 'label'.")
        for mention, spans in mentions.items():
            if not isinstance(spans, list):
                raise DataError(path, line, f"label[{typ!r}][{mention!r}] must be a list of [start, end] pairs.")
            for span in spans:
                if not (isinstance(span, list) and len(span) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in span)):
                    raise DataError(path, line, f"label[{typ!r}][{mention!r}] has {span!r}; expected [start, end] integers (end inclusive).")
                start, last = span
                if not 0 <= start <= last < len(text):
                    raise DataError(path, line, f"span {span} of {typ} {mention!r} is outside the text (length {len(text)}).")
                if text[start:last + 1] != mention:
                    raise DataError(path, line, f"span {span} of {typ} gives {text[start:last + 1]!r} but the label says "
                                    f"{mention!r}; the offsets must be 0-based, end inclusive, in characters.")
                found[(start, last + 1, typ)] = {"type": typ, "start": start, "end": last + 1, "text": mention}
    return [found[key] for key in sorted(found)]


def read_cluener(path: str, key: str | None = None) -> list[dict]:
    """Read a CLUENER2020 JSON-lines file into examples (``key``: the config key naming the file,
    for the missing-file message)."""
    examples = []
    blank = Tally("examples with an empty or whitespace-only text skipped")
    for number, line in read_lines(path, key):
        if not line.strip():
            continue
        record = parse_json_line(line, path, number)
        if not isinstance(record.get("text"), str):
            raise DataError(path, number, 'expected an object with a "text" string, e.g. {"text": "...", "label": {...}}.')
        text = record["text"]
        if not text.strip():
            blank.add(path, number)
            continue
        example = {"text": text, "_file": str(path), "_line": number}
        if "label" in record and record["label"] is not None:
            example["entities"] = parse_label(path, number, text, record["label"])
        else:
            example["entities"], example["_gold"] = [], False
        if "id" in record:
            example["id"] = record["id"]
        examples.append(example)
    blank.warn()
    return examples
