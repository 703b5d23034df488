"""Tokenizers of the from-scratch encoders: exact offsets, pairs, batching, fit errors."""
from __future__ import annotations

import subprocess
import sys

import jieba
import pytest

from zhnlp.errors import ZhnlpError
from zhnlp.text import same_length
from zhnlp_classic.encoders import build_char, build_word
from zhnlp_classic.text import SEG_B, SEG_E, SEG_M, SEG_S, SEG_SPECIAL
from zhnlp_classic.vocab import SEP_ID, SPACE_ID, UNK_ID

MIXED = "华为 Mate60 手机于２０２３年8月发布😀"
TRAIN = [MIXED, "今天天气很好，我们去公园散步。", "Apple 公司 2023 年发布了 iPhone15\t新品", "北京欢迎你"]


@pytest.fixture(scope="module")
def char_enc():
    enc = build_char(char_dim=8, bigram_dim=6, seg_dim=4)
    enc.fit(TRAIN)
    return enc


@pytest.fixture(scope="module")
def word_enc():
    enc = build_word(word_dim=8, char_dim=4, lstm_hidden=4)
    enc.fit(TRAIN)
    return enc


def test_char_offsets_exact_on_mixed_text(char_enc):
    enc = char_enc.tokenizer(MIXED, return_offsets_mapping=True)
    n = len(MIXED)
    assert enc["offset_mapping"] == [(i, i + 1) for i in range(n)]  # one token per character
    for key in ("input_ids", "attention_mask", "token_type_ids", "bigram_ids", "seg_ids"):
        assert len(enc[key]) == n, key
    ids = enc["input_ids"]
    assert [i for i, c in enumerate(MIXED) if ids[i] == SPACE_ID] == [2, 9]
    assert UNK_ID not in ids  # every character was in the fit texts
    assert enc["attention_mask"] == [1] * n and enc["token_type_ids"] == [0] * n
    vocab = char_enc.tokenizer.get_vocab()
    assert ids[MIXED.index("😀")] == vocab["😀"]
    # full-width digits share the half-width ids; Latin is lower-cased
    assert ids[MIXED.index("２")] == vocab["2"] and ids[MIXED.index("M")] == vocab["m"]


def test_unknown_characters_and_whitespace_kinds(char_enc):
    text = "鑫\t森\u3000林\n龘 x"
    enc = char_enc.tokenizer(text, return_offsets_mapping=True)
    assert [text[s:e] for s, e in enc["offset_mapping"]] == list(text)
    spaces = [i for i, c in enumerate(text) if c.isspace()]
    assert [i for i, t in enumerate(enc["input_ids"]) if t == SPACE_ID] == spaces
    assert enc["input_ids"][0] == UNK_ID and enc["input_ids"][text.index("龘")] == UNK_ID


def test_same_length_keeps_length_on_tricky_characters():
    text = "ﬁ½㎏İ\u3000\xa0Ａｂ😀👍🏽e\u0301"
    out = same_length(text)
    assert len(out) == len(text)
    assert out[4] == " " and out[5] == " " and out[6:8] == "ab"


def test_bigram_and_seg_ids_match_brute_force(char_enc):
    tok = char_enc.tokenizer
    enc = tok(MIXED)
    norm = same_length(MIXED)
    bigram_vocab = tok.vocabs["bigram_ids"].stoi
    padded = norm + "\x03"
    assert enc["bigram_ids"] == [bigram_vocab[padded[i : i + 2]] for i in range(len(norm))]
    expected = []
    for w in jieba.lcut(norm):
        expected += [SEG_S] if len(w) == 1 else [SEG_B] + [SEG_M] * (len(w) - 2) + [SEG_E]
    assert enc["seg_ids"] == expected


def test_word_offsets_are_jieba_words(word_enc):
    enc = word_enc.tokenizer(MIXED, return_offsets_mapping=True)
    spans = enc["offset_mapping"]
    assert spans[0][0] == 0 and spans[-1][1] == len(MIXED)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # contiguous, no gaps
    words = [MIXED[s:e] for s, e in spans]
    assert words == jieba.lcut(same_length(MIXED)) or "".join(words) == MIXED
    assert "华为" in words and "Mate60" in words
    for key in ("input_ids", "head_char_ids", "tail_char_ids", "attention_mask"):
        assert len(enc[key]) == len(spans)
    assert enc["input_ids"][words.index(" ")] == SPACE_ID


def test_pair_input(char_enc):
    a, b = "北京欢迎你", "华为 手机"
    enc = char_enc.tokenizer(a, b, return_offsets_mapping=True)
    n = len(a) + 1 + len(b)
    for key in ("input_ids", "bigram_ids", "seg_ids", "attention_mask", "token_type_ids"):
        assert len(enc[key]) == n
    assert enc["token_type_ids"] == [0] * (len(a) + 1) + [1] * len(b)
    assert enc["input_ids"][len(a)] == SEP_ID and enc["seg_ids"][len(a)] == SEG_SPECIAL
    off = enc["offset_mapping"]
    assert off[len(a)] == (0, 0)
    assert [a[s:e] for s, e in off[: len(a)]] == list(a)
    assert [b[s:e] for s, e in off[len(a) + 1 :]] == list(b)  # relative to text_pair
    single_a, single_b = char_enc.tokenizer(a), char_enc.tokenizer(b)
    assert enc["input_ids"] == single_a["input_ids"] + [SEP_ID] + single_b["input_ids"]
    plain = char_enc.tokenizer(a, b, add_special_tokens=False)
    assert plain["input_ids"] == single_a["input_ids"] + single_b["input_ids"]


def test_word_pair_input(word_enc):
    enc = word_enc.tokenizer("北京欢迎你", "华为手机", return_offsets_mapping=True)
    sep = enc["input_ids"].index(SEP_ID)
    assert enc["offset_mapping"][sep] == (0, 0)
    assert enc["token_type_ids"] == [0] * (sep + 1) + [1] * (len(enc["input_ids"]) - sep - 1)


def test_truncation_longest_first(char_enc):
    tok = char_enc.tokenizer
    enc = tok(MIXED, truncation=True, max_length=5, return_offsets_mapping=True)
    assert enc["offset_mapping"] == [(i, i + 1) for i in range(5)]
    assert len(enc["seg_ids"]) == 5
    pair = tok("一二三四五六七八", "甲乙", truncation=True, max_length=7)
    assert len(pair["input_ids"]) == 7 and pair["token_type_ids"] == [0] * 5 + [1] * 2
    assert len(tok("一" * 600, truncation=True)["input_ids"]) == char_enc.max_length
    assert len(tok("一" * 600)["input_ids"]) == 600  # truncation off by default


@pytest.mark.parametrize("which", ["char", "word"])
def test_batched_equals_single(which, char_enc, word_enc):
    tok = (char_enc if which == "char" else word_enc).tokenizer
    texts = [MIXED, "北京欢迎你", "", " a "]
    pairs = ["好", "华为 Mate60", "空", ""]
    batch = tok(texts, return_offsets_mapping=True)
    singles = [tok(t, return_offsets_mapping=True) for t in texts]
    assert batch == {k: [s[k] for s in singles] for k in singles[0]}
    pbatch = tok(texts, pairs, return_offsets_mapping=True)
    psingles = [tok(t, p, return_offsets_mapping=True) for t, p in zip(texts, pairs)]
    assert pbatch == {k: [s[k] for s in psingles] for k in psingles[0]}


def test_padding_and_tensors(char_enc):
    out = char_enc.tokenizer(["北京", "华为 Mate60"], padding=True, return_tensors="pt",
                             return_offsets_mapping=True)
    assert out["input_ids"].shape == (2, 9) and out["offset_mapping"].shape == (2, 9, 2)
    assert out["attention_mask"][0].tolist() == [1, 1] + [0] * 7
    assert out["input_ids"][0, 2:].eq(0).all() and out["seg_ids"][0, 2:].eq(0).all()


def test_unfitted_tokenizer_raises_clear_error():
    for enc in (build_char(char_dim=4, bigram_dim=4, seg_dim=4), build_word(word_dim=4, char_dim=4)):
        with pytest.raises(ZhnlpError, match="fit"):
            enc.tokenizer("你好")
        with pytest.raises(ZhnlpError, match="fit"):
            enc.fit([])


def test_min_freq_and_max_vocab():
    enc = build_char(char_dim=4, bigram_dim=4, seg_dim=4, min_freq=2, max_bigram_vocab=6)
    enc.fit(["甲甲乙", "甲丙"])
    tok = enc.tokenizer
    assert tok.convert_ids_to_tokens(tok("甲乙丙")["input_ids"]) == ["甲", "[UNK]", "[UNK]"]
    assert len(tok.vocabs["bigram_ids"]) == 6


def test_jieba_is_silent_on_first_use():
    code = "from zhnlp_classic.text import cut; print(len(cut('今天天气很好')))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and proc.stdout.strip().isdigit()


def test_batch_with_some_pairs_missing(char_enc):
    """The core passes one text_pair list where rows without a second text hold None."""
    tok = char_enc.tokenizer
    out = tok(["北京", "华为"], [None, "手机"], return_offsets_mapping=True)
    assert out["input_ids"][0] == tok("北京")["input_ids"]
    assert out["input_ids"][1] == tok("华为", "手机")["input_ids"]
