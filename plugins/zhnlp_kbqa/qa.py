"""Answering: mention tagger -> entity linking -> relation scoring -> KB object.

For each question:
1. the mention tagger (an NER run) marks topic-entity spans; when none links to the KB (or the
   tagger finds none) KB names found in the question by ``EntityLinker.scan`` are used instead
   (``scan_fallback``); KB names overlapping a tagged span are added too (``scan_overlap``: a span
   cut one character short, ``恒大名`` for ``恒大名都``, still finds its entity);
2. each span is linked to ranked candidate entities (exact / alias / fuzzy);
3. every (candidate, predicate of the candidate) pair is scored: ``P(match | question with the
   span masked, predicate)`` from the relation run times the candidate's linking score;
4. the best pair answers with its object(s) when its score reaches ``threshold``; otherwise, or
   when no entity is found, ``{"answer": None, "reason": ...}``.

Prediction: ``{"answer", "answers", "entity", "predicate", "score", "mention", "mention_span"}``;
unanswered: ``{"answer": None, "reason", ...}`` plus the best guess when there was one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from zhnlp.errors import ZhnlpError
from zhnlp_kbqa.kb import KnowledgeBase
from zhnlp_kbqa.linking import Candidate, EntityLinker
from zhnlp_kbqa.mentions import mask_mention
from zhnlp_kbqa.metrics import kbqa_metrics
from zhnlp_kbqa.relation_data import MASK

DEFAULTS = {"threshold": 0.02, "mask": MASK, "max_predicates": 200, "scan_fallback": True, "scan_overlap": True,
            "scan_score": 0.9, "batch_size": 256}
LINK_KEYS = ("top_k", "alias_score", "fuzzy_weight", "min_fuzzy", "fuzzy_pool", "scan_max_chars", "scan_question_chars")


@dataclass
class _Work:
    """Per-question state between the batched model calls."""

    text: str
    spans: list[tuple[int, int]] = field(default_factory=list)
    candidates: list[tuple[Candidate, tuple[int, int]]] = field(default_factory=list)
    pairs: list[tuple[int, str]] = field(default_factory=list)  # (candidate index, predicate)
    probs: list[float] = field(default_factory=list)  # P(match) per pair
    used_scan: bool = False


class KBQA:
    """A trained pipeline. Build with :func:`zhnlp_kbqa.pipeline.load_kbqa` or ``zhnlp.load(run_dir)``.

    Args:
        mention_model: the mention tagger (NER): a :class:`~zhnlp.model.TaskModel`, or anything with
            ``predict(texts)`` giving entity lists.
        relation_model: the pair classifier (labels "0"/"1"): a TaskModel, or anything with
            ``predict_examples(examples)`` giving classification predictions with ``probs``.
        kb: a KnowledgeBase.
        settings: ``threshold``, ``mask``, ``max_predicates``, ``scan_fallback``, ``scan_overlap``,
            ``scan_score`` (linking-score factor of scanned spans), ``batch_size`` and the EntityLinker
            options (``top_k``, ``min_fuzzy``, ...).
    """

    def __init__(self, mention_model, relation_model, kb: KnowledgeBase, settings: dict | None = None):
        settings = dict(settings or {})
        self.mention_model, self.relation_model, self.kb = mention_model, relation_model, kb
        self.settings = {**DEFAULTS, **{k: v for k, v in settings.items() if k not in LINK_KEYS}}
        self.linker = EntityLinker(kb, **{k: v for k, v in settings.items() if k in LINK_KEYS})
        self.debug = False

    # ---- public -------------------------------------------------------------------------
    def predict(self, questions: Iterable[str] | str) -> list[dict]:
        """Answer each question (see the module docstring for the output)."""
        if isinstance(questions, str):
            questions = [questions]
        questions = list(questions)
        for q in questions:
            if not isinstance(q, str):
                raise ZhnlpError(f"KBQA.predict expects strings; got {type(q).__name__}: {q!r}")
        size = int(self.settings["batch_size"])
        out: list[dict] = []
        for start in range(0, len(questions), size):
            out += self._predict_batch(questions[start : start + size])
        return out

    def evaluate(self, examples: list[dict]) -> tuple[dict[str, float], list[dict]]:
        """Metrics (:func:`zhnlp_kbqa.metrics.kbqa_metrics`) and predictions (plus ``tagged``, ``candidates``)."""
        self.debug = True
        try:
            predictions = self.predict([ex["text"] for ex in examples])
        finally:
            self.debug = False
        return kbqa_metrics(predictions, examples), predictions

    # ---- steps --------------------------------------------------------------------------
    def _predict_batch(self, questions: list[str]) -> list[dict]:
        works = [_Work(q) for q in questions]
        live = [i for i, q in enumerate(questions) if q.strip()]
        if live:
            tagged = self.mention_model.predict([questions[i] for i in live])
            for i, ents in zip(live, tagged):
                works[i].spans = [(e["start"], e["end"]) for e in ents]
        for i in live:
            self._link(works[i])
        self._score(works)
        return [self._answer(w) for w in works]

    def _link(self, work: _Work) -> None:
        best: dict[str, tuple[Candidate, tuple[int, int]]] = {}

        def collect(spans, scanned: bool) -> None:
            scale = float(self.settings["scan_score"]) if scanned else 1.0
            for span in spans:  # scanned spans are KB names already: no fuzzy neighbours for them
                for cand in self.linker.link(work.text[span[0] : span[1]], fuzzy=not scanned):
                    cand = Candidate(cand.name, cand.score * scale, "scan" if scanned else cand.source)
                    if cand.name not in best or best[cand.name][0].score < cand.score:
                        best[cand.name] = (cand, span)

        collect(work.spans, scanned=False)
        if not best and self.settings["scan_fallback"]:
            work.used_scan = True
            collect(self.linker.scan(work.text), scanned=True)
        elif best and self.settings["scan_overlap"]:  # KB names overlapping a tagged span: fixes its boundaries
            spans = [s for s in self.linker.scan(work.text) if s not in work.spans and _overlaps(s, work.spans)]
            collect(spans, scanned=True)
        work.candidates = sorted(best.values(), key=lambda cs: -cs[0].score)[: self.linker.top_k]
        limit = int(self.settings["max_predicates"])
        for index, (cand, _) in enumerate(work.candidates):
            work.pairs += [(index, p) for p in self.kb.predicates(cand.name)[:limit]]

    def _score(self, works: list[_Work]) -> None:
        rows, owners = [], []
        for w, work in enumerate(works):
            for index, predicate in work.pairs:
                start, end = work.candidates[index][1]
                rows.append({"text": mask_mention(work.text, start, end, self.settings["mask"]), "text_b": predicate,
                             "_gold": False})
                owners.append(w)
        preds = self.relation_model.predict_examples(rows) if rows else []
        for w, pred in zip(owners, preds):
            works[w].probs.append(_positive_prob(pred))

    def _answer(self, work: _Work) -> dict[str, Any]:
        if not work.text.strip():
            return {"answer": None, "reason": "empty question"}
        probs = work.probs
        extra = {}
        if self.debug:  # for evaluation: the tagger's own spans and the linked candidates
            extra = {"tagged": [work.text[s:e] for s, e in work.spans],
                     "candidates": [c.name for c, _ in work.candidates]}
        if not work.candidates or not probs:
            found = "no topic-entity mention found" if not work.spans else \
                f"no KB entity matches the mention(s) {[_short(work.text[s:e]) for s, e in work.spans]}"
            if work.used_scan:
                found += "; no KB entity name occurs in the question either"
            return {"answer": None, "reason": found, "mention": _mention(work), **extra}
        best = max(range(len(probs)), key=lambda j: probs[j] * work.candidates[work.pairs[j][0]][0].score)
        index, predicate = work.pairs[best]
        cand, span = work.candidates[index]
        score = round(probs[best] * cand.score, 6)
        guess = {"entity": cand.name, "predicate": predicate, "score": score, "mention": work.text[span[0] : span[1]],
                 "mention_span": list(span), "link": cand.source, **extra}
        if score < float(self.settings["threshold"]):
            return {"answer": None, "reason": f"best (entity, predicate) score {score:.3f} is below the threshold "
                                              f"{float(self.settings['threshold']):.3f}", **guess}
        answers = self.kb.objects(cand.name, predicate)
        if not answers:
            return {"answer": None, "reason": "the KB has no object for the best (entity, predicate)", **guess}
        return {"answer": answers[0], "answers": answers, **guess}


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def _mention(work: _Work) -> str | None:
    return work.text[work.spans[0][0] : work.spans[0][1]] if work.spans else None


def _positive_prob(prediction: dict) -> float:
    """P(label "1") from a classification-head prediction (``probs`` holds every class)."""
    return float(prediction["probs"].get("1", 0.0))
