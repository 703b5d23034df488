"""From-scratch encoders: shapes, padding invariance, state_dict round trips, configs."""
from __future__ import annotations

import inspect
import io
from pathlib import Path

import pytest
import torch
import yaml

from zhnlp import registry
from zhnlp.builders import is_meta_key
from zhnlp.errors import ZhnlpError
from zhnlp.layers import BiLSTM
from zhnlp.types import EncoderSpec, missing
from zhnlp_classic import encoders as E

TEXTS = ["华为 Mate60 手机于２０２３年8月发布😀", "北京欢迎你", "今天天气很好，我们去公园散步。", "好"]
SPECS = {"char": E.char, "bilstm": E.bilstm, "textcnn": E.textcnn, "word": E.word}
BUILDERS = {name: spec.build for name, spec in SPECS.items()}
CONF = Path(E.__file__).parent / "conf" / "encoder"


def fresh(name: str, **over) -> E.ClassicEncoder:
    """The tiny recipe of ``name`` (unfitted)."""
    return SPECS[name].build(**{**SPECS[name].example_kwargs(None), **over})


def tiny(name: str, **over) -> E.ClassicEncoder:
    torch.manual_seed(0)
    enc = fresh(name, **over)
    enc.fit(TEXTS)
    return enc.eval()


def batch_of(enc, texts, pairs=None):
    return enc.tokenizer(texts, pairs, padding=True, return_tensors="pt")


@pytest.mark.parametrize("name", BUILDERS)
def test_forward_shapes_and_padding_invariance(name):
    enc = tiny(name)
    batch = batch_of(enc, TEXTS)
    B, T = batch["input_ids"].shape
    with torch.no_grad():
        out = enc(**batch)  # (B, T, H)
        assert out.shape == (B, T, enc.hidden_size)
        mask = batch["attention_mask"].bool()
        assert out[~mask].abs().max() == 0  # padding positions are zero
        for i, text in enumerate(TEXTS):  # each row alone, unpadded: same real-position outputs
            one = {k: v.unsqueeze(0) for k, v in enc.tokenizer(text, return_tensors="pt").items()}
            alone = enc(**one)  # (1, n, H)
            n = int(mask[i].sum())
            assert alone.shape[1] == n
            torch.testing.assert_close(out[i, :n], alone[0], atol=1e-6, rtol=1e-5)


def test_bilstm_is_the_core_bilstm_with_dropout_between_layers_and_on_the_output():
    enc = tiny("bilstm", lstm_layers=2, lstm_dropout=0.25)
    assert isinstance(enc.context, BiLSTM) and enc.context.output_size == 16
    assert enc.context.dropout.p == enc.context.output_dropout.p == 0.25


def test_bilstm_equals_a_packed_bidirectional_lstm_on_its_weights():
    enc = tiny("bilstm", lstm_layers=1)
    ctx = enc.context
    ref = torch.nn.LSTM(ctx.forward_layers[0].input_size, 8, batch_first=True, bidirectional=True)
    with torch.no_grad():
        for name, value in ctx.forward_layers[0].named_parameters():
            getattr(ref, name).copy_(value)
        for name, value in ctx.backward_layers[0].named_parameters():
            getattr(ref, name + "_reverse").copy_(value)
    batch = batch_of(enc, TEXTS)
    lengths = batch["attention_mask"].sum(1)
    with torch.no_grad():
        feats = enc.features(**batch)  # (B, T, D)
        packed = torch.nn.utils.rnn.pack_padded_sequence(feats, lengths, batch_first=True, enforce_sorted=False)
        want, _ = torch.nn.utils.rnn.pad_packed_sequence(ref(packed)[0], batch_first=True,
                                                         total_length=feats.shape[1])  # (B, T, 16)
        torch.testing.assert_close(enc(**batch), want, atol=1e-6, rtol=1e-5)


def test_hidden_sizes():
    assert E.build_char(char_dim=5, bigram_dim=3, seg_dim=2).hidden_size == 10
    assert E.build_char(char_dim=5, bigram=False, word_boundary=False).hidden_size == 5
    assert E.build_char(char_dim=5, project_dim=7).hidden_size == 7
    assert E.build_bilstm(lstm_hidden=6).hidden_size == 12
    assert E.build_textcnn(kernel_sizes=[2, 3, 5], filters=4).hidden_size == 12
    assert E.build_word(word_dim=8, char_dim=2, lstm_layers=0).hidden_size == 12
    assert E.build_word(lstm_hidden=9).hidden_size == 18


@pytest.mark.parametrize("name", BUILDERS)
def test_state_dict_round_trip_restores_vocab_and_weights(name):
    enc = tiny(name)
    buf = io.BytesIO()
    torch.save(enc.state_dict(), buf)
    buf.seek(0)
    sd = torch.load(buf, weights_only=True)
    rebuilt = fresh(name)  # unfitted: no vocabulary, no embedding tables
    with pytest.raises(ZhnlpError, match="fit"):
        rebuilt.tokenizer("你好")
    result = rebuilt.load_state_dict(sd)  # strict
    assert not result.missing_keys and not result.unexpected_keys
    rebuilt.eval()
    probe = TEXTS + ["没见过的字龘"]
    assert rebuilt.tokenizer(probe, return_offsets_mapping=True) == enc.tokenizer(
        probe, return_offsets_mapping=True)
    batch = batch_of(enc, probe, ["好"] * len(probe))
    with torch.no_grad():
        assert torch.equal(rebuilt(**batch), enc(**batch))
    assert [n for n, _ in rebuilt.named_parameters()] == [n for n, _ in enc.named_parameters()]


def test_state_dict_round_trip_through_safetensors(tmp_path):
    from safetensors.torch import load_file, save_file

    enc = tiny("bilstm")
    save_file(enc.state_dict(), str(tmp_path / "model.safetensors"))
    rebuilt = fresh("bilstm")
    rebuilt.load_state_dict(load_file(str(tmp_path / "model.safetensors")))
    batch = batch_of(enc, TEXTS)
    with torch.no_grad():
        assert torch.equal(rebuilt.eval()(**batch), enc(**batch))


def test_forward_before_fit_raises():
    enc = E.build_char(char_dim=4, bigram_dim=4, seg_dim=4)
    ids = torch.ones(1, 3, dtype=torch.long)
    with pytest.raises(ZhnlpError, match="fit"):
        enc(ids, torch.ones_like(ids), bigram_ids=ids, seg_ids=ids)


def test_missing_feature_key_is_a_clear_error():
    enc = tiny("char")
    batch = batch_of(enc, TEXTS)
    batch.pop("bigram_ids")
    with pytest.raises(ZhnlpError, match="bigram_ids"):
        enc(**batch)


def test_token_types_change_the_second_segment_only():
    enc = tiny("char")
    with torch.no_grad():
        enc.features.type_emb.weight[1].fill_(1.0)
    batch = batch_of(enc, ["北京"], ["好"])
    with torch.no_grad():
        with_types = enc(**batch)
        batch["token_type_ids"].zero_()
        without = enc(**batch)
    assert torch.equal(with_types[0, :3], without[0, :3])
    assert not torch.equal(with_types[0, 3], without[0, 3])


@pytest.mark.parametrize("name", BUILDERS)
def test_layer_groups_cover_every_parameter_once_embeddings_first(name):
    enc = tiny(name, lstm_layers=2) if name in ("bilstm", "word") else tiny(name)
    groups = enc.layer_groups()
    ids = [id(p) for g in groups for p in g]
    assert sorted(ids) == sorted(id(p) for p in enc.parameters()) and len(ids) == len(set(ids))
    first = {id(p) for p in groups[0]}
    assert all(id(m.weight) in first for m in enc.features.emb.values())
    if name in ("bilstm", "word"):
        assert len(groups) == 3  # embeddings, LSTM layer 1, LSTM layer 2


def test_fit_on_pairs_and_refit():
    enc = fresh("char")
    enc.fit([("北京", "欢迎"), "你"])
    assert set(enc.tokenizer.get_vocab()) >= {"北", "京", "欢", "迎", "你"}
    enc.fit(["甲乙"])  # refit replaces vocabulary and tables
    assert enc.features.emb["char"].num_embeddings == len(enc.tokenizer.get_vocab())


def test_unk_dropout_only_in_training():
    enc = tiny("char", unk_dropout=1.0, bigram_unk_dropout=1.0, dropout=0.0)
    batch = batch_of(enc, TEXTS)
    with torch.no_grad():
        evald = enc.eval()(**batch)
        trained = enc.train()(**batch)
    assert not torch.equal(evald, trained)
    unk_row = enc.features.emb["char"].weight[1]
    droppable = batch["input_ids"] >= 4  # real characters; [PAD]/[UNK]/[SPACE]/[SEP] stay
    assert torch.equal(trained[..., :8][droppable], unk_row.expand(int(droppable.sum()), -1))


def test_pretrained_char_vectors(tmp_path):
    path = tmp_path / "vec.txt"
    path.write_text("2 8\n北 " + " ".join(["0.5"] * 8) + "\n龘 " + " ".join(["9"] * 8) + "\n",
                    encoding="utf-8")
    enc = tiny("char", pretrained_embeddings=str(path))
    vid = enc.tokenizer.get_vocab()["北"]
    assert torch.equal(enc.features.emb["char"].weight[vid], torch.full((8,), 0.5))


def _vec_file(path, rows: dict[str, float], dim: int, header: bool = True):
    lines = [f"{len(rows)} {dim}"] if header else []
    lines += [f"{token} " + " ".join([str(value)] * dim) for token, value in rows.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_pretrained_vectors_per_table_with_vocabulary_extension(tmp_path):
    # bigram "北京" is in the fit texts, the others are not; "京 " and " 2" have a space in them
    bigrams = _vec_file(tmp_path / "bi.vec", {"北京": 0.25, "上海": 0.5, "京 ": 0.75, " 2": 0.8, "深圳": 1.0}, dim=6)
    chars = _vec_file(tmp_path / "ch.vec", {"北": 0.125, "沪": 2.0}, dim=8, header=False)
    enc = tiny("bilstm", pretrained_embeddings={"char": chars, "bigram": bigrams}, pretrained_extend=3)
    vocab, table = enc.tokenizer.vocabs["bigram_ids"], enc.features.emb["bigram"].weight
    assert torch.equal(table[vocab.stoi["北京"]], torch.full((6,), 0.25))
    # the three first file tokens the texts lack join the vocabulary with their vectors; the cap stops "深圳"
    assert torch.equal(table[vocab.stoi["上海"]], torch.full((6,), 0.5))
    assert torch.equal(table[vocab.stoi["京 "]], torch.full((6,), 0.75))
    assert torch.equal(table[vocab.stoi[" 2"]], torch.full((6,), 0.8))
    assert "深圳" not in vocab.stoi
    chars_vocab = enc.tokenizer.vocabs["input_ids"]
    assert torch.equal(enc.features.emb["char"].weight[chars_vocab.stoi["沪"]], torch.full((8,), 2.0))
    # a text unseen in fit now gets the extended bigram's id, not [UNK]
    ids = enc.tokenizer(["上海"])["bigram_ids"][0]
    assert ids[0] == vocab.stoi["上海"]
    # the extended vocabulary travels in the state_dict
    twin = fresh("bilstm")
    twin.load_state_dict(enc.state_dict())
    assert twin.tokenizer.vocabs["bigram_ids"].itos == vocab.itos


def test_pretrained_vectors_without_extension_keep_the_text_vocabulary(tmp_path):
    bigrams = _vec_file(tmp_path / "bi.vec", {"北京": 0.25, "上海": 0.5}, dim=6)
    enc = tiny("char", pretrained_embeddings={"bigram": bigrams})
    assert "上海" not in enc.tokenizer.vocabs["bigram_ids"].stoi
    vid = enc.tokenizer.vocabs["bigram_ids"].stoi["北京"]
    assert torch.equal(enc.features.emb["bigram"].weight[vid], torch.full((6,), 0.25))


def test_pretrained_vector_errors_name_the_table_file_and_line(tmp_path):
    from zhnlp.errors import ConfigError

    with pytest.raises(ConfigError, match="names word, but this encoder's vocabulary tables are char, bigram"):
        tiny("char", pretrained_embeddings={"word": str(tmp_path / "w.vec")})
    wide = _vec_file(tmp_path / "wide.vec", {"北京": 0.5}, dim=7, header=False)
    with pytest.raises(ConfigError, match=r"wide.vec:1: expected a token and 6 values \(the 'bigram' table's dim\), found 7"):
        tiny("char", pretrained_embeddings={"bigram": wide})
    header = _vec_file(tmp_path / "h.vec", {"北京": 0.5}, dim=5)
    with pytest.raises(ConfigError, match="h.vec:1: the file's vectors are 5 wide but the 'bigram' table is 6 wide"):
        tiny("char", pretrained_embeddings={"bigram": header})
    with pytest.raises(ConfigError, match="pretrained_extend=-1"):
        tiny("char", pretrained_embeddings={"bigram": header}, pretrained_extend=-1)
    with pytest.raises(ConfigError, match="is not a file; give a word2vec text file for the 'bigram' table"):
        tiny("char", pretrained_embeddings={"bigram": str(tmp_path / "missing.vec")})
    bad = tmp_path / "bad.vec"
    bad.write_text("北京 0.1 0.2 0.3 0.4 0.5 x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.vec: a vector value is not a number"):
        tiny("char", pretrained_embeddings={"bigram": str(bad)})


def test_charword_takes_word_vectors(tmp_path):
    words = _vec_file(tmp_path / "w.vec", {"北京": 0.5, "欢迎": 1.5}, dim=6)
    from zhnlp_classic.charword import charword

    enc = charword.build(**charword.example_kwargs(None), pretrained_embeddings={"word": words})
    enc.fit(TEXTS)
    vocab = enc.tokenizer.vocabs["word_ids"]
    assert torch.equal(enc.features.emb["word"].weight[vocab.stoi["北京"]], torch.full((6,), 0.5))


@pytest.mark.parametrize("name", BUILDERS)
def test_config_is_complete_and_instantiates(name):
    cfg = yaml.safe_load((CONF / f"{name}.yaml").read_text(encoding="utf-8"))
    assert cfg["name"] == name and "_target_" not in cfg and "branches" not in cfg
    params = set(inspect.signature(BUILDERS[name]).parameters)
    assert {k for k in cfg if k != "name" and not is_meta_key(k)} == params  # complete builder kwargs
    enc = registry.build_encoder(cfg)
    assert isinstance(enc, E.ClassicEncoder) and enc.max_length == cfg["max_length"]


@pytest.mark.parametrize("name", BUILDERS)
def test_registered_spec_and_contract(name):
    spec = registry.get("encoders", name)
    assert isinstance(spec, EncoderSpec) and spec is SPECS[name] and spec.description
    assert not hasattr(spec.build, "example_kwargs")  # recipes live on the spec now
    enc = tiny(name)
    assert missing(enc, "encoder") == [] and enc.num_special_tokens == 0 and enc.max_length == 64
    row = enc.tokenizer("北京欢迎你", return_offsets_mapping=True)
    assert len(row["input_ids"]) == len(cut_or_chars(name, "北京欢迎你"))  # nothing added around one text


def cut_or_chars(name: str, text: str) -> list[str]:
    from zhnlp.text import same_length
    from zhnlp_classic.text import cut

    return list(cut(same_length(text))) if name == "word" else list(text)


@pytest.mark.parametrize("name", BUILDERS)
def test_input_embeddings_are_the_vocabulary_tables(name):
    enc = tiny(name)
    by_id = {id(m.weight): n for n, m in enc.features.emb.items()}
    got = [by_id[id(t)] for t in enc.input_embeddings()]
    assert got == (["word", "char"] if name == "word" else ["char", "bigram"])  # not the BMES table "seg"


@pytest.mark.parametrize("name", ["char", "bilstm", "textcnn"])
def test_two_builds_from_one_config_tokenize_alike_with_their_own_weights(name):
    """What ``members: K`` relies on: K encoders fitted on the same texts share the tokenization."""
    a, b = tiny(name), fresh(name)
    b.fit(TEXTS)
    probe = TEXTS + ["没见过的字龘"]
    assert a.tokenizer(probe, return_offsets_mapping=True) == b.tokenizer(probe, return_offsets_mapping=True)
    assert not torch.equal(a.features.emb["char"].weight, b.features.emb["char"].weight)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_textcnn_matches_torch_same_padding():
    from zhnlp_classic.context import TextCNN

    torch.manual_seed(0)
    cnn = TextCNN(5, kernel_sizes=[1, 2, 3, 4], filters=3, dropout=0.0)
    x = torch.randn(2, 7, 5)  # (B, T, D)
    mask = torch.ones(2, 7, dtype=torch.long)
    expected = torch.cat([torch.relu(torch.nn.functional.conv1d(
        x.transpose(1, 2), c.weight, c.bias, padding="same")) for c in cnn.convs], 1)
    torch.testing.assert_close(cnn(x, mask), expected.transpose(1, 2))


def test_reloading_a_fitted_encoder_keeps_parameter_objects():
    """Resuming a run: the optimizer was built on the fitted tables; load_state_dict must fill
    them in place rather than swap in new Parameter objects."""
    enc = tiny("bilstm")
    before = [id(p) for p in enc.parameters()]
    other = tiny("bilstm")
    with torch.no_grad():
        for p in other.parameters():
            p.add_(1.0)
    enc.load_state_dict(other.state_dict())
    assert [id(p) for p in enc.parameters()] == before
    assert all(torch.equal(a, b) for a, b in zip(enc.parameters(), other.parameters()))


def test_tokenizer_and_encoder_pickle():
    import copy
    import pickle

    enc = tiny("char")
    tok = pickle.loads(pickle.dumps(enc.tokenizer))
    assert tok(TEXTS) == enc.tokenizer(TEXTS)
    clone = copy.deepcopy(enc)
    batch = batch_of(enc, TEXTS)
    with torch.no_grad():
        assert torch.equal(clone(**batch), enc(**batch))


@pytest.mark.parametrize("name", BUILDERS)
def test_empty_texts(name):
    enc = tiny(name)
    with torch.no_grad():
        assert enc(**batch_of(enc, ["", ""])).shape == (2, 0, enc.hidden_size)
        out = enc(**batch_of(enc, ["", "北京"]))  # an empty row beside a real one
    assert out.shape[0] == 2 and out[0].abs().max() == 0
