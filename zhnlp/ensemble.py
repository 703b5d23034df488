"""Ensembles of finished runs at prediction time, and the ``zhnlp ensemble`` command.

    zhnlp ensemble RUN1 RUN2 ... --input texts.txt [--output out.jsonl] [--format jsonl|cluener|...]
    zhnlp ensemble RUN1 RUN2 ... --data labelled_file          (score the ensemble)
    zhnlp ensemble RUN1 RUN2 ... --save DIR                    (zhnlp.load(DIR) -> the ensemble)

Each member is anything ``zhnlp.load`` accepts (a run folder, a checkpoint, an ONNX export, a cv
folder) and predicts on its own tokenization; the members' predictions are combined per example:

NER (lists of ``{type, start, end, text}``)   span voting: an entity ``(type, start, end)`` is kept
    when the (weighted) share of members predicting it is greater than ``vote`` (0.5: a strict
    majority).
single-label classification (``{label, prob, top_k}``)   soft voting: the members' class
    probabilities are averaged (each member's head is asked for all classes, ``top_k = #labels``,
    while the ensemble predicts), the output keeps the members' format and ``top_k`` length.
multi-label classification (``{labels, probs}``)   probabilities averaged; a label is predicted when
    its average reaches the average of the members' tuned thresholds (0.5 if a head has none).
anything else   the (weighted) most frequent prediction; ties go to the earlier member.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Sequence

from zhnlp.errors import ConfigError, ZhnlpError

ENTITY_KEYS = {"type", "start", "end"}


# ---- combining one example's member predictions ------------------------------------------------
def _is_entity_list(pred: Any) -> bool:
    return isinstance(pred, list) and all(isinstance(e, dict) and ENTITY_KEYS <= e.keys() for e in pred)


def vote_spans(preds: Sequence[list[dict]], weights: Sequence[float], vote: float = 0.5) -> list[dict]:
    """Entities predicted by more than ``vote`` of the (weighted) members, by (start, end, type)."""
    votes: dict[tuple, float] = defaultdict(float)
    first: dict[tuple, dict] = {}
    for pred, w in zip(preds, weights):
        for ent in {(e["type"], int(e["start"]), int(e["end"])): e for e in pred}.values():
            key = (ent["type"], int(ent["start"]), int(ent["end"]))
            votes[key] += w
            first.setdefault(key, ent)
    total = sum(weights)
    kept = [key for key, v in votes.items() if v > vote * total + 1e-9]
    return [first[key] for key in sorted(kept, key=lambda k: (k[1], k[2], k[0]))]


def average_single(preds: Sequence[dict], weights: Sequence[float], top_k: int) -> dict:
    """Average class probabilities from ``top_k`` lists; ``{label, prob, top_k}``."""
    total = sum(weights)
    probs: dict[str, float] = defaultdict(float)
    order: dict[str, int] = {}
    for pred, w in zip(preds, weights):
        for label, p in pred["top_k"]:
            probs[label] += w * float(p) / total
            order.setdefault(label, len(order))
    ranked = sorted(probs, key=lambda lab: (-probs[lab], order[lab]))
    top = [[lab, round(probs[lab], 6)] for lab in ranked[:top_k]]
    return {"label": top[0][0], "prob": top[0][1], "top_k": top}


def average_multi(preds: Sequence[dict], weights: Sequence[float], thresholds: dict[str, float]) -> dict:
    """Average per-label probabilities; ``{labels, probs}`` with labels at or above threshold."""
    total = sum(weights)
    probs: dict[str, float] = defaultdict(float)
    for pred, w in zip(preds, weights):
        for label, p in pred["probs"].items():
            probs[label] += w * float(p) / total
    ordered = {lab: round(probs[lab], 6) for lab in list(preds[0]["probs"]) + sorted(set(probs) - set(preds[0]["probs"]))}
    return {"labels": [lab for lab, p in ordered.items() if p >= thresholds.get(lab, 0.5)], "probs": ordered}


def majority(preds: Sequence[Any], weights: Sequence[float]) -> Any:
    """The (weighted) most frequent prediction; ties go to the earliest member."""
    score: Counter = Counter()
    first: dict[str, Any] = {}
    for pred, w in zip(preds, weights):
        key = json.dumps(pred, sort_keys=True, ensure_ascii=False)
        score[key] += w
        first.setdefault(key, pred)
    best = max(score.values())
    return next(first[k] for k in first if score[k] == best)


def combine(preds: Sequence[Any], weights: Sequence[float], vote: float = 0.5, top_k: int = 3,
            thresholds: dict[str, float] | None = None) -> Any:
    """One example's ensemble prediction from its members' predictions (see the module docstring)."""
    if all(_is_entity_list(p) for p in preds):
        return vote_spans(preds, weights, vote)
    if all(isinstance(p, dict) and "top_k" in p for p in preds):
        return average_single(preds, weights, top_k)
    if all(isinstance(p, dict) and isinstance(p.get("probs"), dict) for p in preds):
        return average_multi(preds, weights, thresholds or {})
    return majority(preds, weights)


# ---- the ensemble predictor -----------------------------------------------------------------------
class Ensemble:
    """Several loaded predictors behind one ``predict(texts)``.

    Args:
        members: objects with ``predict_examples(examples, batch_size)`` and ``head`` (what
            ``zhnlp.load`` returns).
        weights: one weight per member (default equal).
        vote: NER span-voting share an entity must exceed.
        reader: config of the dataset reader for labelled files (``zhnlp ensemble --data``);
            default the first member's.
        names: member names for messages.
    """

    def __init__(self, members: Sequence[Any], weights: Sequence[float] | None = None, vote: float = 0.5,
                 reader: dict | None = None, names: Sequence[str] | None = None):
        if not members:
            raise ConfigError("an ensemble needs at least one member run.")
        weights = [1.0] * len(members) if weights is None else [float(w) for w in weights]
        if len(weights) != len(members) or min(weights) < 0 or sum(weights) <= 0:
            raise ConfigError(f"ensemble weights {weights}: give {len(members)} non-negative numbers, not all 0.")
        if not 0.0 <= float(vote) < 1.0:
            raise ConfigError(f"ensemble vote={vote}: must be in [0, 1).")
        self.members, self.weights, self.vote = list(members), weights, float(vote)
        self.names = list(names) if names else [f"member{i}" for i in range(len(members))]
        self.head = members[0].head
        self.labels = list(getattr(members[0], "labels", []) or [])
        for name, member in zip(self.names[1:], self.members[1:]):
            other = list(getattr(member, "labels", []) or [])
            if sorted(other) != sorted(self.labels):
                raise ConfigError(f"ensemble members disagree on the label set: {self.names[0]} has {self.labels}, "
                                  f"{name} has {other}. Ensemble runs trained on the same task and labels.")
        cfg = dict(getattr(members[0], "cfg", {}) or {})
        if reader is not None:
            cfg["data"] = {**cfg.get("data", {}), "reader": reader}
        self.cfg = cfg
        self.top_k = int(getattr(self.head, "top_k", 3))
        self.thresholds = self._thresholds()

    def _thresholds(self) -> dict[str, float]:
        sums: dict[str, float] = defaultdict(float)
        for member in self.members:
            head = member.head
            values = getattr(head, "thresholds", None)
            labels = getattr(head, "labels", None)
            cut = dict(zip(labels, values.tolist())) if values is not None and labels else {}
            for label in self.labels:
                sums[label] += cut.get(label, 0.5)
        return {label: v / len(self.members) for label, v in sums.items()}

    @contextmanager
    def _all_classes(self):
        """Heads (and nested ensembles) with ``top_k`` list every class while the ensemble predicts."""
        saved = []
        for member in self.members:  # a nested ensemble has its own top_k
            owner = member if hasattr(member, "top_k") else member.head
            labels = getattr(owner, "labels", None)
            if hasattr(owner, "top_k") and labels:
                saved.append((owner, owner.top_k))
                owner.top_k = len(labels)
        try:
            yield
        finally:
            for owner, k in saved:
                owner.top_k = k

    def predict_examples(self, examples: list[dict], batch_size: int = 64) -> list[Any]:
        """Combined predictions for example dicts (``text``, optional ``text_b``), in input order."""
        with self._all_classes():
            per_member = [m.predict_examples(examples, batch_size) for m in self.members]
        return [combine(list(preds), self.weights, self.vote, self.top_k, self.thresholds) for preds in zip(*per_member)]

    def predict(self, texts: Iterable[str] | str, batch_size: int = 64) -> list[Any]:
        """Predict for each text (same output format as the members)."""
        if isinstance(texts, str):
            texts = [texts]
        examples = [{"text": t, "_gold": False} if not isinstance(t, dict) else {**t, "_gold": False} for t in texts]
        return self.predict_examples(examples, batch_size)

    def evaluate(self, examples: list[dict], batch_size: int = 64) -> tuple[dict[str, float], list[Any]]:
        """The head's metrics of the ensemble's predictions on labelled examples, and the predictions."""
        predictions = self.predict_examples([{**ex, "_gold": False} for ex in examples], batch_size)
        return self.head.evaluate(predictions, examples), predictions


def load_ensemble(path: str | None = None, device: str = "cpu", runs: Sequence[str] = (),
                  weights: Sequence[float] | None = None, vote: float = 0.5, reader: dict | None = None) -> Ensemble:
    """Load an ensemble (the loader ``predictor.json`` names; also usable directly).

    Args:
        path: folder of the ``predictor.json``; relative ``runs`` are resolved against it.
        device: torch device for the members.
        runs: member runs (anything ``zhnlp.load`` accepts).
        weights: one weight per run.
        vote: NER span-voting share.
        reader: dataset reader config for labelled files.

    Returns:
        An :class:`Ensemble`.
    """
    from zhnlp.predict import load_any

    base = Path(path) if path else Path(".")
    resolved = [Path(r) if Path(r).is_absolute() else base / r for r in runs]
    missing = [str(r) for r in resolved if not r.exists()]
    if missing:
        raise ZhnlpError(f"ensemble member(s) not found: {', '.join(missing)}.")
    members = [load_any(r, device=device) for r in resolved]
    return Ensemble(members, weights=weights, vote=vote, reader=reader, names=[str(r) for r in runs])


def save_ensemble(directory: str | Path, runs: Sequence[str], weights: Sequence[float] | None = None,
                  vote: float = 0.5) -> Path:
    """Write ``directory/predictor.json`` so that ``zhnlp.load(directory)`` gives the ensemble."""
    from zhnlp.predict import PIPELINE_FILE

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    spec: dict[str, Any] = {"_target_": "zhnlp.ensemble.load_ensemble",
                            "runs": [str(Path(r).resolve()) for r in runs], "vote": vote}
    if weights is not None:
        spec["weights"] = list(weights)
    path = out / PIPELINE_FILE
    path.write_text(json.dumps(spec, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


# ---- files and the command ---------------------------------------------------------------------------
def main(argv: list[str]) -> None:
    """``zhnlp ensemble RUN [RUN ...] (--input FILE | --data FILE | --save DIR) ...``."""
    from zhnlp.builders import build
    from zhnlp.outputs import metrics_table
    from zhnlp.predict import write_prediction_file

    parser = argparse.ArgumentParser(prog="zhnlp ensemble", description="Combine several trained runs.")
    parser.add_argument("runs", nargs="+", help="run folders, checkpoints, ONNX exports or cv folders")
    parser.add_argument("--input", "-i", help="texts to predict: one per line, or JSON lines with 'text'")
    parser.add_argument("--output", "-o", default="-", help="prediction file (default: stdout)")
    parser.add_argument("--format", default="jsonl", help="jsonl (default) or a format the head offers, e.g. cluener")
    parser.add_argument("--data", help="labelled file in the runs' dataset format: print the ensemble's metrics")
    parser.add_argument("--save", help="write DIR/predictor.json so that zhnlp.load(DIR) gives this ensemble")
    parser.add_argument("--weights", type=float, nargs="+", help="one weight per run (default: equal)")
    parser.add_argument("--vote", type=float, default=0.5, help="NER: keep entities predicted by more than this share")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    if not (args.input or args.data or args.save):
        parser.error("give --input FILE to predict, --data FILE to evaluate, or --save DIR")
    ensemble = load_ensemble(runs=[str(Path(r).resolve()) for r in args.runs], device=args.device,
                             weights=args.weights, vote=args.vote)
    if args.save:
        print(f"Wrote {save_ensemble(args.save, args.runs, args.weights, args.vote)}", file=sys.stderr)
    if args.data:
        if not Path(args.data).is_file():
            raise ZhnlpError(f"{args.data}: data file not found.")
        metrics, _ = ensemble.evaluate(build(ensemble.cfg["data"]["reader"])(args.data), args.batch_size)
        print(metrics_table(metrics))
    if args.input:
        n = write_prediction_file(ensemble, args.input, args.output, args.format, args.batch_size)
        if args.output != "-":
            print(f"Wrote {n} predictions to {args.output}", file=sys.stderr)
