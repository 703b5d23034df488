"""Ensembles of finished runs at prediction time, and the ``zhnlp ensemble`` command.

    zhnlp ensemble RUN1 RUN2 ... --input texts.txt [--output out.jsonl] [--format jsonl|cluener|...]
    zhnlp ensemble RUN1 RUN2 ... --data labelled_file          (score the ensemble)
    zhnlp ensemble RUN1 RUN2 ... --save DIR                    (zhnlp.load(DIR) -> the ensemble)

Each member is anything ``zhnlp.load`` accepts (a run folder, a checkpoint, an ONNX export, a cv
folder) and predicts on its own tokenization; the members' predictions are combined per example
by the first member's head: its ``combine(predictions, weights, heads, vote)`` (e.g. NER: entity
span voting, where ``vote`` is the weighted share of members an entity needs, strictly more than;
classification: averaged probabilities), or else the (weighted) most frequent prediction, ties
going to the earlier member.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

from zhnlp.errors import ConfigError, ZhnlpError
from zhnlp.model import as_examples, combine_predictions


# ---- the ensemble predictor -----------------------------------------------------------------------
class Ensemble:
    """Several loaded predictors behind one ``predict(texts)``.

    Args:
        members: what ``zhnlp.load`` returns (``predict_examples``, ``head``, ``labels``, ``cfg``).
        weights: one weight per member (default equal).
        vote: the weighted share of members a set-valued item (an entity) must exceed.
        reader: ``{"name": dataset, "reader": {options}}`` for labelled files (``zhnlp ensemble
            --data``); default the first member's data config.
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
        self.labels = list(members[0].labels)
        for name, member in zip(self.names[1:], self.members[1:]):
            if sorted(member.labels) != sorted(self.labels):
                raise ConfigError(f"ensemble members disagree on the label set: {self.names[0]} has {self.labels}, "
                                  f"{name} has {list(member.labels)}. Ensemble runs trained on the same task and labels.")
        cfg = dict(members[0].cfg or {})
        if reader is not None:
            cfg["data"] = {**cfg.get("data", {}), **reader}
        self.cfg = cfg

    def predict_examples(self, examples: list[dict], batch_size: int = 64) -> list[Any]:
        """Combined predictions for example dicts (``text``, optional ``text_b``), in input order."""
        per_member = [m.predict_examples(examples, batch_size) for m in self.members]
        heads = [m.head for m in self.members]
        return [combine_predictions(heads, preds, self.weights, self.vote) for preds in zip(*per_member)]

    def predict(self, texts: Iterable[str] | str, batch_size: int = 64) -> list[Any]:
        """Predict for each text (same output format as the members)."""
        return self.predict_examples(as_examples(texts), batch_size)

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
        reader: ``{"name": dataset, "reader": {options}}`` for labelled files.

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
    from zhnlp import registry
    from zhnlp.outputs import metrics_table
    from zhnlp.predict import summary_line, write_prediction_file

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
        metrics, _ = ensemble.evaluate(registry.build_reader(ensemble.cfg["data"])(args.data, key="--data"),
                                       args.batch_size)
        print(metrics_table(metrics))
    if args.input:
        counts = write_prediction_file(ensemble, args.input, args.output, args.format, args.batch_size)
        print(summary_line(counts, args.output), file=sys.stderr)
