"""The new core contracts: ModelOutput of every head (what R-Drop compares), ensemble voting
(``combine``), the ONNX parts (``export_part`` / ``predict_from_export``) and the core BiLSTM in
the CRF head."""
from __future__ import annotations

import io
import warnings

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from zhnlp.layers import BiLSTM
from zhnlp.model import combine_predictions
from zhnlp.types import GraphPart, ModelOutput, has
from zhnlp.voting import vote_spans
from zhnlp_ner.heads import build_crf, build_global_pointer, build_softmax

TEXTS = ["华为Mate60 发布于深圳", "张三在北京", "李"]


def batch_for(helpers, head, texts=TEXTS, gold=True):
    exs = [{"text": t, "entities": [helpers.entity(t, "LOC", 0, 1)], "_file": "m", "_line": i}
           for i, t in enumerate(texts)]
    encs = [helpers.fake_bert_encode(t) for t in texts]
    return helpers.make_batch(exs, encs, [head.targets(e, enc) for e, enc in zip(exs, encs)] if gold else None)


def random_weights(head, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in head.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return head


# ---- ModelOutput ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name,builder", [("crf", build_crf), ("softmax", build_softmax)])
def test_tagging_heads_return_emissions_with_the_attention_mask(helpers, name, builder):
    head = builder(hidden_size=6, labels=["LOC", "PER"]).eval()
    batch = batch_for(helpers, head)
    hidden = torch.randn(3, batch["input_ids"].size(1), 6)
    out = head(hidden, batch)
    assert isinstance(out, ModelOutput) and out.loss is not None and out.loss.dim() == 0 and not out.binary
    assert out.scores.shape == (3, batch["input_ids"].size(1), len(head.tags))  # (B, T, K)
    assert out.scores_mask.dtype == torch.bool and torch.equal(out.scores_mask, batch["attention_mask"].bool())
    no_gold = head(hidden, batch_for(helpers, head, gold=False))
    assert no_gold.loss is None and torch.equal(no_gold.scores, out.scores)


def test_global_pointer_returns_binary_span_scores_and_the_rdrop_cells(helpers):
    head = build_global_pointer(hidden_size=6, labels=["LOC", "PER"], head_size=4).eval()
    batch = batch_for(helpers, head)
    t = batch["input_ids"].size(1)
    out = head(torch.randn(3, t, 6), batch)
    assert out.binary and out.scores.shape == (3, 2, t, t) and out.loss is not None
    # what the old R-Drop compared: cells start <= end with both ends inside the attention mask
    m = batch["attention_mask"].bool()
    upper = torch.ones(t, t, dtype=torch.bool).triu()
    assert torch.equal(out.scores_mask, m[:, None, :, None] & m[:, None, None, :] & upper)
    assert out.scores_mask.shape == (3, 1, t, t)
    assert head(torch.randn(3, t, 6), batch_for(helpers, head, gold=False)).loss is None


# ---- ensembles ------------------------------------------------------------------------------------
def ent(typ, start, end, text="x"):
    return {"type": typ, "start": start, "end": end, "text": text}


def test_vote_spans_weighted_share_strictly_above_vote():
    a, b, c = ent("LOC", 0, 2), ent("PER", 3, 5), ent("ORG", 0, 2)
    preds = [[a, b], [a, c], [b, a, a]]  # a member's duplicate counts once
    assert vote_spans(preds, [1, 1, 1]) == [a, b]  # c: 1/3
    assert vote_spans(preds, [1, 1, 1], vote=2 / 3) == [a]  # b: exactly 2/3 is not more
    assert vote_spans(preds, [1, 3, 0]) == [a, c]  # weighted: c has 3/4, b 1/4
    assert vote_spans([[a], [c]], [1, 1]) == []  # a tie is no majority
    assert vote_spans([[a], [c]], [1, 1], vote=0.0) == [a, c]  # sorted by (start, end, type): LOC < ORG
    first = {**a, "text": "first"}
    assert vote_spans([[first], [a]], [1, 1]) == [first]  # kept as the first member wrote it


def test_heads_combine_by_span_voting():
    head = build_crf(hidden_size=4, labels=["LOC"])
    assert has(head, "combine")
    a, b = ent("LOC", 0, 2), ent("LOC", 3, 4)
    assert combine_predictions([head] * 3, [[a, b], [a], []], [1.0, 1.0, 1.0]) == [a]
    assert head.combine([[a, b], [a], []], [1.0] * 3, [head] * 3, 0.3) == [a, b]


def test_taskmodel_of_three_members_votes_on_entities(helpers):
    from zhnlp.data.collate import collate
    from zhnlp.model import TaskModel

    text = "张三去北京，李四在上海"
    train = [{"text": text, "entities": [helpers.entity(text, "LOC", 3, 5)]}]
    model = TaskModel.build({"name": "char"}, {"name": "crf", "lstm_layers": 0}, ["LOC", "PER"], train, members=3)
    for i, member in enumerate(model.members):
        random_weights(member.head, seed=i)  # three different taggers
    model.eval()
    batch = collate(model.features([{"text": text, "_gold": False}]))
    with torch.no_grad():
        per_member = [m.head.predict(model.hidden(batch, i), batch)[0] for i, m in enumerate(model.members)]
    assert any(per_member) and len({str(p) for p in per_member}) > 1
    assert model.predict([text]) == [vote_spans(per_member, [1.0, 1.0, 1.0])]


# ---- ONNX parts -----------------------------------------------------------------------------------
@pytest.mark.parametrize("builder,kwargs", [(build_crf, {"scheme": "BIOES"}), (build_crf, {"lstm_layers": 2, "lstm_hidden": 3}),
                                            (build_softmax, {})])
def test_export_part_and_predict_from_export_equal_predict(helpers, builder, kwargs):
    head = random_weights(builder(hidden_size=6, labels=["LOC", "PER"], **kwargs)).eval()
    batch = batch_for(helpers, head, gold=False)
    hidden = torch.randn(3, batch["input_ids"].size(1), 6)
    part = head.export_part(batch)
    assert isinstance(part, GraphPart) and part.output == "tags" and part.axes == {0: "batch", 1: "seq"}
    with torch.no_grad():
        tags = part.module(hidden, batch["attention_mask"])  # (B, T)
    assert tags.dtype == torch.long and tags.shape == batch["input_ids"].shape
    assert (tags[batch["attention_mask"] == 0] == -1).all()
    expected = head.predict(hidden, batch)
    assert any(expected)  # random weights find entities: the comparison means something
    assert head.predict_from_export(tags, batch) == expected
    # traced as the core's export does, on a batch of another size and length than the traced one
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(part.module, (hidden, batch["attention_mask"]), check_trace=False, strict=False)
    other = batch_for(helpers, head, texts=["北京", "上海浦东机场然后到杭州西湖边散步"], gold=False)
    h2 = torch.randn(2, other["input_ids"].size(1), 6)
    with torch.no_grad():
        assert torch.equal(traced(h2, other["attention_mask"]), part.module(h2, other["attention_mask"]))
    assert head.predict_from_export(traced(h2, other["attention_mask"]), other) == head.predict(h2, other)


def test_crf_part_exports_to_onnx_with_dynamic_shapes(helpers):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    head = random_weights(build_crf(hidden_size=6, labels=["LOC", "PER"], lstm_layers=1, lstm_hidden=3)).eval()
    batch = batch_for(helpers, head, gold=False)
    hidden = torch.randn(3, batch["input_ids"].size(1), 6)
    part = head.export_part(batch)
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(part.module, (hidden, batch["attention_mask"]), check_trace=False, strict=False)
        torch.onnx.export(traced, (hidden, batch["attention_mask"]), buffer, input_names=["hidden", "attention_mask"],
                          output_names=[part.output], opset_version=17, dynamo=False,
                          dynamic_axes={"hidden": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                        part.output: part.axes})
    session = ort.InferenceSession(buffer.getvalue())
    other = batch_for(helpers, head, texts=["北京", "上海浦东机场然后到杭州西湖边散步"], gold=False)
    h2 = torch.randn(2, other["input_ids"].size(1), 6)
    (tags,) = session.run(None, {"hidden": h2.numpy(), "attention_mask": other["attention_mask"].numpy()})
    assert head.predict_from_export(torch.from_numpy(tags), other) == head.predict(h2, other)


def test_global_pointer_declares_no_export():
    head = build_global_pointer(hidden_size=4, labels=["LOC"], head_size=4)
    assert not has(head, "export_part") and not has(head, "predict_from_export")


# ---- the core BiLSTM in the CRF head --------------------------------------------------------------
class PackedBiLSTM(nn.Module):
    """The CRF head's former BiLSTM: one bidirectional nn.LSTM over packed rows."""

    def __init__(self, input_size, hidden, layers, dropout):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden, num_layers=layers, batch_first=True, bidirectional=True,
                            dropout=dropout if layers > 1 else 0.0)

    def forward(self, x, mask):
        packed = pack_padded_sequence(x, mask.sum(1).clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        return pad_packed_sequence(out, batch_first=True, total_length=x.size(1))[0]


def copy_packed_weights(new: BiLSTM, old: PackedBiLSTM) -> None:
    with torch.no_grad():
        for layer, (fwd, bwd) in enumerate(zip(new.forward_layers, new.backward_layers)):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(fwd, f"{name}_l0").copy_(getattr(old.lstm, f"{name}_l{layer}"))
                getattr(bwd, f"{name}_l0").copy_(getattr(old.lstm, f"{name}_l{layer}_reverse"))


def test_crf_lstm_is_the_core_bilstm_with_the_former_semantics():
    head = build_crf(hidden_size=6, labels=["LOC"], lstm_layers=2, lstm_hidden=5, dropout=0.3)
    lstm = head.lstm
    assert isinstance(lstm, BiLSTM) and lstm.output_size == 10 and head.proj.in_features == 10
    assert lstm.dropout.p == 0.3 and lstm.output_dropout.p == 0.0  # between layers only, none on the output
    old = PackedBiLSTM(6, 5, 2, 0.3)
    assert sum(p.numel() for p in lstm.parameters()) == sum(p.numel() for p in old.parameters())
    copy_packed_weights(lstm, old)
    x = torch.randn(3, 7, 6)
    mask = torch.arange(7)[None] < torch.tensor([7, 4, 1])[:, None]
    lstm.eval(), old.eval()
    with torch.no_grad():
        assert torch.allclose(lstm(x, mask), old(x, mask), atol=1e-6)
    # one layer: the same initial weights as the former module under the same seed
    torch.manual_seed(3)
    one = build_crf(hidden_size=6, labels=["LOC"], lstm_layers=1, lstm_hidden=5).lstm
    torch.manual_seed(3)
    nn.Dropout(0.1)  # built before the LSTM in the head; draws nothing
    former = PackedBiLSTM(6, 5, 1, 0.1)
    ref = BiLSTM(6, 5, 1)
    copy_packed_weights(ref, former)
    assert all(torch.equal(a, b) for a, b in zip(one.parameters(), ref.parameters()))
