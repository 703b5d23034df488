"""One tiny end-to-end run through the command line: sample_cls + textcnn + classification."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import zhnlp

TINY = ["task=classify", "data=sample_cls", "encoder=textcnn", "encoder.char_dim=16", "encoder.bigram_dim=16",
        "encoder.seg_dim=4", "encoder.filters=16", "head.pooling=max", "trainer.max_epochs=1",
        "trainer.enable_progress_bar=false", "optim.lr=5e-3"]


def test_train_predict_round_trip(tmp_path):
    run_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("ZHNLP_SUBCOMMAND", None)
    proc = subprocess.run([sys.executable, "-m", "zhnlp", "train", *TINY, f"hydra.run.dir={run_dir}"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for key in ("val/acc", "test/acc", "test/macro_f1", "test/f1/sports"):
        assert 0.0 <= metrics[key] <= 1.0, key
    assert "macro avg" in proc.stdout  # head.report() printed
    rows = [json.loads(line) for line in (run_dir / "predictions" / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 80 and {"label", "prob", "top_k", "probs"} <= set(rows[0]["prediction"])
    assert set(rows[0]["prediction"]["probs"]) == {"sports", "finance", "tech", "entertainment"}
    model = zhnlp.load(str(run_dir))
    assert model.cfg["head"]["name"] == "classification" and (run_dir / "model" / "zhnlp.json").is_file()
    again = model.predict([r["text"] for r in rows[:10]])
    assert [p["label"] for p in again] == [r["prediction"]["label"] for r in rows[:10]]
    assert model.predict(["", "  ２０２４年😀 "])[1]["label"] in {"sports", "finance", "tech", "entertainment"}
