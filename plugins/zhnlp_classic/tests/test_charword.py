"""The charword encoder: per-character word ids, shapes / padding, pairs, state_dict round trip,
config file consistency."""
from __future__ import annotations

import inspect
import io
from pathlib import Path

import pytest
import torch
import yaml

from zhnlp import registry
from zhnlp.builders import is_meta_key
from zhnlp.errors import ConfigError
from zhnlp.text import same_length
from zhnlp_classic import charword as C
from zhnlp_classic.text import cut
from zhnlp_classic.vocab import SEP_ID, UNK_ID

TEXTS = ["北京大学在北京", "我爱北京天安门", "华为 Mate60 手机发布😀", "好"]


def tiny(**over) -> C.ClassicEncoder:
    torch.manual_seed(0)
    enc = C.build_charword(**{**C.charword.example_kwargs(None), **over})
    enc.fit(TEXTS)
    return enc.eval()


def test_every_char_gets_the_id_of_its_jieba_word():
    enc = tiny()
    vocab = enc.tokenizer.vocabs["word_ids"].stoi
    for text in TEXTS:
        row = enc.tokenizer(text)
        assert len(row["word_ids"]) == len(row["input_ids"]) == len(text)
        expected = [vocab.get(w, UNK_ID) for w in cut(same_length(text)) for _ in w if w != " "]
        assert [i for i, ch in zip(row["word_ids"], text) if not ch.isspace()] == expected
    row = enc.tokenizer("北京大学")
    assert len(set(row["word_ids"])) == 1 and row["word_ids"][0] != UNK_ID  # one word, four chars


def test_rare_words_are_unk_and_pairs_get_a_sep_word_id():
    enc = tiny(word_min_freq=2)
    vocab = enc.tokenizer.vocabs["word_ids"].stoi
    assert "北京" in vocab and "天安门" not in vocab  # 北京 occurs twice, 天安门 once
    pair = enc.tokenizer("北京", "天安门")
    assert pair["word_ids"] == [vocab["北京"]] * 2 + [SEP_ID] + [UNK_ID] * 3
    assert pair["token_type_ids"] == [0, 0, 0, 1, 1, 1]


@pytest.mark.parametrize("context", ["cnn", "bilstm", "none"])
def test_shapes_padding_and_word_embedding_used(context):
    enc = tiny(context=context, lstm_hidden=5)
    batch = enc.tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = enc(**batch)  # (B, T, H)
        assert out.shape == (*batch["input_ids"].shape, enc.hidden_size)
        mask = batch["attention_mask"].bool()
        assert out[~mask].abs().max() == 0
        one = {k: v[:1, : int(mask[0].sum())] for k, v in batch.items()}
        torch.testing.assert_close(out[0, : int(mask[0].sum())], enc(**one)[0], atol=1e-6, rtol=1e-5)
        changed = enc(**{**batch, "word_ids": torch.where(mask, UNK_ID, 0)})  # word view matters
        assert not torch.allclose(changed, out)
    expected = {"cnn": 8 * 2, "bilstm": 10, "none": 8 + 6 + 4 + 6}[context]
    assert enc.hidden_size == expected


def test_state_dict_round_trip_restores_word_vocab():
    enc = tiny()
    buf = io.BytesIO()
    torch.save(enc.state_dict(), buf)
    fresh = C.build_charword(**C.charword.example_kwargs(None)).eval()
    fresh.load_state_dict(torch.load(io.BytesIO(buf.getvalue()), weights_only=True))
    batch = enc.tokenizer(TEXTS, padding=True, return_tensors="pt")
    assert torch.equal(fresh.tokenizer(TEXTS, padding=True, return_tensors="pt")["word_ids"], batch["word_ids"])
    with torch.no_grad():
        torch.testing.assert_close(fresh(**batch), enc(**batch))


def test_bad_options():
    with pytest.raises(ConfigError, match="encoder.context='rnn': use one of none, cnn, bilstm"):
        C.build_charword(context="rnn")
    with pytest.raises(ConfigError, match="encoder.context"):
        C.build_charword(context=["cnn", "bilstm"])  # one context; per-branch lists are gone
    with pytest.raises(ConfigError, match="word_dim"):
        C.build_charword(word_dim=0)


def test_config_file_matches_builder():
    conf = yaml.safe_load((Path(C.__file__).parent / "conf" / "encoder" / "charword.yaml").read_text())
    assert conf["name"] == "charword" and "_target_" not in conf and "branches" not in conf
    params = inspect.signature(C.build_charword).parameters
    keys = {k for k in conf if k != "name" and not is_meta_key(k)}
    assert keys == set(params)
    assert all(conf[k] == params[k].default or k in ("kernel_sizes",) for k in keys)
    assert registry.get("encoders", "charword") is C.charword
    enc = registry.build_encoder({**conf, "filters": 4, "char_dim": 4, "bigram_dim": 4, "word_dim": 4, "seg_dim": 4})
    assert enc.hidden_size == 12 and enc.num_special_tokens == 0


def test_concat_embeddings_appends_the_embeddings_to_the_context_output():
    enc = tiny(concat_embeddings=True)
    assert enc.hidden_size == 8 * 2 + (8 + 6 + 4 + 6)
    batch = enc.tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = enc(**batch)  # (B, T, 16 + 24)
        torch.testing.assert_close(out[..., 16:], enc.features(**batch))
        torch.testing.assert_close(out[..., :16], enc.context.context(enc.features(**batch), batch["attention_mask"]))
    assert tiny(concat_embeddings=True, context="none").hidden_size == 24  # nothing to concatenate to


def test_trigram_ids_name_each_char_and_the_next_two():
    enc = tiny(trigram=True, trigram_dim=5, trigram_min_freq=1)
    vocab = enc.tokenizer.vocabs["trigram_ids"].stoi
    row = enc.tokenizer("北京大学")
    assert row["trigram_ids"][:2] == [vocab["北京大"], vocab["京大学"]]
    assert enc.tokenizer("好")["trigram_ids"] == [vocab["好\x03\x03"]]  # padded with the end marker
    assert enc.hidden_size == 8 * 2 and enc.features.output_size == 8 + 6 + 4 + 6 + 5
    assert "trigram_ids" not in tiny().tokenizer("北京")  # off by default
    unseen = enc.tokenizer("完全陌生")["trigram_ids"]
    assert set(unseen) == {UNK_ID}
