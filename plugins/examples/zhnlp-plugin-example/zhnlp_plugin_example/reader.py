"""``tsv_entities``: a one-line-per-text NER format, read with ``zhnlp.textio``.

Each non-blank line is ``text<TAB>entities``; ``entities`` is a ``;``-separated list of
``TYPE:START:END`` (char offsets into the text, END exclusive), empty (or the tab left out) for a
text without entities::

    张伟在北京大学读书。	PER:0:2;ORG:3:7
    今天天气很好。

The last tab on a line starts the entity column: a text that itself holds a tab needs the
(maybe empty) entity column after it.
"""
from __future__ import annotations

from typing import Callable

from zhnlp import DatasetSpec, DataError
from zhnlp.textio import Tally, read_lines

Reader = Callable[[str, str], list]


def parse_entity(item: str, text: str, path: str, number: int) -> dict:
    """One ``TYPE:START:END`` item of line ``number``; a DataError naming ``path:number`` when malformed."""
    typ, _, rest = item.strip().partition(":")
    start, _, end = rest.partition(":")
    if not (typ and start.isdecimal() and end.isdecimal()):
        raise DataError(path, number, f"entity {item!r} is not TYPE:START:END (e.g. PER:0:2).")
    start, end = int(start), int(end)
    if not 0 <= start < end <= len(text):
        raise DataError(path, number, f"entity {item!r}: need 0 <= START < END <= {len(text)} (the length "
                                      f"of the text; END is exclusive).")
    return {"type": typ, "start": start, "end": end, "text": text[start:end]}


def build_tsv_entities(skip_invalid: bool = False) -> Reader:
    """Reader for ``text<TAB>TYPE:START:END;...`` files.

    Args:
        skip_invalid: drop a malformed entity (counted, with one warning naming the first place)
            instead of stopping at it with an error.

    Returns:
        ``reader(path, key) -> list[example]`` with examples
        ``{"text", "entities": [{"type", "start", "end", "text"}], "_file", "_line"}``.
    """

    def read(path: str, key: str) -> list[dict]:
        skipped = Tally("malformed entities skipped (data.reader.skip_invalid=true)")
        examples = []
        for number, line in read_lines(path, key):  # (1-based line number, line); UTF-8 errors name the line
            if not line.strip():
                continue
            text, tab, column = line.rpartition("\t")
            if not tab:  # no tab: a text without entities
                text, column = line, ""
            entities = []
            for item in filter(str.strip, column.split(";")):
                try:
                    entities.append(parse_entity(item, text, path, number))
                except DataError:
                    if not skip_invalid:
                        raise
                    skipped.add(path, number)
            examples.append({"text": text, "entities": entities, "_file": str(path), "_line": number})
        skipped.warn()
        return examples

    return read


tsv_entities = DatasetSpec(build=build_tsv_entities, label_kind="entities",
                           description="example plugin: text<TAB>TYPE:START:END;... lines")
