"""A frozen token -> id table built from counts, with fixed special tokens first."""
from __future__ import annotations

from collections import Counter
from typing import Iterable

PAD, UNK, SPACE, SEP = "[PAD]", "[UNK]", "[SPACE]", "[SEP]"
SPECIALS = (PAD, UNK, SPACE, SEP)  # ids 0..3 in every vocabulary
PAD_ID, UNK_ID, SPACE_ID, SEP_ID = 0, 1, 2, 3


class Vocab:
    """Token strings to ids. ``[PAD]`` is 0, ``[UNK]`` 1, ``[SPACE]`` 2, ``[SEP]`` 3.

    Ordering is deterministic (count descending, then token), so every process that fits on the
    same texts gets the same ids.
    """

    def __init__(self, tokens: Iterable[str]):
        self.itos: list[str] = list(tokens)
        if tuple(self.itos[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"a vocabulary must start with {SPECIALS}")
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}

    @classmethod
    def from_counts(cls, counts: Counter, min_freq: int = 1, max_size: int | None = None) -> "Vocab":
        """Keep tokens seen at least ``min_freq`` times, the ``max_size`` most frequent at most."""
        kept = sorted(
            (t for t, c in counts.items() if c >= min_freq and t not in SPECIALS),
            key=lambda t: (-counts[t], t),
        )
        if max_size is not None:
            kept = kept[: max(0, max_size - len(SPECIALS))]
        return cls([*SPECIALS, *kept])

    def __len__(self) -> int:
        return len(self.itos)

    def lookup(self, keys: Iterable[str]) -> list[int]:
        """Ids of ``keys``; unknown keys give ``[UNK]``."""
        get = self.stoi.get
        return [get(k, UNK_ID) for k in keys]
