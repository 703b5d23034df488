"""benchmarks/train_vectors.py: the corpus it builds (training splits only) and its token keys.

The word2vec step itself needs gensim, which zhnlp does not depend on; what is tested here is
what decides whether its vectors ever reach a table: the tokens must be keyed exactly as the
from-scratch tokenizers key them.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from zhnlp_classic.text import normalize
from zhnlp_classic.tokenizers import CharTokenizer

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "train_vectors.py"


def load_script():
    spec = importlib.util.spec_from_file_location("train_vectors", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tokens_are_keyed_as_the_tokenizers_key_them():
    tv = load_script()
    texts = ["华为Ｍａｔｅ60 手机", "北京欢迎你"]
    tok = CharTokenizer(bigram=True, word_boundary=False)
    tok.set_vocabs(tok.build_vocabs(texts))
    bigram_vocab = set(tok.vocabs["bigram_ids"].itos)
    for sequence in tv.sequences(texts, "bigram"):
        assert set(sequence) <= bigram_vocab  # every bigram key the script writes is one the tokenizer looks up
    chars = tv.sequences(texts, "char")
    assert chars[0][:6] == list(normalize("华为Ｍａｔｅ")) and " " not in chars[0]  # full-width -> "mate", no spaces
    words = tv.sequences(texts, "word")
    assert "".join(words[1]) == "北京欢迎你" and len(words[1]) > 1


def test_corpus_is_the_training_splits_only(shared, tmp_path):
    tv = load_script()
    root = shared("datasets")
    for rel in ("resume_ner/train.char.bmes", "resume_ner/dev.char.bmes", "thucnews/train.txt",
                "thucnews/dev.txt", "thucnews/class.txt"):
        lines = (root / rel).read_text(encoding="utf-8").splitlines()[:300]
        while rel.endswith(".bmes") and lines and lines[-1].strip():
            lines.pop()  # whole sentences only
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("\n".join(lines) + "\n", encoding="utf-8")
    texts = tv.train_texts(str(tmp_path), ["resume_ner", "thucnews"])
    titles = [line.split("\t")[0] for line in (tmp_path / "thucnews/train.txt").read_text(encoding="utf-8").splitlines()]
    assert texts["thucnews"] == titles  # the train file's titles, in order, and nothing of dev.txt
    first = "".join(line.split()[0] for line in (tmp_path / "resume_ner/train.char.bmes").read_text(
        encoding="utf-8").split("\n\n")[0].splitlines())
    assert texts["resume_ner"][0] == first
