"""Issue 18: no predicted entity spans a line break (``split_newlines``, on by default).

A tag path through a newline gives one entity per line (cut, both pieces keep the type); the span
head never decodes a span across a line break. Other symbols (emoji included) do not split.
"""
from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from zhnlp_ner.common import cut_at_line_breaks
from zhnlp_ner.heads import build_crf, build_global_pointer, build_softmax


def e(text, typ, start, end):
    return {"type": typ, "start": start, "end": end, "text": text[start:end]}


# ---- the cut itself -------------------------------------------------------------------------------
def test_cut_at_line_breaks():
    text = "去北京\n大学玩"
    assert cut_at_line_breaks([e(text, "ORG", 1, 6)], text) == [e(text, "ORG", 1, 3), e(text, "ORG", 4, 6)]
    text = "北京 \r\n  大学\u2028清华"  # \r\n, U+2028; whitespace next to a cut goes, the pieces stay typed
    assert cut_at_line_breaks([e(text, "ORG", 0, len(text))], text) == [
        e(text, "ORG", 0, 2), e(text, "ORG", 7, 9), e(text, "ORG", 10, 12)]
    text = "北京\n\n"
    # empty pieces dropped
    assert cut_at_line_breaks([e(text, "LOC", 0, 4), e(text, "LOC", 2, 3)], text) == [e(text, "LOC", 0, 2)]
    text = " 北京 大学 "  # no line break: untouched, spaces at the edges included
    ents = [e(text, "LOC", 0, 7), e(text, "LOC", 1, 3)]
    assert cut_at_line_breaks(ents, text) == ents
    text = "北京\n上海"  # a piece equal to another entity: once, sorted by (start, end, type)
    assert cut_at_line_breaks([e(text, "LOC", 3, 5), e(text, "LOC", 0, 5)], text) == [
        e(text, "LOC", 0, 2), e(text, "LOC", 3, 5)]


# ---- tagging heads --------------------------------------------------------------------------------
def tagged(head, helpers, text, encode, tag_of_char):
    """(hidden, batch) that make a tagging head emit ``tag_of_char(char index)`` on each real token."""
    enc = encode(text)
    ex = {"text": text, "_file": "m", "_line": 1}
    batch = helpers.make_batch([ex], [enc])
    ids = [head.tag_index[tag_of_char(s)] if e > s else 0 for s, e in enc["offset_mapping"]]
    k = len(head.tags)
    with torch.no_grad():
        head.proj.weight.zero_()
        head.proj.weight[:, :k] = torch.eye(k) * 10
        head.proj.bias.zero_()
        if hasattr(head, "crf"):
            for p in head.crf.parameters():
                p.zero_()
    return F.pad(F.one_hot(torch.tensor([ids]), k).float(), (0, head.proj.in_features - k)), batch


def through(text, first, last, typ="ORG"):
    """B-typ on char ``first``, I-typ up to ``last`` (a path through everything between), O elsewhere."""
    return lambda c: "O" if not first <= c <= last else (f"B-{typ}" if c == first else f"I-{typ}")


@pytest.mark.parametrize("builder", [build_crf, build_softmax])
@pytest.mark.parametrize("encoder", ["char", "fake_bert"])
def test_a_tag_path_through_a_newline_gives_one_entity_per_line(helpers, builder, encoder):
    text = "去北京\n大学玩"
    encode = helpers.char_encode if encoder == "char" else helpers.fake_bert_encode  # BERT: no token for \n
    for split, want in [(True, [e(text, "ORG", 1, 3), e(text, "ORG", 4, 6)]), (False, [e(text, "ORG", 1, 6)])]:
        head = builder(hidden_size=8, labels=["ORG"], split_newlines=split).eval()
        hidden, batch = tagged(head, helpers, text, encode, through(text, 1, 5))
        assert head.predict(hidden, batch) == [want], (split, encoder)
        assert head.decode_repairs == 0
        # the ONNX path decodes the same way
        tags = head.export_part(batch).module(hidden, batch["attention_mask"])
        assert head.predict_from_export(tags, batch) == [want]


def test_split_newlines_is_the_default_and_an_option_of_every_head():
    for builder in (build_crf, build_softmax, build_global_pointer):
        assert builder(hidden_size=4, labels=["X"]).split_newlines is True
        assert builder(hidden_size=4, labels=["X"], split_newlines=False).split_newlines is False


def test_symbols_and_emoji_do_not_split(helpers):
    """Only line breaks cut: ``·`` / ``&`` belong to real names and an emoji is a token the model
    tags itself (``[UNK]`` for BERT, its own id for the char encoders)."""
    head = build_crf(hidden_size=8, labels=["ORG"]).eval()
    for text in ["北京🎉大学", "迈克尔·乔丹", "AT&T公司"]:
        hidden, batch = tagged(head, helpers, text, helpers.char_encode, through(text, 0, len(text) - 1))
        assert head.predict(hidden, batch) == [[e(text, "ORG", 0, len(text))]], text


# ---- span head ------------------------------------------------------------------------------------
def test_global_pointer_never_decodes_a_span_across_a_line_break(helpers):
    text = "北京\n大学"
    for encode in (helpers.char_encode, helpers.fake_bert_encode):
        enc = encode(text)
        batch = helpers.make_batch([{"text": text, "_file": "m", "_line": 1}], [enc])
        token = {s: k for k, (s, end) in enumerate(enc["offset_mapping"]) if end > s}  # char -> token
        t = batch["input_ids"].size(1)
        scores = torch.full((1, 1, t, t), -5.0)
        scores[0, 0, token[0], token[4]] = 9.0  # 北京\n大学: the best span crosses the line break
        scores[0, 0, token[3], token[4]] = 2.0  # 大学
        if 2 in token:  # the char encoder's token for \n: a span ending on it is ruled out as well
            scores[0, 0, token[0], token[2]] = 8.0
        on = build_global_pointer(hidden_size=4, labels=["ORG"], head_size=4)
        assert on.decode(scores, batch) == [[e(text, "ORG", 3, 5)]]
        off = build_global_pointer(hidden_size=4, labels=["ORG"], head_size=4, split_newlines=False)
        assert e(text, "ORG", 0, 5) in off.decode(scores, batch)[0]
