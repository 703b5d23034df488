"""Truncation strategies keep the right tokens (special tokens always kept)."""
from __future__ import annotations

import pytest

from zhnlp.data.features import make_features
from zhnlp_classify.heads import build_classification
from zhnlp_classify.truncation import allocate, keep_positions, truncate_encoding


def encoding(offsets):
    n = len(offsets)
    return {"input_ids": list(range(100, 100 + n)), "attention_mask": [1] * n, "token_type_ids": [0] * n,
            "offset_mapping": offsets}


def chars(n, start=0):
    return [(i, i + 1) for i in range(start, start + n)]


BERT_10 = [(0, 0)] + chars(10) + [(0, 0)]  # [CLS] c0..c9 [SEP]


@pytest.mark.parametrize("strategy, kept_chars", [
    ("head", [0, 1, 2, 3, 4, 5]),
    ("tail", [4, 5, 6, 7, 8, 9]),
    ("head+tail", [0, 1, 6, 7, 8, 9]),  # round(6 * 0.25) = 2 from the start, 4 from the end
])
def test_single_text_strategies_keep_cls_and_sep(strategy, kept_chars):
    out = truncate_encoding(encoding(BERT_10), 8, strategy, 0.25)
    assert out["offset_mapping"] == [(0, 0)] + [(c, c + 1) for c in kept_chars] + [(0, 0)]
    assert out["input_ids"] == [100] + [101 + c for c in kept_chars] + [111]
    assert len(out["attention_mask"]) == len(out["token_type_ids"]) == 8


def test_from_scratch_encoding_without_specials():
    out = truncate_encoding(encoding(chars(10)), 4, "tail")
    assert out["offset_mapping"] == chars(4, 6)
    assert truncate_encoding(encoding(chars(10)), 4, "head+tail", 0.5)["offset_mapping"] == chars(2) + chars(2, 8)


def test_short_encodings_are_untouched():
    enc = encoding(BERT_10)
    assert truncate_encoding(enc, 12, "tail") == enc


def test_pairs_are_cut_longest_first_and_every_sep_kept():
    # [CLS] a0..a7 [SEP] b0..b2 [SEP]: 14 tokens -> 10 leaves 7 ordinary tokens: a gets 4, b keeps 3
    offsets = [(0, 0)] + chars(8) + [(0, 0)] + chars(3) + [(0, 0)]
    keep = keep_positions(offsets, 10, "tail")
    assert keep == [0, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    assert allocate([8, 3], 7) == [4, 3]
    assert allocate([5, 5], 7) == [4, 3]
    assert allocate([2, 9, 9], 10) == [2, 4, 4]


def test_head_truncate_method_and_the_core_calling_it():
    head = build_classification(4, ["a", "b"], truncation="tail")
    assert head.truncate(encoding(BERT_10), 5)["offset_mapping"] == [(0, 0), (7, 8), (8, 9), (9, 10), (0, 0)]

    def tokenizer(texts, pairs=None, **kwargs):  # BERT-like, one token per char
        rows = [[(0, 0)] + chars(len(t)) + [(0, 0)] for t in texts]
        return {"input_ids": [[1] * len(r) for r in rows], "attention_mask": [[1] * len(r) for r in rows],
                "offset_mapping": rows}

    with pytest.warns(UserWarning, match="truncated"):
        feats = make_features([{"text": "0123456789", "label": "a"}], tokenizer, head, 6, 2)
    assert feats[0]["offsets"] == [(0, 0), (6, 7), (7, 8), (8, 9), (9, 10), (0, 0)]


def test_real_bert_tokenizer_pair(shared, tmp_path):
    from transformers import BertTokenizer

    (tmp_path / "vocab.txt").write_bytes(shared("vocab", "bert-base-chinese-vocab.txt").read_bytes())
    tok = BertTokenizer.from_pretrained(str(tmp_path), local_files_only=True)
    text, text_b = "今天天气很好我们去公园散步吧", "明天下雨"
    enc = tok(text, text_b, return_offsets_mapping=True)
    enc = {k: list(v) for k, v in enc.items()}
    out = truncate_encoding(enc, 12, "head+tail", 0.5)
    tokens = tok.convert_ids_to_tokens(out["input_ids"])
    # 21 tokens -> 12: budget 9 after the 3 specials; text_b keeps its 4, the text 5 = 2 head + 3 tail
    assert tokens == ["[CLS]", "今", "天", "散", "步", "吧", "[SEP]", "明", "天", "下", "雨", "[SEP]"]
    assert out["token_type_ids"] == [0] * 7 + [1] * 5
    assert [text[s:e] for s, e in out["offset_mapping"][1:6]] == ["今", "天", "散", "步", "吧"]
