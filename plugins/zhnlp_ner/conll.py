"""Char-per-line CoNLL files: ``<char> <tag>`` per line, a blank line between sentences.

Columns are split on tabs when the line has one (so a space can itself be the char), else on
runs of spaces. Tags are converted to char-offset entities here, so the heads never see the
file's tag scheme. Weibo-style char columns (``我0``: the char followed by its position in a
jieba word) are reduced to the char.
"""
from __future__ import annotations

from zhnlp.errors import ConfigError, DataError
from zhnlp.textio import Tally, read_lines
from zhnlp_ner.schemes import ROLE_OF_PREFIX, decode_roles, split_tag

# Prefixes each file scheme may use ("auto" accepts them all).
FILE_SCHEMES = {
    "BIO": "BI", "IOB2": "BI", "IOB1": "BI",
    "BIOES": "BIES", "IOBES": "BIES", "BMES": "BMIES", "BILOU": "BILU",
}
SEG_DIGIT_CHOICES = ("auto", "true", "false")


Row = tuple[int, str, str]  # (line, token, tag)


def check_options(scheme: str, char_with_seg_digit) -> tuple[str, str]:
    """Validate reader options; return (SCHEME, auto|true|false)."""
    name = str(scheme).upper()
    if name != "AUTO" and name not in FILE_SCHEMES:
        raise ConfigError(f"data.reader.scheme={scheme!r} is not supported; use auto or one of {sorted(FILE_SCHEMES)}.")
    seg = str(char_with_seg_digit).lower()
    if seg not in SEG_DIGIT_CHOICES:
        raise ConfigError(f"data.reader.char_with_seg_digit={char_with_seg_digit!r}: use auto, true or false.")
    return name, seg


def split_columns(line: str) -> list[str]:
    """Fields of one line: tab-separated if it has a tab, else space-separated."""
    if "\t" in line:
        return [f.strip(" ") or f for f in line.rstrip(" \t").split("\t")]  # a lone space stays a char
    fields = line.split(" ")
    return fields if "" not in fields else [f for f in fields if f]


def parse_sentences(path: str, char_column: int, tag_column: int, key: str | None) -> list[tuple[int, list[Row]]]:
    """Group the file's lines into sentences: (first line, [(line, token, tag), ...])."""
    sentences: list[tuple[int, list[Row]]] = []
    rows: list[Row] | None = None
    needed = max(2, *(c + 1 if c >= 0 else -c for c in (char_column, tag_column)))
    for number, line in read_lines(path, key):
        if not line.strip(" \t") or line.startswith("-DOCSTART-"):
            rows = None
            continue
        fields = split_columns(line)
        if len(fields) < needed:
            raise DataError(path, number, f"expected '<char> <tag>' (columns separated by a space or a tab) but found "
                            f"{len(fields)} column(s): {line!r}. A char or tag is missing.")
        token = fields[char_column]
        if not token:
            raise DataError(path, number, f"empty char column in {line!r}.")
        if rows is None:
            rows = []
            sentences.append((number, rows))
        rows.append((number, token, fields[tag_column]))
    return sentences


def looks_seg_digit(sentences: list[tuple[int, list[Row]]]) -> bool:
    """True when every token is a char followed by digits (Weibo's ``我0``)."""
    return bool(sentences) and all(has_seg_digit(token) for _, rows in sentences for _, token, _ in rows)


def has_seg_digit(token: str) -> bool:
    """A char followed by at least one ASCII digit."""
    return len(token) >= 2 and token[-1] in "0123456789"


def strip_seg_digit(token: str) -> str:
    """``我0`` -> ``我``; ``310`` -> ``3`` (the first char is always kept, trailing ASCII digits go)."""
    return token[0] + token[1:].rstrip("0123456789")


def read_conll(path: str, scheme: str = "auto", column: int = -1, char_column: int = 0,
               char_with_seg_digit: str = "auto", key: str | None = None) -> list[dict]:
    """Read one char-per-line file into examples (see :func:`zhnlp_ner.readers.build_conll_reader`)."""
    scheme, seg = check_options(scheme, char_with_seg_digit)
    sentences = parse_sentences(path, char_column, column, key)
    strip = seg == "true" or (seg == "auto" and looks_seg_digit(sentences))
    allowed = FILE_SCHEMES.get(scheme)
    tag_cache: dict[str, tuple[str, str | None]] = {}
    parsed = []
    prefixes_seen: set[str] = set()
    b_after_other = 0  # B-X not preceded by an X tag: rules out IOB1
    for first_line, rows in sentences:
        roles, tokens = [], []
        previous_type = None
        for number, token, tag in rows:
            if strip:
                if not has_seg_digit(token):
                    raise DataError(path, number, f"char column {token!r} is not a char followed by its word-position "
                                    f"digit; set data.reader.char_with_seg_digit=false for plain char columns.")
                token = strip_seg_digit(token)
            parsed_tag = tag_cache.get(tag)
            if parsed_tag is None:
                try:
                    parsed_tag = tag_cache[tag] = split_tag(tag)
                except ValueError as err:
                    raise DataError(path, number, f"{err}. Fix the tag or the tag column (data.reader.column).") from None
            prefix, typ = parsed_tag
            if typ is None:
                roles.append(None)
            else:
                if allowed is not None and prefix not in allowed:
                    raise DataError(path, number, f"tag {tag!r} is not part of the {scheme} scheme; set "
                                    f"data.reader.scheme=auto (or the file's real scheme).")
                prefixes_seen.add(prefix)
                if prefix == "B" and previous_type != typ:
                    b_after_other += 1
                roles.append((ROLE_OF_PREFIX[prefix], typ))
            previous_type = typ
            tokens.append(token)
        parsed.append((first_line, rows, roles, tokens))

    strict_end = bool(prefixes_seen & set("MESLU")) if scheme == "AUTO" else set(FILE_SCHEMES[scheme]) > set("BI")
    iob1 = scheme == "IOB1" or (scheme == "AUTO" and not strict_end and b_after_other == 0)
    repairs = Tally("tag repairs in gold data (an I-/E- tag that continues no entity was read as a new "
                    "entity; in BIOES/BMES an entity without E- was closed at its last char), as conlleval does")
    blank = Tally("sentences of only whitespace skipped")
    examples = []
    for first_line, rows, roles, tokens in parsed:
        text = "".join(tokens)
        if not text.strip():
            blank.add(path, first_line)
            continue
        starts, pos = [], 0
        for tok in tokens:
            starts.append(pos)
            pos += len(tok)
        spans, n, first = decode_roles(roles, strict_end)
        if n and not iob1:
            repairs.add(path, rows[first][0], n)
        entities = []
        for typ, a, b in spans:
            start, end = starts[a], starts[b] + len(tokens[b])
            entities.append({"type": typ, "start": start, "end": end, "text": text[start:end]})
        examples.append({"text": text, "entities": entities, "_file": str(path), "_line": first_line})
    repairs.warn()
    blank.warn()
    return examples
