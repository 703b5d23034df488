"""The head's ONNX adapter: ``export_part`` (traceable probabilities, pooling resolved before
tracing, joint inputs only) and ``predict_from_export`` (the same predictions as ``predict``)."""
from __future__ import annotations

import pytest
import torch

from zhnlp.errors import ConfigError
from zhnlp.types import GraphPart
from zhnlp_classify.heads import build_classification

H = 5
LABELS = ["neg", "neu", "pos"]


@pytest.mark.parametrize("mode", ["single", "multi"])
def test_export_part_traces_and_gives_predict_back(h, mode):
    torch.manual_seed(0)
    head = build_classification(H, LABELS, mode=mode, pooling="auto", hidden_dim=4).eval()
    head.thresholds.copy_(torch.tensor([0.3, 0.5, 0.7]))
    sample = h.make_batch([h.bert_offsets(4), h.bert_offsets(2)])
    part = head.export_part(sample)
    assert isinstance(part, GraphPart) and (part.output, part.axes) == ("probs", {0: "batch"})
    assert head.pooling_kind({}) == "cls"  # auto resolved from the sample's [CLS] offsets, kept for the graph
    traced = torch.jit.trace(part.module, (torch.randn(2, 6, H), sample["attention_mask"]))
    batch = h.make_batch([h.bert_offsets(1), h.bert_offsets(5), h.bert_offsets(3)])  # other batch size and length
    hidden = torch.randn(3, 7, H)
    with torch.no_grad():
        probs = traced(hidden, batch["attention_mask"])  # (B, K)
    assert probs.shape == (3, 3)
    if mode == "single":
        torch.testing.assert_close(probs.sum(-1), torch.ones(3))
    assert head.predict_from_export(probs, batch) == head.predict(hidden, batch)
    assert head.predict_from_export(probs.numpy(), batch) == head.predict(hidden, batch)  # onnxruntime gives arrays


def test_auto_pooling_of_a_from_scratch_encoder_is_max(h):
    head = build_classification(H, LABELS, pooling="auto").eval()
    head.export_part(h.make_batch([h.char_offsets(3)]))
    assert head.pooling_kind({}) == "max"


@pytest.mark.parametrize("pair_mode", ["siamese", "interaction"])
def test_pair_modes_cannot_be_exported(h, pair_mode):
    head = build_classification(H, LABELS, pair_mode=pair_mode, pooling="mean")
    with pytest.raises(ConfigError, match=f"head.pair_mode={pair_mode} .*export a run trained with "
                                          f"head.pair_mode=joint"):
        head.export_part(h.make_batch([h.bert_offsets(3)]))
