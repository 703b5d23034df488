"""``zhnlp vectors``: its corpus (training splits only), its token keys, a real word2vec run whose
vectors reach an encoder's tables, and its errors."""
from __future__ import annotations

import json
import sys

import pytest
import torch

from zhnlp.cli import main as cli_main
from zhnlp.errors import ConfigError, DataError
from zhnlp.text import same_length as normalize
from zhnlp.textio import read_corpus_lines
from zhnlp_classic import vectors
from zhnlp_classic.tokenizers import CharTokenizer


def test_tokens_are_keyed_as_the_tokenizers_key_them():
    texts = ["华为Ｍａｔｅ60 手机", "北京欢迎你"]
    tok = CharTokenizer(bigram=True, word_boundary=False)
    tok.set_vocabs(tok.build_vocabs(texts))
    bigram_vocab = set(tok.vocabs["bigram_ids"].itos)
    for sequence in vectors.sequences(texts, "bigram"):
        assert set(sequence) <= bigram_vocab  # every bigram key written is one the tokenizer looks up
    chars = vectors.sequences(texts, "char")
    assert chars[0][:6] == list(normalize("华为Ｍａｔｅ")) and " " not in chars[0]  # full-width -> "mate", no spaces
    words = vectors.sequences(texts, "word")
    assert "".join(words[1]) == "北京欢迎你" and len(words[1]) > 1


def test_corpus_is_the_training_splits_only(shared, tmp_path):
    root = shared("datasets")
    for rel in ("resume_ner/train.char.bmes", "resume_ner/dev.char.bmes", "thucnews/train.txt",
                "thucnews/dev.txt", "thucnews/class.txt"):
        lines = (root / rel).read_text(encoding="utf-8").splitlines()[:300]
        while rel.endswith(".bmes") and lines and lines[-1].strip():
            lines.pop()  # whole sentences only
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("\n".join(lines) + "\n", encoding="utf-8")
    texts = vectors.train_texts(["resume_ner", "thucnews"], str(tmp_path))
    titles = [line.split("\t")[0] for line in (tmp_path / "thucnews/train.txt").read_text(encoding="utf-8").splitlines()]
    assert texts["thucnews"] == titles  # the train file's titles, in order, and nothing of dev.txt
    first = "".join(line.split()[0] for line in (tmp_path / "resume_ner/train.char.bmes").read_text(
        encoding="utf-8").split("\n\n")[0].splitlines())
    assert texts["resume_ner"][0] == first


def read_vec(path):
    """{token: vector} of a word2vec text file (tokens here have no spaces)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [line.rsplit(" ", int(lines[0].split()[1])) for line in lines[1:]]
    return {row[0]: [float(x) for x in row[1:]] for row in rows}


def test_vectors_command_trains_vectors_that_the_char_encoder_loads(tmp_path):
    pytest.importorskip("gensim", reason="zhnlp vectors needs the optional gensim (pip install 'zhnlp[vectors]')")
    corpus = tmp_path / "raw.txt"
    corpus.write_text("\ufeff" + "\n".join(["龘龘山下有人家", "", "山下人家种茶叶", "北京欢迎你"] * 5) + "\n", encoding="utf-8")
    out = tmp_path / "vec"
    cli_main(["vectors", "--out", str(out), "--data", "sample_ner", "--text", str(corpus),
              "--dims", "char=8", "bigram=6", "--epochs", "2", "--workers", "1"])
    report = json.loads((out / "vectors.json").read_text(encoding="utf-8"))
    sample = vectors.train_texts(["sample_ner"])["sample_ner"]
    assert report["sources"] == {"sample_ner": len(sample), str(corpus): 15}  # blank line dropped, BOM gone
    assert {k: v["file"] for k, v in report["vectors"].items()} == {"char": "char8.vec", "bigram": "bigram6.vec"}
    chars = read_vec(out / "char8.vec")
    assert "龘" in chars and len(chars["龘"]) == 8 and not (out / "word50.vec").exists()
    assert "龘龘" in read_vec(out / "bigram6.vec")

    from zhnlp_classic.encoders import build_char, char

    encoder = build_char(**{**char.example_kwargs(None), "char_dim": 8, "bigram": False,
                            "pretrained_embeddings": str(out / "char8.vec"), "pretrained_extend": 1000})
    encoder.fit(["山下人家"])
    stoi = encoder.tokenizer.vocabs["input_ids"].stoi
    assert "龘" in stoi  # a character only the corpus had joined the vocabulary, with its trained vector
    assert torch.allclose(encoder.features.emb["char"].weight[stoi["龘"]], torch.tensor(chars["龘"]), atol=1e-5)

def test_vectors_command_errors(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="KIND=WIDTH"):
        vectors.parse_dims(["chars=128"])
    with pytest.raises(ConfigError, match="--data no_such_set: no such dataset config; the installed ones are .*resume_ner, sample_cls"):
        vectors.train_texts(["no_such_set"])
    bad = tmp_path / "gbk.txt"
    bad.write_bytes("第一行\n".encode("utf-8") + "第二行".encode("gbk") + b"\n")
    with pytest.raises(DataError, match=r"gbk\.txt:2: not valid UTF-8"):
        read_corpus_lines(bad, "--text")
    with pytest.raises(ConfigError, match="--text .*missing.txt: file not found"):
        read_corpus_lines(tmp_path / "missing.txt", "--text")
    monkeypatch.setitem(sys.modules, "gensim.models", None)  # as if gensim were not installed
    with pytest.raises(ConfigError, match=r"pip install \"zhnlp\[vectors\]\""):
        vectors.main(["--out", str(tmp_path / "v"), "--text", str(bad)])
