"""The end of a multirun (``zhnlp train -m ...``): one table of every run, best first.

Hydra calls :class:`SweepSummary` (``hydra.callbacks.summary`` in ``conf/train.yaml``) when the
sweep ends; it reads each run folder's ``.hydra/overrides.yaml`` and ``metrics.json`` and writes
``summary.csv`` and ``summary.md`` into the sweep folder, and prints the Markdown table.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback


def short_name(text: str, width: int = 48) -> str:
    """``text`` cut to ``width`` characters (for folder names made of overrides)."""
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "~"


def sweep_rows(sweep_dir: Path, main_metric: str) -> list[dict[str, Any]]:
    """One row per finished run under ``sweep_dir``: folder, overrides, the main metric on dev and
    test, best (highest dev) first; runs without metrics come last, marked as failed."""
    rows = []
    for folder in sorted(p for p in sweep_dir.iterdir() if p.is_dir() and (p / ".hydra").is_dir()):
        overrides_file = folder / ".hydra" / "overrides.yaml"
        overrides = [line[2:].strip() for line in overrides_file.read_text(encoding="utf-8").splitlines()
                     if line.startswith("- ")] if overrides_file.is_file() else []
        metrics_file = folder / "metrics.json"
        metrics = json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.is_file() else {}
        name = main_metric.split("/", 1)[-1]
        rows.append({"run": folder.name, "overrides": " ".join(overrides),
                     f"dev {name}": metrics.get(f"val/{name}"), f"test {name}": metrics.get(f"test/{name}"),
                     "seconds": metrics.get("train/seconds"), "status": "ok" if metrics else "failed"})
    key = f"dev {main_metric.split('/', 1)[-1]}"
    return sorted(rows, key=lambda r: (r[key] is None, -(r[key] or 0.0)))


def markdown(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table (scores as percentages)."""
    if not rows:
        return "(no runs)"
    columns = list(rows[0])
    shown = lambda v: "-" if v is None else f"{v * 100:.2f}" if isinstance(v, float) and v <= 1.0 else str(v)  # noqa: E731
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(shown(r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def write_summary(sweep_dir: Path, main_metric: str) -> str:
    """Write ``summary.csv`` and ``summary.md`` into ``sweep_dir``; return the Markdown table."""
    rows = sweep_rows(sweep_dir, main_metric)
    if rows:
        with (sweep_dir / "summary.csv").open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    table = markdown(rows)
    (sweep_dir / "summary.md").write_text(table + "\n", encoding="utf-8")
    return table


class SweepSummary(Callback):
    """Hydra callback: the summary table when a multirun ends."""

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        if not sweep_dir.is_dir():
            return
        table = write_summary(sweep_dir, str(config.get("report_metric") or "val/f1"))
        print(f"\nSweep summary ({sweep_dir / 'summary.md'}, best first):\n{table}")
