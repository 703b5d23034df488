"""Matching keys for entity names and mentions: width, case and punctuation folded.

``key(text)`` is what the KB indexes and what lookups compare: NFKC (full-width -> half-width),
lower case, and every punctuation, whitespace and control character dropped, so
``《笑傲江湖》``, ``笑傲江湖`` and ``史蒂芬·霍金`` / ``史蒂芬霍金`` meet. ``key_with_offsets`` also
says which original character each key character came from (``zhnlp.text.fold_with_offsets`` with
:func:`fold_char`), to map a match back to a span of the ORIGINAL question.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from zhnlp.text import fold_with_offsets, nfkc_lower

# A trailing parenthetical disambiguation: 李娜（网球运动员）, hp dx2304tx(gc235pa), 慧炬u盘 (8gb).
_PAREN = re.compile(r"\s*[（(][^（）()]*[）)]\s*$")
MAX_KEY_CHARS = 64  # longer names are cut to this many key chars for alias / fuzzy indexing


@lru_cache(maxsize=65536)
def fold_char(ch: str) -> str:
    """One original character -> its key characters: :func:`zhnlp.text.nfkc_lower` without
    punctuation, separators, whitespace and control / format characters ('' when nothing is left)."""
    out = []
    for c in nfkc_lower(ch):
        category = unicodedata.category(c)
        if category[0] in "PZ" or category in ("Cc", "Cf") or c.isspace():
            continue
        out.append(c)
    return "".join(out)


def key_with_offsets(text: str) -> tuple[str, list[int]]:
    """The matching key of ``text`` and, per key character, the index of its original character."""
    return fold_with_offsets(text, fold_char)


def key(text: str) -> str:
    """The matching key of ``text`` (``""`` when it has only punctuation / spaces).

    Args:
        text: a name, mention or question.

    Returns:
        NFKC, lower-cased text without punctuation, whitespace and control characters.
    """
    return "".join(fold_char(ch) for ch in text)


def lookup_key(text: str) -> str:
    """The key under which a name is indexed and looked up: ``key(text)``, or for a name made of
    punctuation only (``！！``, ``%``) its stripped lower-cased text, so it stays findable."""
    return key(text) or text.strip().lower()


def strip_parenthetical(name: str) -> str:
    """``李娜（网球运动员）`` -> ``李娜``; names without a trailing parenthetical are returned as is."""
    stripped = _PAREN.sub("", name)
    return stripped if stripped.strip() else name


def alias_key(name: str) -> str | None:
    """Key of the name without its parenthetical, or None when that is the same as ``key(name)``."""
    alias = key(strip_parenthetical(name))
    return alias if alias and alias != key(name) else None


def bigrams(text_key: str) -> list[str]:
    """Distinct character bigrams of a key (its first ``MAX_KEY_CHARS`` chars), in order."""
    text_key = text_key[:MAX_KEY_CHARS]
    return list(dict.fromkeys(text_key[i : i + 2] for i in range(len(text_key) - 1)))


_ASCII_RUN = re.compile(r"[0-9a-z]{2,}")


def overlap_units(text_key: str) -> list[str]:
    """What ``char_overlap`` compares: each character, except that a run of ASCII letters / digits
    counts by its character bigrams (26 letters overlap by chance; ``drop`` and ``dpf5181b`` share
    no bigram)."""
    units, last = [], 0
    for match in _ASCII_RUN.finditer(text_key):
        units += list(text_key[last : match.start()])
        run = match.group()
        units += [run[i : i + 2] for i in range(len(run) - 1)]
        last = match.end()
    return units + list(text_key[last:])


def char_overlap(a: str, b: str) -> float:
    """Dice coefficient ``2|A ∩ B| / (|A| + |B|)`` of the ``overlap_units`` multisets of two keys."""
    ua, ub = overlap_units(a), overlap_units(b)
    if not ua or not ub:
        return 0.0
    counts: dict[str, int] = {}
    for u in ua:
        counts[u] = counts.get(u, 0) + 1
    common = 0
    for u in ub:
        if counts.get(u, 0) > 0:
            counts[u] -= 1
            common += 1
    return 2.0 * common / (len(ua) + len(ub))


def same_predicate(a: str, b: str) -> bool:
    """Predicates are compared on their keys: ``民 族`` == ``民族``, ``ISBN`` == ``isbn``."""
    return (key(a) or a.strip()) == (key(b) or b.strip())
