"""Sentence-pair data for relation matching: (question with the mention masked, predicate) -> "1" / "0".

For each labelled question: one positive (the gold predicate) and negatives, in this order,
    kb       the other predicates of the gold subject and of the entities the gold mention links
             to (the confusions the pipeline will face), at most ``kb``
    similar  predicates of the inventory sharing a character with the gold one, ``similar``
    random   predicates drawn from the inventory, enough to reach ``kb + similar + random`` in all
A predicate equal to the gold one up to spacing / case is never a negative, nor is a predicate
of the gold subject whose objects contain the gold answer (别名 and 中文名 often both hold it).
The inventory is the set of gold predicates of the training questions.
"""
from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Iterable

from zhnlp_kbqa.kb import KnowledgeBase
from zhnlp_kbqa.linking import EntityLinker
from zhnlp_kbqa.mentions import mask_mention
from zhnlp_kbqa.normalize import key

MASK = "◆"


def masked_question(example: dict, mask: str = MASK) -> str:
    """The question with its (derived) mention replaced by ``mask``; unchanged without a mention."""
    entities = example.get("entities") or []
    if not entities:
        return example["text"]
    return mask_mention(example["text"], entities[0]["start"], entities[0]["end"], mask)


class PredicateInventory:
    """Distinct predicates (by key) with a char index for 'similar' sampling."""

    def __init__(self, predicates: Iterable[str]):
        self.items: list[str] = []
        seen: set[str] = set()
        for p in predicates:
            k = key(p) or p
            if k not in seen:
                seen.add(k)
                self.items.append(p)
        self.by_char: dict[str, list[str]] = defaultdict(list)
        for p in self.items:
            for c in set(key(p)):
                self.by_char[c].append(p)

    def similar(self, predicate: str) -> list[str]:
        """Inventory predicates sharing at least one character with ``predicate`` (sorted, deterministic)."""
        return sorted({p for c in set(key(predicate)) for p in self.by_char.get(c, ())})


def negatives_for(example: dict, kb: KnowledgeBase, linker: EntityLinker | None, inventory: PredicateInventory,
                  rng: random.Random, kb_max: int = 5, similar: int = 2, random_n: int = 3) -> list[str]:
    """Negative predicates for one labelled example (see the module docstring)."""
    gold_key = key(example["predicate"]) or example["predicate"]
    chosen: dict[str, str] = {}

    def usable(p: str) -> bool:
        k = key(p) or p
        return k != gold_key and k not in chosen

    subject, answer = example["subject"], (example.get("answer") or "").strip()
    from_kb = [p for p in kb.predicates(subject)
               if answer not in {o.strip() for o in kb.objects(subject, p)}]
    entities = example.get("entities") or []
    if linker is not None and entities:
        for cand in linker.link(entities[0]["text"]):
            if cand.name != subject:
                from_kb += kb.predicates(cand.name)
    from_kb = [p for p in dict.fromkeys(from_kb) if usable(p)]
    for p in rng.sample(from_kb, min(kb_max, len(from_kb))):
        chosen[key(p) or p] = p
    pool = [p for p in inventory.similar(example["predicate"]) if usable(p)]
    for p in rng.sample(pool, min(similar, len(pool))):
        chosen[key(p) or p] = p
    wanted = kb_max + similar + random_n
    tries = 0
    while len(chosen) < wanted and tries < 20 * wanted and inventory.items:
        p = rng.choice(inventory.items)
        tries += 1
        if usable(p):
            chosen[key(p) or p] = p
    return list(chosen.values())


def relation_examples(examples: list[dict], kb: KnowledgeBase, linker: EntityLinker | None,
                      inventory: PredicateInventory, seed: int = 0, kb_max: int = 5, similar: int = 2,
                      random_n: int = 3, mask: str = MASK) -> list[dict]:
    """Pair rows ``{"text", "predicate", "label", "qid"}`` for every labelled example."""
    rng = random.Random(seed)
    rows = []
    for ex in examples:
        if not ex.get("predicate"):
            continue
        text = masked_question(ex, mask)
        rows.append({"text": text, "predicate": ex["predicate"], "label": "1", "qid": ex.get("id")})
        for p in negatives_for(ex, kb, linker, inventory, rng, kb_max, similar, random_n):
            rows.append({"text": text, "predicate": p, "label": "0", "qid": ex.get("id")})
    return rows


def write_jsonl(rows: list[dict], path: Path) -> Path:
    """One JSON object per line (UTF-8)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


# The data config (``clue_json`` dataset, zhnlp_classify) that reads these files back as sentence pairs.
RELATION_DATA = {"name": "clue_json", "reader": {"text_key": "text", "label_key": "label", "text_b_key": "predicate",
                                                 "label_desc_key": None, "id_key": "qid"}}
