"""Load a trained run (no Hydra, no network) and predict, evaluate or write submissions."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterable

import torch

from zhnlp.builders import build
from zhnlp.data.collate import collate
from zhnlp.data.datamodule import make_features
from zhnlp.errors import ZhnlpError
from zhnlp.module import merge_windows
from zhnlp.outputs import metrics_table
from zhnlp.types import last_hidden

CHECKPOINT_NAMES = ("best.ckpt", "last.ckpt")


def find_checkpoint(path: str | Path) -> Path:
    """A run folder's best (else last) checkpoint, or the file itself."""
    p = Path(path)
    if p.is_file():
        return p
    if not p.exists():
        raise ZhnlpError(f"{p}: no such run folder or checkpoint file.")
    for name in CHECKPOINT_NAMES:
        for candidate in (p / "checkpoints" / name, p / name):
            if candidate.is_file():
                return candidate
    raise ZhnlpError(
        f"{p}: no checkpoint found (looked for checkpoints/best.ckpt and checkpoints/last.ckpt). "
        f"Did the training run finish an epoch? Pass a run folder written by `zhnlp train` or a .ckpt file."
    )


def read_checkpoint(path: Path) -> dict:
    """Load a checkpoint without unrestricted unpickling."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ZhnlpError(f"{path}: cannot read this checkpoint ({type(exc).__name__}: {exc}).") from exc


def absolute_assets(assets: dict, run_dir: Path) -> dict:
    """Encoder asset kwargs stored relative to the run folder -> absolute paths."""
    relative = set(assets.get("_relative", []))
    return {k: str(run_dir / v) if k in relative else v for k, v in assets.items() if k != "_relative"}


class Predictor:
    """A trained encoder + head, ready for ``predict(texts)``.

    Build it with ``zhnlp.load(run_dir)``; ``cfg`` and ``labels`` are what the run trained with.
    """

    def __init__(self, encoder, head, cfg: dict, labels: list[str], device: str = "cpu"):
        self.encoder, self.head, self.cfg, self.labels = encoder, head, cfg, labels
        self.device = torch.device(device)
        self.encoder.to(self.device).eval()
        self.head.to(self.device).eval()
        self.max_length = cfg["data"].get("max_length") or getattr(encoder, "max_length", 512)

    @classmethod
    def from_path(cls, path: str | Path, device: str = "cpu") -> "Predictor":
        """Rebuild encoder and head from the config stored in the checkpoint, then load weights."""
        ckpt_path = find_checkpoint(path)
        ckpt = read_checkpoint(ckpt_path)
        hp = ckpt.get("hyper_parameters") or {}
        if "cfg" not in hp:
            raise ZhnlpError(f"{ckpt_path}: not a zhnlp checkpoint (no stored config).")
        cfg, labels = hp["cfg"], list(hp["labels"])
        run_dir = ckpt_path.parent.parent if ckpt_path.parent.name == "checkpoints" else ckpt_path.parent
        encoder = build({**cfg["encoder"], **absolute_assets(hp.get("encoder_assets") or {}, run_dir)})
        head = build(cfg["head"])(hidden_size=encoder.hidden_size, labels=labels)
        state = ckpt["state_dict"]
        encoder.load_state_dict({k[len("encoder."):]: v for k, v in state.items() if k.startswith("encoder.")})
        head.load_state_dict({k[len("head."):]: v for k, v in state.items() if k.startswith("head.")})
        return cls(encoder, head, cfg, labels, device)

    def sorted_features(self, examples: list[dict]) -> tuple[list[dict], list[int]]:
        """The examples' model features, and their indices ordered by token length (for batching)."""
        for ex in examples:
            if not isinstance(ex.get("text"), str):
                raise ZhnlpError(f"predict expects strings; got {type(ex.get('text')).__name__}: {ex.get('text')!r}")
        features = make_features(examples, self.encoder.tokenizer, self.head, self.max_length)
        return features, sorted(range(len(features)), key=lambda i: len(features[i]["inputs"]["input_ids"]))

    @torch.inference_mode()
    def predict_examples(self, examples: list[dict], batch_size: int = 64) -> list[Any]:
        """Predictions for example dicts (``text`` and optional ``text_b``), in input order."""
        if not examples:
            return []
        features, order = self.sorted_features(examples)
        stash = []
        for start in range(0, len(order), batch_size):
            batch = collate([features[i] for i in order[start : start + batch_size]])
            for key in batch["encoder_keys"]:
                batch[key] = batch[key].to(self.device)
            hidden = last_hidden(self.encoder(**{k: batch[k] for k in batch["encoder_keys"]}))  # (B, T, H)
            preds = self.head.predict(hidden, batch)
            stash += list(zip(batch["index"].tolist(), batch["examples"], preds))
        _, predictions = merge_windows(self.head, examples, stash)
        return predictions

    def predict(self, texts: Iterable[str] | str, batch_size: int = 64) -> list[Any]:
        """Predict for each text. NER: a list of ``{"type","start","end","text"}`` per text, with
        offsets into the original string (``end`` exclusive)."""
        if isinstance(texts, str):
            texts = [texts]
        examples = [{"text": t, "_gold": False} if not isinstance(t, dict) else {**t, "_gold": False} for t in texts]
        return self.predict_examples(examples, batch_size)

    def evaluate(self, examples: list[dict], batch_size: int = 64) -> tuple[dict[str, float], list[Any]]:
        """The head's metrics on labelled examples, and the predictions."""
        predictions = self.predict_examples([{**ex, "_gold": False} for ex in examples], batch_size)
        return self.head.evaluate(predictions, examples), predictions


def read_texts(path: str) -> list[dict]:
    """Input for ``zhnlp predict``: one text per line, or JSON objects with ``text``."""
    examples = []
    with open(path, encoding="utf-8-sig") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if line.lstrip().startswith("{"):
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ZhnlpError(f"{path}:{number}: invalid JSON ({exc.msg}).") from exc
                if "text" not in obj:
                    raise ZhnlpError(f"{path}:{number}: JSON line has no 'text' field.")
                examples.append({**obj, "_line": number})
            else:
                examples.append({"text": line, "_line": number})
    return examples


def write_prediction_file(predictor: Any, input_path: str, output: str, fmt: str, batch_size: int) -> int:
    """Predict a ``zhnlp predict`` input file with any loaded predictor (run, ONNX export,
    ensemble); one JSON line per text, or the head's submission format ``fmt``. Returns the count."""
    if not Path(input_path).is_file():
        raise ZhnlpError(f"{input_path}: input file not found.")
    formats = getattr(predictor.head, "output_formats", {})
    if fmt != "jsonl" and fmt not in formats:
        raise ZhnlpError(f"unknown --format '{fmt}'. This head offers: jsonl{''.join(', ' + f for f in formats)}.")
    examples = read_texts(input_path)
    predictions = predictor.predict_examples([{**ex, "_gold": False} for ex in examples], batch_size)
    out = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")
    try:
        for i, (ex, pred) in enumerate(zip(examples, predictions)):
            if fmt == "jsonl":
                record = {"text": ex["text"], "prediction": pred}
            else:
                record = formats[fmt]({**ex, "id": ex.get("id", i)}, pred)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return len(examples)


def predict_file(run: str, input_path: str, output: str, fmt: str, batch_size: int, device: str) -> None:
    """``zhnlp predict``: load ``run`` and write its predictions (see :func:`write_prediction_file`)."""
    count = write_prediction_file(load_any(run, device=device), input_path, output, fmt, batch_size)
    if output != "-":
        print(f"Wrote {count} predictions to {output}", file=sys.stderr)


def evaluate_file(run: str, data_path: str, output: str | None, batch_size: int, device: str) -> dict[str, float]:
    """``zhnlp eval``: read labelled data with the run's reader, print and return metrics."""
    predictor = load_any(run, device=device)
    if not Path(data_path).is_file():
        raise ZhnlpError(f"{data_path}: data file not found.")
    examples = build(predictor.cfg["data"]["reader"])(data_path)
    metrics, _ = predictor.evaluate(examples, batch_size)
    print(metrics_table(metrics))
    if output:
        Path(output).write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return metrics


PIPELINE_FILE = "predictor.json"


def load_any(path: str | Path, device: str = "cpu"):
    """``zhnlp.load``: a pipeline run (its ``predictor.json`` names a loader) or a single model."""
    p = Path(path)
    spec_file = p / PIPELINE_FILE
    if p.is_dir() and spec_file.is_file():
        spec = json.loads(spec_file.read_text(encoding="utf-8"))
        return build(spec, path=str(p), device=device)
    return Predictor.from_path(p, device=device)
