"""Ensembles: of finished runs at prediction time (zhnlp.ensemble, the ``zhnlp ensemble`` command) and
of K members trained in one run (``members=K``); both combine predictions with the head's ``combine``."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import zhnlp
from cli_helpers import explain, zhnlp as run_zhnlp
from zhnlp import registry
from zhnlp.config import compose_train_config, sample_path
from zhnlp.data.collate import collate
from zhnlp.ensemble import Ensemble, load_ensemble
from zhnlp.voting import majority
from zhnlp.predict import load_model


def test_majority_vote_is_the_fallback():
    assert majority(["a", "b", "b"], [1, 1, 1]) == "b" and majority(["a", "b"], [1, 1]) == "a"
    assert majority([{"x": 1}, {"x": 2}], [1.0, 3.0]) == {"x": 2}


class FakeMember:
    """A predictor that always predicts ``pred``; its head may declare ``combine``."""

    def __init__(self, pred, labels=("a", "b"), combine=None):
        self.pred, self.labels = pred, list(labels)
        self.head = SimpleNamespace(evaluate=lambda p, e: {"n": len(p)}, combine=combine)
        self.cfg = {"data": {"name": "sample_cls", "reader": {}}}

    def predict_examples(self, examples, batch_size=64):
        return [self.pred for _ in examples]


def test_ensemble_combines_with_the_heads_combine_or_the_majority():
    calls = []

    def combine(predictions, weights, heads, vote):
        calls.append((predictions, weights, len(heads), vote))
        return "combined"

    members = [FakeMember("x", combine=combine), FakeMember("y"), FakeMember("y")]
    assert Ensemble(members, weights=[1, 2, 3], vote=0.3).predict(["t"]) == ["combined"]
    assert calls == [(["x", "y", "y"], [1.0, 2.0, 3.0], 3, 0.3)]
    plain = [FakeMember("x"), FakeMember("y"), FakeMember("y")]
    assert Ensemble(plain).predict(["t", "u"]) == ["y", "y"]
    with pytest.raises(zhnlp.ConfigError, match="label set"):
        Ensemble([plain[0], FakeMember("z", labels=["a"])])
    with pytest.raises(zhnlp.ConfigError, match="weights"):
        Ensemble(plain, weights=[1.0])


def tiny_run(tmp: Path, name: str, overrides: list[str]) -> Path:
    from zhnlp.train import train

    cfg = compose_train_config([*overrides, "trainer.enable_progress_bar=false"])
    train(cfg, tmp / name)
    return tmp / name


@pytest.fixture(scope="module")
def cls_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ens_cls")
    base = ["task=classify", "data=sample_cls", "encoder=textcnn", "encoder.char_dim=16", "encoder.bigram_dim=16",
            "encoder.seg_dim=4", "encoder.filters=16", "head.pooling=max", "trainer.max_epochs=2", "optim.lr=5e-3",
            "data.test_path=null"]
    torch.set_num_threads(1)
    return [tiny_run(tmp, f"run{seed}", [*base, f"seed={seed}"]) for seed in (1, 2)]


def test_classification_ensemble_is_the_mean_of_member_probabilities(cls_runs):
    members = [load_model(r) for r in cls_runs]
    texts = Path(sample_path("sample_cls/test.tsv")).read_text(encoding="utf-8").splitlines()[1:21]
    texts = [line.split("\t")[1] for line in texts]
    full = [m.predict(texts) for m in members]
    ens = load_ensemble(runs=[str(r) for r in cls_runs])
    out = ens.predict(texts)
    for i, pred in enumerate(out):
        mean = {lab: sum(f[i]["probs"][lab] for f in full) / 2 for lab in members[0].labels}
        best = max(mean, key=mean.get)
        assert pred["label"] == best and pred["prob"] == pytest.approx(mean[best], abs=1e-5)
        assert len(pred["top_k"]) == 3
    single = load_ensemble(runs=[str(cls_runs[0])]).predict(texts)
    assert [p["label"] for p in single] == [p["label"] for p in members[0].predict(texts)]


def test_ensemble_command_predict_evaluate_save(cls_runs, tmp_path):
    inp = tmp_path / "in.txt"
    inp.write_text("中联银行完成新一轮融资\n球队夺得总冠军😀\n", encoding="utf-8")
    dev = sample_path("sample_cls/dev.tsv")
    proc = run_zhnlp("ensemble", *map(str, cls_runs), "--input", str(inp), "--output", str(tmp_path / "out.jsonl"),
                     "--data", dev, "--save", str(tmp_path / "ens"), cwd=tmp_path, env={"OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, explain(proc)
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    loaded = zhnlp.load(str(tmp_path / "ens"))
    assert [r["prediction"] for r in rows] == loaded.predict(["中联银行完成新一轮融资", "球队夺得总冠军😀"])
    metrics, _ = loaded.evaluate(registry.build_reader(loaded.cfg["data"])(dev, key="--data"))
    assert f"{metrics['acc'] * 100:6.2f}" in proc.stdout
    with pytest.raises(zhnlp.ZhnlpError, match="not found"):
        load_ensemble(runs=[str(cls_runs[0]), str(tmp_path / "nope")])


def test_ner_ensemble_votes_member_spans(tmp_path):
    data = []
    for split, n in (("train", 40), ("dev", 15)):
        blocks = Path(sample_path(f"sample_ner/{split}.txt")).read_text(encoding="utf-8").split("\n\n")[:n]
        (tmp_path / f"{split}.txt").write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
        data.append(f"data.{split}_path={tmp_path / f'{split}.txt'}")
    base = ["encoder.char_dim=16", "encoder.bigram_dim=16", "encoder.seg_dim=8", "head.lstm_hidden=16",
            "trainer.max_epochs=1", "data.test_path=null", *data]
    runs = [tiny_run(tmp_path, f"ner{seed}", [*base, f"seed={seed}"]) for seed in (1, 2, 3)]
    members = [load_model(r) for r in runs]
    # make the members disagree: bias each CRF towards starting an entity of another type
    for m, tag in zip(members, ["B-PER", "B-LOC", "B-PER"]):
        with torch.no_grad():
            m.head.proj.bias[m.head.tags.index(tag)] += 50.0
    texts = ["张伟在北京大学读书。", "华为在深圳发布新手机"]
    per_member = [m.predict(texts) for m in members]
    out = Ensemble(members).predict(texts)
    heads = [m.head for m in members]
    for i in range(len(texts)):
        assert out[i] == members[0].head.combine([p[i] for p in per_member], [1.0] * 3, heads, 0.5)
        assert out[i] and all(e["type"] == "PER" for e in out[i])  # PER wins 2 to 1


def test_members_train_together_and_predict_as_one(tmp_path):
    """members=2: one run, two independently initialised members, combined by the head."""
    run = tiny_run(tmp_path, "two", ["task=classify", "data=sample_cls", "encoder=textcnn", "encoder.char_dim=16",
                                     "encoder.bigram_dim=16", "encoder.seg_dim=4", "encoder.filters=16",
                                     "head.pooling=max", "trainer.max_epochs=1", "members=2"])
    model = zhnlp.load(run)
    assert len(model.members) == 2
    first, second = (next(m.encoder.parameters()) for m in model.members)
    assert first.shape == second.shape and not torch.equal(first, second)  # independent initialisation
    texts = ["中联银行完成新一轮融资", "球队夺得总冠军"]
    batch = collate(model.features([{"text": t, "_gold": False} for t in texts]))
    with torch.no_grad():
        per_member = [m.head.predict(m.encoder(**{k: batch[k] for k in batch["encoder_keys"]}), batch)
                      for m in model.members]
    order = batch["index"].tolist()
    want = {i: model.head.combine(list(p), [1.0, 1.0], model.heads, 0.5) for i, p in zip(order, zip(*per_member))}
    assert model.predict(texts) == [want[0], want[1]]
    again = zhnlp.load(run / "model")  # the saved folder rebuilds both members
    assert again.predict(texts) == model.predict(texts)
