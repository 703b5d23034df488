"""The NLPCC 2016 KBQA reader: entry point ``nlpcc2016_kbqa`` -> :data:`nlpcc` (``label_kind="entities"``).

Each question becomes one example that serves both as QA gold and as NER training data for
mention detection::

    {"text": question, "id": "1", "subject": s, "predicate": p, "answer": a,
     "entities": [{"type": "SUBJ", "start", "end", "text"}],   # the derived topic mention
     "mention_method": "exact" | "normalized" | "alias" | "partial" | None,
     "_file", "_line"}

The mention is derived from the gold subject (:func:`zhnlp_kbqa.mentions.derive_mention`);
questions where none is found get ``entities: []`` (or are dropped with ``skip_unmatched``), and
one warning per file gives their count and the first place. Unlabelled blocks (no ``<triple>``)
give ``_gold: False``; a ``<triple>`` with an empty part (two in the official training data) gives
an example without gold (``entities: []``, no ``subject``), with a warning.
"""
from __future__ import annotations

import warnings
from collections import Counter
from typing import Callable

from zhnlp.types import DatasetSpec
from zhnlp_kbqa.mentions import derive_mention
from zhnlp_kbqa.nlpcc import read_questions

MENTION_TYPE = "SUBJ"


def read_nlpcc(path: str, mention_type: str = MENTION_TYPE, skip_unmatched: bool = False,
               min_partial: float = 0.5, stats: Counter | None = None, key: str | None = None) -> list[dict]:
    """Read one NLPCC question file into examples (see the module docstring).

    Args:
        path: the question file.
        mention_type, skip_unmatched, min_partial: see :func:`build_nlpcc_reader`.
        stats: counts per mention method (``exact``, ..., ``none``, ``unusable``, ``unlabelled``)
            are added to it.
        key: the config key that names the file (for the missing-file message).
    """
    path = str(path)
    stats = Counter() if stats is None else stats
    examples, first_unmatched, first_unusable = [], None, None
    for q in read_questions(path, key):
        ex = {"text": q.text, "id": q.id, "_file": path, "_line": q.line}
        if q.unusable_triple is not None:  # no gold to learn from; as a question without a mention
            stats["unusable"] += 1
            first_unusable = first_unusable or f"{path}:{q.line + 1}"
            if not skip_unmatched:
                examples.append({**ex, "entities": [], "mention_method": None})
            continue
        if q.triple is None:
            ex.update(entities=[], mention_method=None, _gold=False)
            stats["unlabelled"] += 1
            examples.append(ex)
            continue
        subject, predicate, obj = q.triple
        ex.update(subject=subject, predicate=predicate, answer=q.answer if q.answer is not None else obj)
        mention = derive_mention(q.text, subject, min_partial)
        stats[mention.method if mention else "none"] += 1
        if mention is None:
            first_unmatched = first_unmatched or f"{path}:{q.line}"
            if skip_unmatched:
                continue
            ex.update(entities=[], mention_method=None)
        else:
            ex.update(entities=[{"type": mention_type, "start": mention.start, "end": mention.end,
                                 "text": mention.text}], mention_method=mention.method)
        examples.append(ex)
    if stats["none"]:
        action = "left out" if skip_unmatched else "kept with no mention"
        warnings.warn(f"{path}: {stats['none']} question(s) whose subject could not be found in the question "
                      f"({action}); first at {first_unmatched}.", stacklevel=2)
    if stats["unusable"]:
        warnings.warn(f"{path}: {stats['unusable']} question(s) with an empty subject, predicate or object in "
                      f"their <triple> (no gold answer; not scored); first at {first_unusable}.", stacklevel=2)
    return examples


def build_nlpcc_reader(mention_type: str = MENTION_TYPE, skip_unmatched: bool = False,
                       min_partial: float = 0.5) -> Callable[..., list[dict]]:
    """Reader for NLPCC 2016 KBQA question files (4-line blocks).

    Args:
        mention_type: entity type given to the derived topic-entity mention.
        skip_unmatched: drop questions whose subject cannot be found in the text (for training
            the mention tagger); False keeps them with ``entities: []``.
        min_partial: smallest share of the subject a partial (longest common substring) match
            must cover.

    Returns:
        ``reader(path, key) -> list[example]``; the derived mention is the example's one entity.
    """

    def read(path: str, key: str | None = None) -> list[dict]:
        return read_nlpcc(path, mention_type, skip_unmatched, min_partial, key=key)

    return read


# Its examples carry the derived topic-entity mention as ``entities``: NER heads train on it.
nlpcc = DatasetSpec(build=build_nlpcc_reader, label_kind="entities",
                    description="NLPCC 2016 KBQA question blocks; the topic mention as an entity")
