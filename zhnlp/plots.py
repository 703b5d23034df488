"""Training curves of a run as a PNG (matplotlib's Agg canvas, imported lazily, no pyplot)."""
from __future__ import annotations

import csv
from pathlib import Path


def read_curves(csv_path: Path, metric: str) -> dict[str, list[tuple[float, float]]]:
    """``{column: [(step, value), ...]}`` for train/loss, val/loss and ``val/<metric>`` from a
    Lightning CSV log (rows where a column is empty are skipped).

    Validation rows from after training (the final re-evaluation of the best checkpoint is logged
    with an epoch past the last training epoch) are left out: they are not part of the curve.
    """
    wanted = ("train/loss", "val/loss", f"val/{metric}")
    curves: dict[str, list[tuple[float, float, float]]] = {key: [] for key in wanted}  # (epoch, step, value)
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for key in wanted:
                value = row.get(key) or ""
                if value.strip():
                    curves[key].append((float(row.get("epoch") or 0), float(row.get("step") or 0), float(value)))
    last_epoch = max((epoch for epoch, _, _ in curves["train/loss"]), default=float("inf"))
    kept = {key: [(step, value) for epoch, step, value in points if key == "train/loss" or epoch <= last_epoch]
            for key, points in curves.items()}
    return {key: points for key, points in kept.items() if points}


def plot_curves(csv_path: Path, out_path: Path, metric: str) -> Path | None:
    """Write losses (left) and the validation metric (right) against the training step.

    Returns:
        ``out_path``, or None when the log holds no curve (e.g. a run with no finished step).
    """
    if not Path(csv_path).is_file():
        return None
    curves = read_curves(Path(csv_path), metric)
    if not curves:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(fig)
    loss_ax, metric_ax = fig.subplots(1, 2)
    for key, style in (("train/loss", "-"), ("val/loss", "o-")):
        if key in curves:
            steps, values = zip(*curves[key])
            loss_ax.plot(steps, values, style, label=key, markersize=4)
    loss_ax.set(xlabel="step", ylabel="loss", title="loss")
    loss_ax.legend()
    key = f"val/{metric}"
    if key in curves:
        steps, values = zip(*curves[key])
        metric_ax.plot(steps, values, "o-", color="tab:green", markersize=4)
        best = max(range(len(values)), key=values.__getitem__)
        metric_ax.annotate(f"best {values[best]:.4f}", (steps[best], values[best]),
                           textcoords="offset points", xytext=(0, 8), ha="center")
    metric_ax.set(xlabel="step", ylabel=key, title=f"validation {metric}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, dpi=100)
    return out_path
