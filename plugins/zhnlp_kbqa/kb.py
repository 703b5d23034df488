"""What the QA pipeline needs from a knowledge base: a small Protocol, any store can implement it.

Entities are identified by their name (the triple subject string). Lookups compare matching
keys (``zhnlp_kbqa.normalize.key``), so a store indexes ``key(name)`` and the key of each alias.
The built-in store is :class:`zhnlp_kbqa.sqlite_kb.SQLiteKB`; an in-memory one for tests and
small KBs is :class:`MemoryKB`.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Protocol, runtime_checkable

from zhnlp_kbqa.normalize import alias_key, bigrams, char_overlap, key, lookup_key


@runtime_checkable
class KnowledgeBase(Protocol):
    """Lookups by matching key; every method takes raw text and keys it itself."""

    def by_name(self, text: str) -> list[str]:
        """Entity names whose key equals ``key(text)``."""
        ...

    def by_alias(self, text: str) -> list[str]:
        """Entity names with an alias (name without parenthetical, KB alias predicates) keyed ``key(text)``."""
        ...

    def fuzzy(self, text: str, limit: int = 20) -> list[tuple[str, float]]:
        """``(name, similarity in [0, 1])`` by character overlap with ``text``, best first."""
        ...

    def predicates(self, subject: str) -> list[str]:
        """Distinct predicates of an entity, in KB order."""
        ...

    def objects(self, subject: str, predicate: str) -> list[str]:
        """Distinct objects of (subject, predicate), in KB order."""
        ...


class MemoryKB:
    """A dict-backed KnowledgeBase (tests, toy KBs). Same matching rules as the SQLite store."""

    def __init__(self, triples: Iterable[tuple[str, str, str]]):
        self.triples: dict[str, dict[str, list[str]]] = defaultdict(dict)
        self.names: dict[str, set[str]] = defaultdict(set)
        self.aliases: dict[str, set[str]] = defaultdict(set)
        for s, p, o in triples:
            objs = self.triples[s].setdefault(p, [])
            if o not in objs:
                objs.append(o)
        for name in self.triples:
            self.names[lookup_key(name)].add(name)
            alias = alias_key(name)
            if alias:
                self.aliases[alias].add(name)

    def by_name(self, text: str) -> list[str]:
        return sorted(self.names.get(lookup_key(text), ()))

    def by_alias(self, text: str) -> list[str]:
        return sorted(self.aliases.get(key(text), ()))

    def fuzzy(self, text: str, limit: int = 20) -> list[tuple[str, float]]:
        k = key(text)
        grams = set(bigrams(k))
        scored = [(name, char_overlap(k, key(name))) for name in self.triples
                  if grams & set(bigrams(key(name))) or (len(k) == 1 and key(name).startswith(k))]
        scored.sort(key=lambda x: (-x[1], x[0]))
        return scored[:limit]

    def predicates(self, subject: str) -> list[str]:
        return list(self.triples.get(subject, {}))

    def objects(self, subject: str, predicate: str) -> list[str]:
        return list(self.triples.get(subject, {}).get(predicate, []))
