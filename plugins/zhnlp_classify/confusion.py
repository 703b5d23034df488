"""Confusion matrix counts and a PNG plot of them (matplotlib's Agg canvas, imported lazily, no pyplot)."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Sequence

# Fonts with CJK glyphs, tried in order so that Chinese class names render (else boxes).
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "SimHei", "Microsoft YaHei", "PingFang SC", "Heiti SC", "AR PL UMing CN")


def confusion_counts(golds: Sequence[str], preds: Sequence[str], labels: Sequence[str]) -> tuple[list[str], list[list[int]]]:
    """Counts ``m[i][j]`` = examples of gold class i predicted as class j.

    Args:
        golds, preds: one label per example.
        labels: the class order; labels met in the data but missing here are appended.

    Returns:
        (class order, K x K counts; rows = gold, columns = predicted).
    """
    order = list(dict.fromkeys([*labels, *golds, *preds]))
    index = {c: i for i, c in enumerate(order)}
    matrix = [[0] * len(order) for _ in order]
    for g, p in zip(golds, preds):
        matrix[index[g]][index[p]] += 1
    return order, matrix


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in CJK_FONTS if n in names), None)


def save_confusion_matrix(predictions: Sequence[dict], examples: Sequence[dict], labels: Sequence[str],
                          path: str | Path, title: str | None = None) -> Path:
    """Plot the single-label confusion matrix as a PNG.

    Cells are coloured by the row-normalised rate (recall of the gold class along the diagonal)
    and annotated with the raw count when there are at most 30 classes.

    Args:
        predictions: the head's predictions (``{"label": ...}`` dicts), one per example.
        examples: the gold examples (``label``).
        labels: the class order (the head's ``labels``).
        path: where to write the PNG (parent folders are created).
        title: figure title (default: accuracy and example count).

    Returns:
        The path written.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    golds = [str(ex["label"]) for ex in examples]
    preds = [str(p["label"]) for p in predictions]
    order, matrix = confusion_counts(golds, preds, labels)
    k = len(order)
    rates = [[c / max(1, sum(row)) for c in row] for row in matrix]
    correct = sum(matrix[i][i] for i in range(k))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    size = max(4.0, 0.55 * k + 2.5)
    font = _cjk_font()
    with warnings.catch_warnings(), matplotlib.rc_context({"font.sans-serif": [font, "DejaVu Sans"]} if font else {}):
        warnings.filterwarnings("ignore", message=".*[Gg]lyph.*missing.*")
        fig = Figure(figsize=(size, size))  # no pyplot: no global state, Agg canvas
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        image = ax.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
        ax.set_xticks(range(k), labels=order, rotation=45 if k > 4 else 0, ha="right" if k > 4 else "center")
        ax.set_yticks(range(k), labels=order)
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title(title or f"accuracy {100 * correct / max(1, len(golds)):.2f}% (n={len(golds)})")
        if k <= 30:
            for i in range(k):
                for j in range(k):
                    colour = "white" if rates[i][j] > 0.5 else "black"
                    ax.text(j, i, str(matrix[i][j]), ha="center", va="center", color=colour, fontsize=8)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of gold row")
        fig.tight_layout()
        fig.savefig(path, dpi=120)
    return path
