"""Load a trained run (no Hydra, no network) and predict, evaluate or write submissions.

``zhnlp.load(path)`` accepts a run folder (its ``model/``, else its best / last checkpoint), a
``model/`` folder written by :meth:`TaskModel.save_pretrained`, a ``.ckpt`` file, or a folder
whose ``predictor.json`` names another loader (ONNX exports, ensembles, cv folders, pipelines).
Whatever it returns has ``predict(texts)``, ``predict_examples(examples)``, ``evaluate(examples)``,
``head``, ``labels`` and ``cfg``.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from zhnlp.errors import ZhnlpError

CHECKPOINT_NAMES = ("best.ckpt", "last.ckpt")
PIPELINE_FILE = "predictor.json"


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
        f"{p}: no model found (looked for model/zhnlp.json, checkpoints/best.ckpt and checkpoints/last.ckpt). "
        f"Did the training run finish an epoch? Pass a run folder written by `zhnlp train` or a .ckpt file."
    )


def load_model(path: str | Path, device: str = "cpu"):
    """A :class:`~zhnlp.model.TaskModel` from a run folder, a ``model/`` folder or a checkpoint."""
    from zhnlp.model import CONFIG_FILE, TaskModel

    p = Path(path)
    for folder in (p, p / "model"):
        if p.is_dir() and (folder / CONFIG_FILE).is_file():
            return TaskModel.from_pretrained(folder, device=device)
    return TaskModel.from_checkpoint(find_checkpoint(p), device=device)


def load_any(path: str | Path, device: str = "cpu"):
    """``zhnlp.load``: a pipeline / export / ensemble (its ``predictor.json`` names a loader) or a model."""
    from zhnlp.builders import build

    p = Path(path)
    spec_file = p / PIPELINE_FILE
    if p.is_dir() and spec_file.is_file():
        spec = json.loads(spec_file.read_text(encoding="utf-8"))
        return build(spec, path=str(p), device=device)
    return load_model(p, device=device)


# ---- files ----------------------------------------------------------------------------------------
def read_inputs(path: str) -> list[dict]:
    """Input for ``zhnlp predict``: one record per line, in order, blank lines included.

    A line starting with ``{`` is a JSON object with ``text`` (its other fields are kept); any
    other line is the text itself. Blank or space-only lines are empty texts.
    """
    if not Path(path).is_file():
        raise ZhnlpError(f"{path}: input file not found.")
    records = []
    with open(path, encoding="utf-8-sig") as f:
        try:
            lines = f.read().split("\n")
        except UnicodeDecodeError as exc:
            raise ZhnlpError(f"{path}: not valid UTF-8 ({exc.reason}); convert the file to UTF-8.") from None
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r")
        if line.lstrip().startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ZhnlpError(f"{path}:{number}: invalid JSON ({exc.msg}).") from exc
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                raise ZhnlpError(f"{path}:{number}: a JSON line needs a string 'text' field.")
            records.append({**obj, "_line": number})
        else:
            records.append({"text": line if line.strip() else "", "_line": number})
    return records


def empty_prediction(predictor: Any) -> Any:
    """What the model predicts for an empty text (computed once, so the type is the head's own)."""
    return predictor.predict_examples([{"text": "", "_gold": False}])[0]


def write_prediction_file(predictor: Any, input_path: str, output: str, fmt: str, batch_size: int) -> dict:
    """Predict a ``zhnlp predict`` input file with any loaded predictor (run, ONNX export,
    ensemble): one output line per input line, in order (an empty line gives an empty
    prediction; JSON input keeps its other fields), or the head's submission format ``fmt``.

    Returns:
        ``{"texts": n, "empty": k, "seconds": s}``.
    """
    started = time.time()
    from zhnlp.types import has

    formats = predictor.head.output_formats if has(predictor.head, "output_formats") else {}
    if fmt != "jsonl" and fmt not in formats:
        raise ZhnlpError(f"unknown --format '{fmt}'. This head offers: jsonl{''.join(', ' + f for f in formats)}.")
    records = read_inputs(input_path)
    filled = [i for i, r in enumerate(records) if r["text"].strip()]
    predicted = predictor.predict_examples([{**records[i], "_gold": False} for i in filled], batch_size)
    predictions: list[Any] = [None] * len(records)
    for i, pred in zip(filled, predicted):
        predictions[i] = pred
    if len(filled) < len(records):
        blank = empty_prediction(predictor)
        predictions = [blank if p is None else p for p in predictions]
    out = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")
    try:
        for i, (record, pred) in enumerate(zip(records, predictions)):
            fields = {k: v for k, v in record.items() if not k.startswith("_")}
            if fmt == "jsonl":
                line = {**fields, "prediction": pred}
            else:
                line = formats[fmt]({**fields, "id": fields.get("id", i)}, pred)
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return {"texts": len(records), "empty": len(records) - len(filled), "seconds": round(time.time() - started, 2)}


def summary_line(counts: dict, output: str) -> str:
    """One line for stderr: how many texts, how many empty, how long, where."""
    where = "" if output == "-" else f" to {output}"
    return (f"zhnlp predict: {counts['texts']} texts ({counts['empty']} empty) in {counts['seconds']:.2f} s"
            f"{where}")


def predict_file(run: str, input_path: str, output: str, fmt: str, batch_size: int, device: str) -> None:
    """``zhnlp predict``: load ``run`` and write its predictions (see :func:`write_prediction_file`)."""
    counts = write_prediction_file(load_any(run, device=device), input_path, output, fmt, batch_size)
    print(summary_line(counts, output), file=sys.stderr)


def evaluate_file(run: str, data_path: str, output: str | None, batch_size: int, device: str) -> dict[str, float]:
    """``zhnlp eval``: read labelled data with the run's reader, print and return metrics."""
    from zhnlp import registry
    from zhnlp.outputs import metrics_table

    predictor = load_any(run, device=device)
    if not Path(data_path).is_file():
        raise ZhnlpError(f"{data_path}: data file not found.")
    examples = registry.build_reader(predictor.cfg["data"])(data_path, key="--data")
    metrics, _ = predictor.evaluate(examples, batch_size)
    print(metrics_table(metrics))
    if output:
        Path(output).write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return metrics
