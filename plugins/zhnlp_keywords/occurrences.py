"""Where gold keywords occur in a text: every occurrence, matched after normalisation, as spans
of the ORIGINAL string; and a non-overlapping selection of them for a tagging head.

Matching is exact on the normalised form (NFKC + lower case, ``zhnlp.text.nfkc_lower``),
so ``ＧＰＵ加速`` in a text matches the keyword ``gpu加速`` and the reported span covers the
full-width characters. A keyword that starts or ends with a Latin letter or digit does not
match inside a longer Latin/digit run (``RNA`` is not found in ``mRNA``).
"""
from __future__ import annotations

from typing import Iterable

from zhnlp.text import fold_with_offsets, nfkc_lower
from zhnlp_keywords.text import is_ascii_word_char, normalize_keyword

KEYWORD_TYPE = "KW"


def find_occurrences(text: str, keywords: Iterable[str], label: str = KEYWORD_TYPE) -> list[dict]:
    """All occurrences of all keywords in ``text`` (overlapping ones included).

    Args:
        text: the original string.
        keywords: gold keywords (any width / case).
        label: the entity type given to every occurrence.

    Returns:
        entity dicts ``{"type", "start", "end", "text", "keyword"}`` (end exclusive,
        ``text == original[start:end]``, ``keyword`` = the normalised keyword), sorted by
        (start, end), without duplicates.
    """
    norm, index = fold_with_offsets(text, nfkc_lower)  # index[j]: original char of folded char j
    found: dict[tuple[int, int], dict] = {}
    for key in dict.fromkeys(normalize_keyword(k) for k in keywords):
        if not key:
            continue
        pos = norm.find(key)
        while pos >= 0:
            end = pos + len(key)
            start_char, end_char = index[pos], index[end - 1] + 1
            # The match must start at the first normalised char of an original char and end at
            # the last one (no half of an expanded char such as "㎏" -> "kg").
            whole = (pos == 0 or index[pos - 1] != start_char) and (end == len(norm) or index[end] != index[end - 1])
            if whole and _word_edges_ok(text, start_char, end_char):
                found.setdefault((start_char, end_char), {
                    "type": label, "start": start_char, "end": end_char,
                    "text": text[start_char:end_char], "keyword": key,
                })
            pos = norm.find(key, pos + 1)
    return [found[k] for k in sorted(found)]


def _word_edges_ok(text: str, start: int, end: int) -> bool:
    """False when the span cuts a Latin/digit run at either edge."""
    if is_ascii_word_char(_n(text[start])) and start > 0 and is_ascii_word_char(_n(text[start - 1])):
        return False
    if is_ascii_word_char(_n(text[end - 1])) and end < len(text) and is_ascii_word_char(_n(text[end])):
        return False
    return True


def _n(ch: str) -> str:
    out = normalize_keyword(ch)
    return out[:1] if out else ch


def select_non_overlapping(occurrences: Iterable[dict]) -> list[dict]:
    """A tag sequence holds one span per char: keep longer occurrences first, then leftmost.

    ``管理`` inside ``全过程管理`` is dropped there but kept where it stands alone.

    Returns:
        the kept occurrences sorted by start.
    """
    taken: set[int] = set()
    kept = []
    for occ in sorted(occurrences, key=lambda o: (-(o["end"] - o["start"]), o["start"])):
        chars = range(occ["start"], occ["end"])
        if any(c in taken for c in chars):
            continue
        taken.update(chars)
        kept.append(occ)
    return sorted(kept, key=lambda o: o["start"])


def keyword_entities(text: str, keywords: Iterable[str]) -> list[dict]:
    """Training entities for the tagger: non-overlapping occurrences of the keywords, type ``KW``."""
    return [{k: v for k, v in occ.items() if k != "keyword"}
            for occ in select_non_overlapping(find_occurrences(text, keywords))]
