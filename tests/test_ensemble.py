"""Ensembles (zhnlp.ensemble): span voting and probability averaging against brute force, then real
runs through the Python API and the ``zhnlp ensemble`` command."""
from __future__ import annotations

import itertools
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import zhnlp
from cli_helpers import explain, zhnlp as run_zhnlp
from zhnlp.config import sample_path, to_plain
from zhnlp.ensemble import Ensemble, average_single, combine, load_ensemble, majority, vote_spans
from zhnlp.predict import Predictor



def ent(t, s, e):
    return {"type": t, "start": s, "end": e, "text": "x" * (e - s)}


def test_span_voting_against_brute_force():
    candidates = [("PER", 0, 2), ("LOC", 3, 5), ("ORG", 3, 7), ("PER", 8, 9)]
    for picks in itertools.product(range(1 << len(candidates)), repeat=3):
        preds = [[ent(*c) for j, c in enumerate(candidates) if mask >> j & 1] for mask in picks]
        got = {(e["type"], e["start"], e["end"]) for e in vote_spans(preds, [1.0, 1.0, 1.0])}
        want = {c for c in candidates if sum(c in {(e["type"], e["start"], e["end"]) for e in p} for p in preds) >= 2}
        assert got == want
    preds = [[ent("PER", 0, 2)], [], []]  # weights: one heavy member outvotes two light ones
    assert vote_spans(preds, [3.0, 1.0, 1.0]) == [ent("PER", 0, 2)]
    assert vote_spans(preds, [1.0, 1.0, 1.0]) == []
    assert vote_spans([[ent("PER", 0, 2)], []], [1.0, 1.0]) == []  # a tie is not a majority
    assert vote_spans([[ent("PER", 0, 2)], []], [1.0, 1.0], vote=0.4) == [ent("PER", 0, 2)]


def test_soft_voting_averages_probabilities():
    a = {"label": "x", "prob": 0.6, "top_k": [["x", 0.6], ["y", 0.3], ["z", 0.1]]}
    b = {"label": "y", "prob": 0.5, "top_k": [["y", 0.5], ["z", 0.4], ["x", 0.1]]}
    out = average_single([a, b], [1.0, 1.0], top_k=2)
    assert out == {"label": "y", "prob": 0.4, "top_k": [["y", 0.4], ["x", 0.35]]}
    assert combine([a, b], [3.0, 1.0], top_k=3)["label"] == "x"
    multi = [{"labels": ["p"], "probs": {"p": 0.9, "q": 0.2}}, {"labels": [], "probs": {"p": 0.3, "q": 0.6}}]
    out = combine(multi, [1.0, 1.0], thresholds={"p": 0.5, "q": 0.45})
    assert out["probs"] == {"p": pytest.approx(0.6), "q": pytest.approx(0.4)} and out["labels"] == ["p"]
    assert majority(["a", "b", "b"], [1, 1, 1]) == "b" and majority(["a", "b"], [1, 1]) == "a"


class FakeMember:
    """A predictor with fixed class probabilities; its head honours ``top_k`` like the real one."""

    def __init__(self, probs: dict[str, float]):
        self.probs = probs
        self.labels = sorted(probs)
        self.head = SimpleNamespace(top_k=1, labels=self.labels, evaluate=lambda p, e: {"n": len(p)})
        self.cfg = {"data": {"reader": {"_target_": "x"}}}

    def predict_examples(self, examples, batch_size=64):
        ranked = sorted(self.probs.items(), key=lambda kv: -kv[1])[: self.head.top_k]
        return [{"label": ranked[0][0], "prob": ranked[0][1], "top_k": [list(r) for r in ranked]} for _ in examples]


def test_ensemble_asks_members_for_every_class():
    # with top_k=1 each member would only report its own favourite; averaged fully, "c" wins
    members = [FakeMember({"a": 0.5, "b": 0.1, "c": 0.4}), FakeMember({"a": 0.0, "b": 0.55, "c": 0.45})]
    ens = Ensemble(members)
    (out,) = ens.predict(["t"])
    assert out["label"] == "c" and out["prob"] == pytest.approx(0.425) and len(out["top_k"]) == 1
    assert [m.head.top_k for m in members] == [1, 1]  # restored
    nested = Ensemble([ens, FakeMember({"a": 0.1, "b": 0.1, "c": 0.8})])
    assert nested.predict(["t"])[0]["prob"] == pytest.approx((0.425 + 0.8) / 2)
    with pytest.raises(zhnlp.ConfigError, match="label set"):
        Ensemble([members[0], FakeMember({"a": 1.0})])
    with pytest.raises(zhnlp.ConfigError, match="weights"):
        Ensemble(members, weights=[1.0])


def tiny_run(tmp: Path, name: str, overrides: list[str]) -> Path:
    from test_contracts import compose_config
    from zhnlp.train import train

    cfg = to_plain(compose_config([*overrides, "trainer.enable_progress_bar=false"]))
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
    members = [Predictor.from_path(r) for r in cls_runs]
    texts = Path(sample_path("sample_cls/test.tsv")).read_text(encoding="utf-8").splitlines()[1:21]
    texts = [line.split("\t")[1] for line in texts]
    for m in members:
        m.head.top_k = len(m.labels)
    full = [m.predict(texts) for m in members]
    for m in members:
        m.head.top_k = 3
    ens = load_ensemble(runs=[str(r) for r in cls_runs])
    out = ens.predict(texts)
    for i, pred in enumerate(out):
        mean = {lab: sum(dict(f[i]["top_k"])[lab] for f in full) / 2 for lab in members[0].labels}
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
    metrics, _ = loaded.evaluate(zhnlp.builders.build(loaded.cfg["data"]["reader"])(dev))
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
    members = [Predictor.from_path(r) for r in runs]
    # make the members disagree: bias each CRF towards starting an entity of another type
    for m, tag in zip(members, ["B-PER", "B-LOC", "B-PER"]):
        with torch.no_grad():
            m.head.proj.bias[m.head.tags.index(tag)] += 50.0
    texts = ["张伟在北京大学读书。", "华为在深圳发布新手机"]
    per_member = [m.predict(texts) for m in members]
    out = Ensemble(members).predict(texts)
    for i in range(len(texts)):
        assert out[i] == vote_spans([p[i] for p in per_member], [1.0, 1.0, 1.0])
        assert out[i] and all(e["type"] == "PER" for e in out[i])  # PER wins 2 to 1
