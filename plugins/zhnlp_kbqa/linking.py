"""Entity linking: a mention -> ranked KB entities (exact name, alias, character-overlap fuzzy).

Scores (in [0, 1], used as the entity factor of the final answer score):
    exact   1.0                      key(name) == key(mention)
    alias   ``alias_score``          the mention is an alias: the name without its parenthetical
                                     (``李娜`` -> ``李娜（网球运动员）``) or a KB alias predicate's object
    fuzzy   ``fuzzy_weight * sim``   sim = character-overlap Dice >= ``min_fuzzy`` (runs of ASCII
                                     letters / digits compare by bigrams, see ``normalize.char_overlap``)
An entity found several ways keeps its best score; ties keep the KB's order (more triples first).

``scan(question)`` finds KB names inside a question without a mention model: the fallback when
the tagger finds no mention, or none of its mentions links.
"""
from __future__ import annotations

from dataclasses import dataclass

from zhnlp_kbqa.kb import KnowledgeBase
from zhnlp_kbqa.normalize import MAX_KEY_CHARS, key_with_offsets


@dataclass
class Candidate:
    name: str
    score: float
    source: str  # exact | alias | fuzzy | scan


class EntityLinker:
    """Ranked candidates from a KnowledgeBase.

    Args:
        kb: any :class:`~zhnlp_kbqa.kb.KnowledgeBase`.
        top_k: candidates kept per mention.
        alias_score: score of an alias match.
        fuzzy_weight: a fuzzy match scores ``fuzzy_weight * similarity``.
        min_fuzzy: smallest character-overlap similarity kept.
        fuzzy_pool: fuzzy matches asked from the KB before ranking.
        scan_max_chars: longest name (in key characters) ``scan`` looks for.
        scan_question_chars: ``scan`` only reads this many key characters of a question.
    """

    def __init__(self, kb: KnowledgeBase, top_k: int = 5, alias_score: float = 0.9, fuzzy_weight: float = 0.8,
                 min_fuzzy: float = 0.5, fuzzy_pool: int = 20, scan_max_chars: int = 24,
                 scan_question_chars: int = 256):
        self.kb, self.top_k = kb, int(top_k)
        self.alias_score, self.fuzzy_weight, self.min_fuzzy = float(alias_score), float(fuzzy_weight), float(min_fuzzy)
        self.fuzzy_pool, self.scan_max_chars = int(fuzzy_pool), int(scan_max_chars)
        self.scan_question_chars = int(scan_question_chars)

    def link(self, mention: str, top_k: int | None = None, fuzzy: bool = True) -> list[Candidate]:
        """Ranked candidates for ``mention`` (at most ``top_k``; empty for an empty mention);
        ``fuzzy=False``: exact and alias matches only."""
        mention = mention[: 4 * MAX_KEY_CHARS]
        found: dict[str, Candidate] = {}

        def add(name: str, score: float, source: str) -> None:
            if name not in found or found[name].score < score:
                found[name] = Candidate(name, score, source)

        for name in self.kb.by_name(mention):
            add(name, 1.0, "exact")
        for name in self.kb.by_alias(mention):
            add(name, self.alias_score, "alias")
        for name, sim in self.kb.fuzzy(mention, self.fuzzy_pool) if fuzzy else ():
            if sim >= self.min_fuzzy:
                add(name, self.fuzzy_weight * sim, "fuzzy")
        ranked = sorted(found.values(), key=lambda c: -c.score)  # stable: KB order among ties
        return ranked[: top_k or self.top_k]

    def scan(self, question: str) -> list[tuple[int, int]]:
        """Spans (original offsets) of KB entity names in ``question``: longest first, not overlapping,
        at least 2 key characters long, never cutting a run of ASCII letters / digits (``ro`` is not
        found in ``drop``)."""
        q_key, origin = key_with_offsets(question)
        q_key = q_key[: self.scan_question_chars]
        spans = {}
        for i in range(len(q_key)):
            for j in range(i + 2, min(len(q_key), i + self.scan_max_chars) + 1):
                spans.setdefault(q_key[i:j], []).append((i, j))
        if not spans:
            return []
        if hasattr(self.kb, "by_names"):
            hits = set(self.kb.by_names(list(spans)))
        else:
            hits = {k for k in spans if self.kb.by_name(k)}
        taken: list[tuple[int, int]] = []
        for k in sorted(hits, key=len, reverse=True):
            for i, j in spans[k]:
                if _splits_word(q_key, i) or _splits_word(q_key, j):
                    continue
                if all(j <= a or i >= b for a, b in taken):
                    taken.append((i, j))
        return [(origin[i], origin[j - 1] + 1) for i, j in taken]


def _is_word_char(c: str) -> bool:
    return c.isascii() and c.isalnum()


def _splits_word(text: str, at: int) -> bool:
    """True when position ``at`` falls inside a run of ASCII letters / digits of ``text``."""
    return 0 < at < len(text) and _is_word_char(text[at - 1]) and _is_word_char(text[at])
