"""SoftLexicon word-set features: matching, pooling, padding, pairs, state_dict round trip."""
from __future__ import annotations

import io

import jieba
import pytest
import torch

from zhnlp_classic import encoders as E
from zhnlp_classic.lexicon import MAX_WORD_LEN, word_sets

TEXTS = ["南京市长江大桥", "北京大学的学生在中华人民共和国工作", "好", "华为 Mate60 手机"]
TINY = dict(char_dim=8, bigram_dim=6, seg_dim=4, max_length=64, lexicon=True, lexicon_dim=5,
            lexicon_max_words=3, lstm_hidden=8, lstm_layers=1, dropout=0.0, lstm_dropout=0.0)


def lex_encoder(**over) -> E.ClassicEncoder:
    torch.manual_seed(0)
    enc = E.build_bilstm(**{**TINY, **over})
    enc.fit(TEXTS)
    return enc.eval()


def brute_force_sets(text: str, k: int) -> list[tuple[str, ...]]:
    jieba.dt.check_initialized()
    words = [(s, e) for s in range(len(text)) for e in range(s + 2, min(len(text), s + MAX_WORD_LEN) + 1)
             if jieba.dt.FREQ.get(text[s:e])]
    rows = []
    for i in range(len(text)):
        row = []
        for where in (lambda s, e: s == i, lambda s, e: s < i < e - 1, lambda s, e: e - 1 == i):
            # longest first; equal lengths: earlier start first
            hit = [text[s:e] for s, e in sorted((se for se in words if where(*se)),
                                                key=lambda se: (se[0] - se[1], se))][:k]
            row += hit + [""] * (k - len(hit))
        rows.append(tuple(row))
    return rows


@pytest.mark.parametrize("text", TEXTS)
def test_word_sets_match_brute_force(text):
    assert list(word_sets(text, 3)) == brute_force_sets(text, 3)


def test_word_sets_places_and_order():
    sets = word_sets("南京市长江大桥", 3)
    assert sets[0][:2] == ("南京市", "南京")  # B set of 南: longest first
    assert "长江大桥" in sets[4][3:6]  # 江 is inside 长江大桥 (M set)


def test_pooled_features_are_the_mean_of_each_set():
    enc = lex_encoder()
    batch = enc.tokenizer(["南京市长江大桥"], return_tensors="pt")
    ids = batch["lexicon_ids"]  # (1, T, 3 * K)
    assert ids.shape == (1, 7, 9)
    table = enc.features.emb["lexicon"].weight  # (V, 5)
    with torch.no_grad():
        feats = enc.features(**batch)  # (1, T, 8 + 6 + 4 + 15)
    lex = feats[0, :, -15:].view(7, 3, 5)
    for t in range(7):
        for g in range(3):
            slot = ids[0, t, 3 * g: 3 * g + 3]
            slot = slot[slot > 0]
            want = table[slot].mean(0) if len(slot) else torch.zeros(5)
            torch.testing.assert_close(lex[t, g], want)
    assert lex[4, 1].abs().sum() > 0 and lex[6, 0].abs().sum() == 0  # 江 inside; 桥 begins none


def test_padding_pairs_and_empty_texts():
    enc = lex_encoder()
    assert enc.hidden_size == 16
    batch = enc.tokenizer(TEXTS, ["北京"] * len(TEXTS), padding=True, return_tensors="pt")
    with torch.no_grad():
        out = enc(**batch)  # (B, T, H)
        for i, text in enumerate(TEXTS):
            one = enc.tokenizer(text, "北京", return_tensors="pt")
            n = one["input_ids"].shape[0]
            alone = enc(**{k: v.unsqueeze(0) for k, v in one.items()})
            torch.testing.assert_close(out[i, :n], alone[0], atol=1e-6, rtol=1e-5)
        sep = batch["input_ids"][0].tolist().index(3)  # [SEP]: an all-empty lexicon row
        assert batch["lexicon_ids"][0, sep].sum() == 0
        assert enc(**enc.tokenizer(["", "北京"], padding=True, return_tensors="pt")).shape == (2, 2, 16)
        assert enc(**enc.tokenizer(["", ""], padding=True, return_tensors="pt")).shape == (2, 0, 16)


def test_unseen_words_are_unk_and_state_dict_round_trip():
    enc = lex_encoder()
    vocab = enc.tokenizer.vocabs["lexicon_ids"].stoi
    assert "长江大桥" in vocab and "上海" not in vocab
    assert enc.tokenizer("上海")["lexicon_ids"][0][0] == 1  # [UNK], still marks a word start
    buf = io.BytesIO()
    torch.save(enc.state_dict(), buf)
    buf.seek(0)
    fresh = E.build_bilstm(**TINY)
    fresh.load_state_dict(torch.load(buf, weights_only=True))
    probe = TEXTS + ["上海市长"]
    assert fresh.tokenizer(probe) == enc.tokenizer(probe)
    batch = enc.tokenizer(probe, padding=True, return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(fresh.eval()(**batch), enc(**batch))


def test_lexicon_off_adds_no_key():
    enc = lex_encoder(lexicon=False)
    assert "lexicon_ids" not in enc.tokenizer("北京")
    assert enc.hidden_size == 16 and enc.features.output_size == 18
