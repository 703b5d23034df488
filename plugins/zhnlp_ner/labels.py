"""The NER label set: what ``HeadSpec.collect_labels`` returns (light: no torch, read at composition)."""
from __future__ import annotations

from typing import Sequence


def collect_entity_types(examples: Sequence[dict]) -> list[str]:
    """Sorted entity types present in ``examples`` (the NER label set)."""
    return sorted({ent["type"] for ex in examples for ent in ex.get("entities", ())})
