"""Training curves from a Lightning CSV log."""
from __future__ import annotations

from zhnlp.plots import plot_curves, read_curves

CSV = """epoch,step,train/loss,val/f1,val/loss,test/f1
0,9,3.5,,,
0,19,2.5,,,
0,19,,0.40,2.0,
1,29,1.5,,,
1,39,,0.55,1.8,
1,39,,,,0.5
2,40,,0.55,1.8,
"""


def test_read_curves_keeps_filled_cells_of_the_training_epochs(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text(CSV, encoding="utf-8")
    curves = read_curves(path, "f1")
    assert curves == {"train/loss": [(9.0, 3.5), (19.0, 2.5), (29.0, 1.5)],
                      "val/loss": [(19.0, 2.0), (39.0, 1.8)],
                      "val/f1": [(19.0, 0.40), (39.0, 0.55)]}
    assert "val/acc" not in read_curves(path, "acc")


def test_plot_curves_writes_a_png_or_nothing(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text(CSV, encoding="utf-8")
    out = plot_curves(path, tmp_path / "curves.png", "f1")
    assert out is not None and out.read_bytes()[:4] == b"\x89PNG"
    empty = tmp_path / "empty.csv"
    empty.write_text("epoch,step\n", encoding="utf-8")
    assert plot_curves(empty, tmp_path / "none.png", "f1") is None and not (tmp_path / "none.png").exists()
    assert plot_curves(tmp_path / "missing.csv", tmp_path / "none.png", "f1") is None
