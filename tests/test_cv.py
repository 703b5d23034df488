"""``zhnlp cv``: deterministic stratified folds, the JSONL fold reader, and a 3-fold run through the
command line (out-of-fold predictions, metrics, the fold ensemble behind zhnlp.load)."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

import zhnlp
from cli_helpers import explain, zhnlp as run_zhnlp
from zhnlp.config import sample_path
from zhnlp import registry
from zhnlp.cv import assign_folds, build_jsonl_reader, check_folds, parse_args, summarize, write_jsonl

class_labels = registry.get("heads", "classification").collect_labels
collect_entity_types = registry.get("heads", "crf").collect_labels

TINY_CLS = ["task=classify", "data=sample_cls", "encoder=textcnn", "encoder.char_dim=16", "encoder.bigram_dim=16",
            "encoder.seg_dim=4", "encoder.filters=16", "head.pooling=max", "trainer.max_epochs=2",
            "trainer.enable_progress_bar=false", "optim.lr=5e-3"]


def labelled(counts: dict[str, int]) -> list[dict]:
    return [{"text": f"{label}{i}", "label": label} for label, n in counts.items() for i in range(n)]


def test_folds_are_deterministic_balanced_and_stratified():
    examples = labelled({"a": 10, "b": 7, "c": 3})
    folds = assign_folds(examples, 3, seed=1, collect=class_labels)
    assert folds == assign_folds(examples, 3, seed=1, collect=class_labels)
    assert folds != assign_folds(examples, 3, seed=2, collect=class_labels)
    sizes = Counter(folds)
    assert set(sizes) == {0, 1, 2} and max(sizes.values()) - min(sizes.values()) <= 1
    for label in "abc":
        per_fold = Counter(f for ex, f in zip(examples, folds) if ex["label"] == label)
        assert max(per_fold.values()) - min(per_fold.get(k, 0) for k in range(3)) <= 1, label


def test_ner_folds_spread_the_rarest_entity_type():
    examples = [{"text": "x", "entities": [{"type": "PER", "start": 0, "end": 1}]} for _ in range(9)]
    examples += [{"text": "y", "entities": [{"type": "PER", "start": 0, "end": 1}, {"type": "LOC", "start": 0, "end": 1}]}
                 for _ in range(2)]
    folds = assign_folds(examples, 3, seed=0, collect=collect_entity_types)
    assert folds[-1] != folds[-2]  # the two LOC examples land in different folds
    check_folds(examples, folds, 3, collect_entity_types)


def test_a_label_seen_in_one_fold_only_is_a_clear_error():
    examples = labelled({"a": 6, "b": 5, "rare": 1})
    folds = assign_folds(examples, 3, seed=0, collect=class_labels)
    with pytest.raises(zhnlp.ConfigError, match=r"rare \(1 example\).*cv.folds"):
        check_folds(examples, folds, 3, class_labels)


def test_too_many_folds():
    with pytest.raises(zhnlp.ConfigError, match="cv.folds=5"):
        assign_folds(labelled({"a": 3}), 5, seed=0)


def test_jsonl_round_trip_keeps_the_example_and_its_source(tmp_path):
    examples = [{"text": "张伟 在北京😀", "entities": [{"type": "PER", "start": 0, "end": 2, "text": "张伟"}],
                 "_file": "orig.txt", "_line": 7, "_classes": ["x"]}]
    path = write_jsonl(tmp_path / "f.jsonl", examples)
    (back,) = build_jsonl_reader()(str(path))
    assert back["text"] == examples[0]["text"] and back["entities"] == examples[0]["entities"]
    assert back["_source"] == "orig.txt:7" and back["_classes"] == ["x"]
    assert back["_file"] == str(path) and back["_line"] == 1
    path.write_text('{"text": "ok"}\n{"nope": 1}\n', encoding="utf-8")
    with pytest.raises(zhnlp.DataError, match=r"f.jsonl:2"):
        build_jsonl_reader()(str(path))


def test_parse_args_and_summary():
    options, overrides = parse_args(["cv.folds=4", "cv.use_dev=false", "encoder=char", "hydra.run.dir=/tmp/x"])
    assert options["folds"] == 4 and options["use_dev"] is False and options["dir"] == "/tmp/x"
    assert overrides == ["encoder=char"]
    with pytest.raises(zhnlp.ConfigError, match="cv.fold_count"):
        parse_args(["cv.fold_count=3"])
    out = summarize([{"val/acc": 0.5, "test/acc": 0.1}, {"val/acc": 0.7}])
    assert out["cv/acc"] == pytest.approx(0.6) and out["cv_std/acc"] == pytest.approx(0.1)
    assert out["cv/fold1/acc"] == 0.7 and "cv/test/acc" not in out


def tiny_cls_data(tmp_path: Path, n_train: int = 90, n_dev: int = 30) -> list[str]:
    """The first rows of the bundled classification sample (header kept) as train / dev / test."""
    out = []
    for split, n in (("train", n_train), ("dev", n_dev), ("test", n_dev)):
        lines = Path(sample_path(f"sample_cls/{split}.tsv")).read_text(encoding="utf-8").splitlines()
        path = tmp_path / f"{split}.tsv"
        path.write_text("\n".join(lines[: n + 1]) + "\n", encoding="utf-8")
        out.append(f"data.{split}_path={path}")
    return out


def test_cv_command_end_to_end(tmp_path):
    cv_dir = tmp_path / "cv"
    proc = run_zhnlp("cv", *TINY_CLS, *tiny_cls_data(tmp_path), "cv.folds=3", f"cv.dir={cv_dir}",
                     cwd=tmp_path, env={"OMP_NUM_THREADS": "1"}, timeout=600)
    assert proc.returncode == 0, explain(proc)
    info = json.loads((cv_dir / "cv.json").read_text())
    assert info["examples"] == 120 and sum(info["fold_sizes"]) == 120
    rows = [json.loads(line) for line in (cv_dir / "oof.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 120 and Counter(r["fold"] for r in rows) == Counter(dict(enumerate(info["fold_sizes"])))
    # the dev files partition the examples; each fold trains on the rest
    for fold in range(3):
        dev = build_jsonl_reader()(str(cv_dir / f"fold{fold}" / "data" / "dev.jsonl"))
        train = build_jsonl_reader()(str(cv_dir / f"fold{fold}" / "data" / "train.jsonl"))
        assert sorted(d["text"] for d in dev) == sorted(r["text"] for r in rows if r["fold"] == fold)
        assert len(train) == 120 - len(dev) and len(dev) == info["fold_sizes"][fold]
    metrics = json.loads((cv_dir / "metrics.json").read_text())
    acc = sum(r["prediction"]["label"] == r["label"] for r in rows) / len(rows)
    assert metrics["oof/acc"] == pytest.approx(acc)
    folds = [json.loads((cv_dir / f"fold{i}" / "metrics.json").read_text())["val/acc"] for i in range(3)]
    assert metrics["cv/acc"] == pytest.approx(sum(folds) / 3)
    assert 0.0 <= metrics["test/acc"] <= 1.0
    assert "Cross-validation (3 folds)" in proc.stdout
    ensemble = zhnlp.load(str(cv_dir))
    out = ensemble.predict(["中联银行完成新一轮融资", ""])
    assert len(out) == 2 and {"label", "prob", "top_k"} <= set(out[0])
