"""The crf head with ``branches: K``: per-branch likelihoods, product-of-experts decoding, and a
K-branch bilstm encoder trained, saved, reloaded and exported through the real config."""
from __future__ import annotations

import itertools
import json

import pytest
import torch

from zhnlp.config import compose_train_config
from zhnlp.errors import ConfigError
from zhnlp_ner.crf import CrfHead
from zhnlp_ner.heads import build_crf

LABELS = ["LOC", "PER"]


def randomise(head: torch.nn.Module, seed: int) -> None:
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in head.parameters():
            p.normal_(std=1.0)


def test_loss_is_the_mean_of_the_branch_likelihoods():
    head = build_crf(2 * 6, LABELS, scheme="BIO", dropout=0.0, branches=2).eval()
    randomise(head, 0)
    hidden = torch.randn(3, 5, 12)  # (B, T, K * H)
    mask = torch.tensor([[1] * 5, [1] * 3 + [0] * 2, [1] * 4 + [0]])
    tags = torch.randint(0, len(head.tags), (3, 5))
    out = head(hidden, {"attention_mask": mask, "tags": tags})
    singles = [CrfHead(6, LABELS, scheme="BIO", dropout=0.0).eval() for _ in range(2)]
    for single, member in zip(singles, [head, head.others[0]]):
        single.proj.load_state_dict(member.proj.state_dict())
        single.crf.load_state_dict(member.crf.state_dict())
    parts = [s(h, {"attention_mask": mask, "tags": tags}) for s, h in zip(singles, hidden.chunk(2, dim=-1))]
    torch.testing.assert_close(out["loss"], (parts[0]["loss"] + parts[1]["loss"]) / 2)
    torch.testing.assert_close(out["emissions"], (parts[0]["emissions"] + parts[1]["emissions"]) / 2)


def best_path(emissions, start, trans, end, start_ok, trans_ok, end_ok) -> list[int]:
    """Highest-scoring valid tag path of one (T, K) row, by enumeration."""
    best, best_score = None, float("-inf")
    for path in itertools.product(range(emissions.size(1)), repeat=emissions.size(0)):
        if not (start_ok[path[0]] and end_ok[path[-1]] and all(trans_ok[a, b] for a, b in zip(path, path[1:]))):
            continue
        score = start[path[0]] + end[path[-1]] + sum(emissions[t, k] for t, k in enumerate(path))
        score = float(score + sum(trans[a, b] for a, b in zip(path, path[1:])))
        if score > best_score:
            best, best_score = list(path), score
    return best


def test_decoding_maximises_the_sum_of_the_branch_scores():
    head = build_crf(3 * 4, LABELS, scheme="BIO", dropout=0.0, branches=3).eval()
    randomise(head, 1)
    hidden = torch.randn(2, 4, 12)  # (B, T, K * H)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    with torch.no_grad():
        paths = head.decode(head.emissions(hidden, mask.bool()), mask)
        per_branch = head.branch_emissions(hidden, mask.bool())  # K x (B, T, tags)
        summed = [sum(getattr(c, k) for c in head.crfs()) for k in ("start_transitions", "transitions", "end_transitions")]
    for row in range(2):
        n = int(mask[row].sum())
        assert paths[row, :n].tolist() == best_path(sum(e[row, :n] for e in per_branch), *summed, *head.constraints)
        assert (paths[row, n:] == -1).all()


def test_branches_must_divide_the_hidden_size():
    with pytest.raises(ConfigError, match="head.branches=3"):
        build_crf(8, LABELS, branches=3)


def test_crf_param_group_holds_every_branch_crf():
    head = build_crf(8, LABELS, branches=2)
    assert {id(p) for p in head.param_groups()["crf"]} == {id(p) for c in head.crfs() for p in c.parameters()}
    assert len(head.param_groups()["crf"]) == 6


def test_two_branch_bilstm_crf_trains_reloads_and_exports(tmp_path):
    from zhnlp.export import export_onnx, load_onnx
    from zhnlp.predict import Predictor
    from zhnlp.train import train

    cfg = compose_train_config(["encoder=bilstm", "encoder.branches=2", "encoder.char_dim=16", "encoder.bigram_dim=8",
                          "encoder.seg_dim=4", "encoder.lstm_hidden=8", "head.lstm_layers=0", "head.scheme=BIOES",
                          "trainer.max_epochs=1", "trainer.enable_progress_bar=false", "trainer.accelerator=cpu"])
    assert cfg["head"]["branches"] == 2  # follows encoder.branches
    run = tmp_path / "run"
    train(cfg, run)
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert 0.0 <= metrics["test/f1"] <= 1.0
    predictor = Predictor.from_path(run)
    assert len(predictor.encoder.branches) == 2 and len(predictor.head.others) == 1
    texts = ["张伟在北京大学读书。", "李娜去了上海"]
    onnx = load_onnx(export_onnx(run, tmp_path / "onnx"))
    assert onnx.predict(texts) == predictor.predict(texts)
