"""What a run leaves in its folder: metrics.json, predictions, a readable summary."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_metrics(run_dir: Path, metrics: dict[str, float]) -> Path:
    """Flat ``{"val/f1": 0.93, "test/f1": 0.91, ...}`` as metrics.json."""
    path = run_dir / "metrics.json"
    path.write_text(json.dumps(dict(sorted(metrics.items())), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def public_example(example: dict) -> dict:
    """The example without bookkeeping keys (``_file``, ``_line``, ...)."""
    return {k: v for k, v in example.items() if not k.startswith("_")}


def write_predictions(path: Path, examples: list[dict], predictions: list[Any]) -> Path:
    """One JSON line per example: its fields (gold included) plus ``prediction``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for example, pred in zip(examples, predictions):
            out.write(json.dumps({**public_example(example), "prediction": pred}, ensure_ascii=False) + "\n")
    return path


def metrics_table(metrics: dict[str, float]) -> str:
    """Aligned ``name  value`` lines, fractions shown as percentages where they look like scores."""
    width = max((len(k) for k in metrics), default=0)
    lines = []
    for key in sorted(metrics):
        value = metrics[key]
        is_score = 0.0 <= value <= 1.0 and "loss" not in key and not key.startswith(("train/", "data/"))
        shown = f"{value * 100:6.2f}" if is_score else f"{value:.4g}"
        lines.append(f"  {key.ljust(width)}  {shown}")
    return "\n".join(lines)
