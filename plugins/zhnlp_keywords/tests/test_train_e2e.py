"""End to end: ``python -m zhnlp train experiment=csl_keywords data=sample_keywords`` for one epoch,
then ``zhnlp.keywords(texts, method="tagger", run=RUN)`` and keybert on that run's encoder."""
import json
import os
import subprocess
import sys

import zhnlp


def test_train_then_extract(tmp_path):
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    env.pop("ZHNLP_SUBCOMMAND", None)
    cmd = [sys.executable, "-m", "zhnlp", "train", "experiment=csl_keywords", "data=sample_keywords",
           "trainer.max_epochs=1", f"hydra.run.dir={run}",
           # smaller than the preset, to keep the test fast
           "encoder.char_dim=32", "encoder.bigram_dim=32", "encoder.seg_dim=8", "head.lstm_hidden=32"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    for key in ("val/f1@5", "val/p@3", "val/r@10", "test/f1@5"):
        assert 0.0 <= metrics[key] <= 1.0
    rows = (run / "predictions" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 6 and isinstance(json.loads(rows[0])["prediction"], list)

    texts = ["基于深度强化学习的交通信号控制方法研究", "", "Neo4j knowledge graph", "图" * 1500]
    out = zhnlp.keywords(texts, method="tagger", top_k=3, run=str(run))
    assert len(out) == 4 and out[1] == []
    for text, keywords in zip(texts, out):
        assert len(keywords) <= 3
        assert [s for _, s in keywords] == sorted((s for _, s in keywords), reverse=True)
        assert all(k in text for k, _ in keywords)
    kb = zhnlp.keywords(texts[:3], method="keybert", top_k=2, run=str(run))
    assert len(kb) == 3 and kb[1] == [] and all(len(k) <= 2 for k in kb)
