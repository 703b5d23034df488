"""One tiny run of the whole pipeline through the command line, then zhnlp.load(run).predict."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import zhnlp
from zhnlp.model import TaskModel
from zhnlp_kbqa.cli import main as kbqa_cli
from zhnlp_kbqa.qa import KBQA

TINY = [
    "trainer.max_epochs=1", "trainer.enable_progress_bar=false", "trainer.accelerator=cpu",
    "kbqa.mention.encoder.char_dim=16", "kbqa.mention.encoder.bigram_dim=8", "kbqa.mention.encoder.seg_dim=4",
    "kbqa.mention.head.lstm_hidden=16", "kbqa.relation.encoder.char_dim=16", "kbqa.relation.encoder.bigram_dim=8",
    "kbqa.relation.encoder.seg_dim=4", "kbqa.relation.encoder.lstm_hidden=16", "kbqa.negatives.kb=2",
    "kbqa.negatives.similar=1", "kbqa.negatives.random=1", "kbqa.answer.threshold=0.0",
]
QUESTIONS = ["《机械设计基础》这本书的作者是谁？", "火星人甲乙丙的身高是多少？", "", "啊" * 2000,
             "'; DROP TABLE triples; --", "%", "100%纯棉的材质", "a_b%c的别名"]


def test_train_load_predict(tmp_path, kbdata, capsys):
    run = tmp_path / "run"
    data = kbdata.DATA
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    env.pop("ZHNLP_SUBCOMMAND", None)
    cmd = [sys.executable, "-m", "zhnlp", "train", "experiment=nlpcc_kbqa_scratch",
           f"data.train_path={data / 'train.txt'}", f"data.dev_path={data / 'dev.txt'}",
           f"data.test_path={data / 'dev.txt'}", f"data.kb_path={data / 'kb.txt'}",
           *TINY, f"hydra.run.dir={run}"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    for split in ("val", "test"):
        for name in ("mention_acc", "entity_acc", "predicate_acc", "answer_acc", "answer_f1", "link_recall"):
            assert 0.0 <= metrics[f"{split}/{name}"] <= 1.0, (split, name)
    assert metrics["kb/triples"] == 260.0
    for part in ("mention", "relation"):
        assert (run / part / "checkpoints" / "best.ckpt").is_file()
        assert (run / part / "model" / "zhnlp.json").is_file()  # what load_kbqa loads
    assert (run / "relation" / "data" / "train.jsonl").is_file()
    rows = [json.loads(line) for line in (run / "predictions" / "dev.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 51 and {"subject", "answer", "prediction"} <= set(rows[0])
    assert json.loads((run / "predictor.json").read_text())["_target_"] == "zhnlp_kbqa.pipeline.load_kbqa"

    qa = zhnlp.load(str(run))
    assert isinstance(qa, KBQA)
    assert isinstance(qa.mention_model, TaskModel) and isinstance(qa.relation_model, TaskModel)
    assert qa.relation_model.cfg["head"]["name"] == "classification" and sorted(qa.relation_model.labels) == ["0", "1"]
    out = qa.predict(QUESTIONS)
    assert len(out) == len(QUESTIONS)
    for o in out:
        assert ("reason" in o) == (o["answer"] is None)
        if o["answer"] is not None:
            assert {"answer", "entity", "predicate", "score", "mention"} <= set(o)
            assert o["answer"] in qa.kb.objects(o["entity"], o["predicate"])
    assert out[2] == {"answer": None, "reason": "empty question"}
    assert out[1]["answer"] is None or out[1]["entity"] != "火星人甲乙丙"
    assert qa.kb.count("triples") == 260  # hostile text changed nothing

    kbqa_cli(["ask", str(run), "《机械设计基础》这本书的作者是谁？", "%"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["question"] for line in lines] == ["《机械设计基础》这本书的作者是谁？", "%"]
