"""Train char / bigram / word vectors (word2vec skip-gram, gensim) on the training texts of datasets.

    python benchmarks/train_vectors.py --data-root ../shared/datasets --out vectors \
        [--datasets msra_ner resume_ner cluener weibo_ner thucnews chnsenticorp] \
        [--dims char=128 bigram=128 word=50] [--epochs 5] [--workers 1]

Only the ``train_path`` split of each dataset config is read (never dev or test), through the
dataset's own reader. Tokens are made exactly as the from-scratch encoders make them: characters
normalised by ``zhnlp_classic.text.normalize``, bigrams as ``CharTokenizer.bigram_keys`` (a
text's last character pairs with "\\x03"), words as jieba cuts of the normalised text (these
serve the ``lexicon`` table of char/bilstm and the ``word`` table of charword). Writes
``<out>/{char,bigram,word}<dim>.vec`` (word2vec text format, most frequent token first) and
``<out>/vectors.json`` (datasets, token counts, seconds). Use them with
``encoder.pretrained_embeddings={char: F, bigram: F, lexicon: F}`` and ``encoder.pretrained_extend``,
e.g. the ``resume_ner_vectors`` preset. Needs gensim (``pip install gensim``), which zhnlp itself
does not.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

NER = ("msra_ner", "resume_ner", "cluener", "weibo_ner")
CLASSIFY = ("thucnews", "chnsenticorp")
DEFAULT_DIMS = {"char": 128, "bigram": 128, "word": 50}


def train_texts(data_root: str, names: list[str]) -> dict[str, list[str]]:
    """Each dataset's training texts (``text`` and, for pairs, ``text_b``), read by its own reader."""
    from zhnlp.builders import build
    from zhnlp.config import compose_train_config

    texts = {}
    for name in names:
        task = "ner" if name in NER else "classify" if name in CLASSIFY else None
        if task is None:
            raise SystemExit(f"unknown dataset {name!r}: choose from {', '.join(NER + CLASSIFY)}")
        data = compose_train_config([f"task={task}", f"data={name}", f"data_root={data_root}"])["data"]
        examples = build(data["reader"])(data["train_path"])
        texts[name] = [t for ex in examples for t in (ex.get("text"), ex.get("text_b")) if isinstance(t, str) and t]
    return texts


def sequences(texts: list[str], kind: str) -> list[list[str]]:
    """One token list per text, tokens as the from-scratch encoders key them."""
    from zhnlp_classic.text import cut, normalize
    from zhnlp_classic.tokenizers import CharTokenizer

    norm = [normalize(t) for t in texts]
    if kind == "char":
        return [[c for c in n if not c.isspace()] for n in norm]
    if kind == "bigram":
        return [list(CharTokenizer.bigram_keys(n)) for n in norm]
    return [[w for w in cut(n) if w.strip()] for n in norm]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--datasets", nargs="+", default=list(NER + CLASSIFY))
    parser.add_argument("--dims", nargs="+", default=[f"{k}={v}" for k, v in DEFAULT_DIMS.items()],
                        help="which vectors and their width, e.g. char=128 bigram=128 word=50")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    try:
        from gensim.models import Word2Vec
    except ImportError:
        sys.exit("train_vectors.py needs gensim: pip install gensim")
    dims = {}
    for item in args.dims:
        kind, _, dim = item.partition("=")
        if kind not in DEFAULT_DIMS or not dim.isdigit():
            sys.exit(f"--dims {item!r}: give KIND=WIDTH with KIND one of {', '.join(DEFAULT_DIMS)}")
        dims[kind] = int(dim)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    per_set = train_texts(args.data_root, args.datasets)
    texts = [t for name in args.datasets for t in per_set[name]]
    report = {"datasets": {k: len(v) for k, v in per_set.items()}, "texts": len(texts),
              "chars": sum(map(len, texts)), "read_s": round(time.perf_counter() - start, 1), "vectors": {}}
    print(f"{len(texts)} training texts, {report['chars']} characters", file=sys.stderr)
    for kind, dim in dims.items():
        start = time.perf_counter()
        model = Word2Vec(sequences(texts, kind), vector_size=dim, window=args.window, min_count=1, sg=1,
                         negative=5, epochs=args.epochs, workers=args.workers, seed=1)
        path = out / f"{kind}{dim}.vec"
        model.wv.save_word2vec_format(str(path))
        seconds = round(time.perf_counter() - start, 1)
        report["vectors"][kind] = {"file": path.name, "dim": dim, "tokens": len(model.wv), "seconds": seconds}
        print(f"{path}: {len(model.wv)} tokens, {seconds} s", file=sys.stderr)
    (out / "vectors.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
