"""End to end through the command line: run folder contents, multirun, DDP, resume, predict."""
from __future__ import annotations

import csv
import json

import pytest

import zhnlp
from cli_helpers import explain, metrics, train, zhnlp as run_zhnlp


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("train")
    proc, run_dir = train(tmp, "trainer.max_epochs=2")
    assert proc.returncode == 0, explain(proc)
    return proc, run_dir


def test_run_folder_has_everything(trained):
    proc, run_dir = trained
    m = metrics(run_dir)
    for key in ("val/f1", "val/precision", "val/recall", "test/f1", "test/macro_f1"):
        assert 0.0 <= m[key] <= 1.0, key
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    assert (run_dir / "checkpoints" / "best.ckpt").is_file()
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert {p.name for p in (run_dir / "model").iterdir()} >= {"zhnlp.json", "model.safetensors"}
    assert (run_dir / "logs" / "metrics.csv").is_file()
    assert (run_dir / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "curves.png" in proc.stdout
    rows = [json.loads(line) for line in (run_dir / "predictions" / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 100  # the sample test split
    assert all(isinstance(r["prediction"], list) for r in rows)
    assert "Run folder" in proc.stdout and str(run_dir) in proc.stdout
    assert "test/f1" in proc.stdout


def test_load_predicts_with_original_offsets(trained):
    _, run_dir = trained
    model = zhnlp.load(str(run_dir))
    texts = ["张伟在北京大学读书。", "  华为Mate60手机于２０２３年8月在深圳发布😀", ""]
    out = model.predict(texts)
    assert len(out) == 3 and out[2] == []
    for text, entities in zip(texts, out):
        for ent in entities:
            assert text[ent["start"]:ent["end"]] == ent["text"]
            assert ent["type"] in {"PER", "LOC", "ORG"}
    rows = [json.loads(line) for line in (run_dir / "predictions" / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    again = model.predict([r["text"] for r in rows[:20]])
    assert again == [r["prediction"] for r in rows[:20]]
    # the saved model folder (safetensors, no pickle) and the best checkpoint give the same model
    from zhnlp.model import TaskModel

    for other in (zhnlp.load(str(run_dir / "model")), TaskModel.from_checkpoint(run_dir / "checkpoints" / "best.ckpt")):
        assert other.predict([r["text"] for r in rows[:20]]) == again


def test_predict_keeps_one_line_per_input_line(trained, tmp_path):
    _, run_dir = trained
    inputs = tmp_path / "in.txt"
    lines = ["张伟在北京大学读书。", "", "   ", '{"id": "a7", "text": "李娜去了上海", "source": "web"}', "华为在深圳"]
    inputs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = run_zhnlp("predict", str(run_dir), "--input", str(inputs), "-o", str(tmp_path / "out.jsonl"), cwd=tmp_path)
    assert proc.returncode == 0, explain(proc)
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(out) == len(lines)
    assert [o["text"] for o in out] == ["张伟在北京大学读书。", "", "", "李娜去了上海", "华为在深圳"]
    assert out[1]["prediction"] == out[2]["prediction"] == []
    assert out[3]["id"] == "a7" and out[3]["source"] == "web"
    assert "5 texts (2 empty)" in proc.stderr


def test_predict_writes_cluener_submission(trained, tmp_path):
    _, run_dir = trained
    rows = [json.loads(line) for line in (run_dir / "predictions" / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = rows[:30]  # the tiny 2-epoch model may find few entities: the writer's mapping is unit-tested in zhnlp_ner
    inputs = tmp_path / "test.json"
    inputs.write_text("".join(json.dumps({"id": 100 + i, "text": r["text"]}, ensure_ascii=False) + "\n"
                              for i, r in enumerate(rows)), encoding="utf-8")
    proc = run_zhnlp("predict", str(run_dir), "--input", str(inputs), "--format", "cluener",
                     "-o", str(tmp_path / "submission.json"), cwd=tmp_path)
    assert proc.returncode == 0, explain(proc)
    lines = [json.loads(line) for line in (tmp_path / "submission.json").read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == [100 + i for i in range(len(rows))]
    for line, row in zip(lines, rows):
        spans = sorted((t, m, s, e) for t, mentions in line["label"].items() for m, ss in mentions.items() for s, e in ss)
        expected = sorted((p["type"], p["text"], p["start"], p["end"] - 1) for p in row["prediction"])
        assert spans == expected  # CLUENER ends are inclusive
        assert all(row["text"][s : e + 1] == m for _, m, s, e in spans)


def test_multirun_sweep(tmp_path):
    sweep = tmp_path / "sweep"
    proc = run_zhnlp("train", "-m", "optim.lr=1e-3,3e-3", "encoder.char_dim=16", "encoder.bigram_dim=16",
                     "head.lstm_hidden=16", "trainer.max_epochs=1", "trainer.enable_progress_bar=false",
                     f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert proc.returncode == 0, explain(proc)
    runs = sorted(p.parent for p in sweep.glob("*/metrics.json"))
    assert len(runs) == 2
    lrs = sorted(json.loads((r / "metrics.json").read_text())["val/f1"] >= 0 and
                 (r / ".hydra" / "overrides.yaml").read_text() for r in runs)
    assert "optim.lr=0.001" in lrs[0] and "optim.lr=0.003" in lrs[1]
    # the summary: one row per run, best dev F1 first, printed and saved
    import csv

    rows = list(csv.DictReader((sweep / "summary.csv").open(encoding="utf-8")))
    assert [r["overrides"].split()[0] for r in rows] and len(rows) == 2
    scores = [float(r["dev f1"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert {r["overrides"].split()[0] for r in rows} == {"optim.lr=0.001", "optim.lr=0.003"}
    assert "Sweep summary" in proc.stdout and (sweep / "summary.md").is_file()


def test_ddp_two_cpu_processes(tmp_path):
    proc, run_dir = train(tmp_path, "trainer=ddp_cpu", "data.batch_size=16")
    assert proc.returncode == 0, explain(proc)
    m = metrics(run_dir)
    assert 0.0 <= m["test/f1"] <= 1.0
    # the gathered evaluation covers the whole test split, not one process's half
    assert len((run_dir / "predictions" / "test.jsonl").read_text(encoding="utf-8").splitlines()) == 100


def test_resume_from_last_checkpoint(tmp_path):
    first, run1 = train(tmp_path, run="first")
    assert first.returncode == 0, explain(first)
    second, run2 = train(tmp_path, f"ckpt_path={run1}", "trainer.max_epochs=2", run="second")
    assert second.returncode == 0, explain(second)
    with open(run2 / "logs" / "metrics.csv", encoding="utf-8") as f:
        epochs = {row["epoch"] for row in csv.DictReader(f) if row.get("train/loss")}
    assert epochs == {"1"}, f"resumed run should train epoch 1 only, logged {epochs}"
    assert metrics(run2)["train/epochs"] == 2.0
