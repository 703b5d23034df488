"""``zhnlp vectors``: word2vec (skip-gram) char / bigram / word vectors for the from-scratch encoders.

    zhnlp vectors --out vectors --data-root ../shared/datasets          # the six shared training splits
    zhnlp vectors --out vectors --data resume_ner cluener --text my_corpus.txt [--data-root ROOT]
        [--dims char=128 bigram=128 word=50] [--epochs 5] [--window 5] [--workers N]

The corpus is the **training split only** of each ``--data`` dataset config (read by that dataset's
own reader, never dev or test) plus the lines of each ``--text`` file (UTF-8, one text per line).
With neither option it is the training splits of MSRA, Resume, CLUENER, Weibo, THUCNews and
ChnSentiCorp under ``--data-root``. Tokens are keyed exactly as the from-scratch tokenizers key them:
characters normalised by ``zhnlp.text.same_length``, bigrams as ``CharTokenizer.bigram_keys``
(a text's last character pairs with ``"\\x03"``), words as jieba cuts of the normalised text (they
serve the ``lexicon`` table of char/bilstm and the ``word`` table of charword and word).

Writes ``<out>/{char,bigram,word}<dim>.vec`` (word2vec text format, most frequent token first) and
``<out>/vectors.json`` (corpus, token counts, seconds). Use them with
``encoder.pretrained_embeddings={char: F, bigram: F, lexicon: F}`` and ``encoder.pretrained_extend``,
or the ``*_vectors`` presets (``vectors_dir=<out>``). Needs gensim: ``pip install "zhnlp[vectors]"``.
With more than one worker gensim is not deterministic; ``--workers 1`` gives repeatable vectors.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from zhnlp.errors import ConfigError
from zhnlp.textio import read_corpus_lines

SHARED_DATASETS = ("msra_ner", "resume_ner", "cluener", "weibo_ner", "thucnews", "chnsenticorp")
DEFAULT_DIMS = {"char": 128, "bigram": 128, "word": 50}


def train_texts(names: list[str], data_root: str | None = None) -> dict[str, list[str]]:
    """Each dataset config's training texts (``text`` and, for pairs, ``text_b``), read by its own reader.

    Raises:
        ConfigError: an unknown dataset config, or one whose training split gives no text.
    """
    from zhnlp.config import compose_train_config
    from zhnlp.registry import build_reader

    texts = {}
    for name in names:
        overrides = [f"data={name}"] + ([f"data_root={data_root}"] if data_root else [])
        try:
            data = compose_train_config(overrides)["data"]
        except ConfigError as error:
            raise ConfigError(f"--data {name}: no such dataset config; the installed ones are "
                              f"{', '.join(hydra_options(str(error), 'data')) or '(none)'}") from None
        examples = build_reader(data)(data["train_path"], "data.train_path")
        texts[name] = [t for ex in examples for t in (ex.get("text"), ex.get("text_b")) if isinstance(t, str) and t.strip()]
        if not texts[name]:
            raise ConfigError(f"--data {name}: its training split {data['train_path']} gave no texts "
                              "(it has no 'text' field; pass its raw text with --text FILE instead).")
    return texts


def hydra_options(message: str, group: str) -> list[str]:
    """The options Hydra lists after "Available options in '<group>':" in a composition error."""
    _, _, tail = message.partition(f"Available options in '{group}':\n")
    options = []
    for line in tail.splitlines():
        if not line.startswith("\t"):
            break  # the indented list ends where Hydra's search-path listing begins
        options.append(line.strip())
    return options


def sequences(texts: list[str], kind: str) -> list[list[str]]:
    """One token list per text, tokens as the from-scratch encoders key them."""
    from zhnlp.text import same_length
    from zhnlp_classic.text import cut
    from zhnlp_classic.tokenizers import CharTokenizer

    norm = [same_length(t) for t in texts]
    if kind == "char":
        return [[c for c in n if not c.isspace()] for n in norm]
    if kind == "bigram":
        return [list(CharTokenizer.bigram_keys(n)) for n in norm]
    return [[w for w in cut(n) if w.strip()] for n in norm]


def parse_dims(items: list[str]) -> dict[str, int]:
    """``["char=128", "word=50"]`` -> ``{"char": 128, "word": 50}``."""
    dims = {}
    for item in items:
        kind, _, dim = item.partition("=")
        if kind not in DEFAULT_DIMS or not dim.isdigit() or int(dim) < 1:
            raise ConfigError(f"--dims {item!r}: give KIND=WIDTH with KIND one of {', '.join(DEFAULT_DIMS)} "
                              "and WIDTH a positive integer, e.g. --dims char=128 bigram=128 word=50")
        dims[kind] = int(dim)
    return dims


def word2vec_class():
    """gensim's Word2Vec, or a ConfigError that says how to install it."""
    try:
        from gensim.models import Word2Vec
    except ImportError:
        raise ConfigError('zhnlp vectors needs gensim: pip install "zhnlp[vectors]" (or pip install gensim)') from None
    return Word2Vec


def epoch_reporter(name: str, epochs: int):
    """A gensim callback that prints one progress line per finished epoch to stderr."""
    from gensim.models.callbacks import CallbackAny2Vec

    class Progress(CallbackAny2Vec):
        def __init__(self):
            self.epoch, self.start = 0, time.perf_counter()

        def on_epoch_end(self, model):
            self.epoch += 1
            print(f"  {name}: epoch {self.epoch}/{epochs} ({time.perf_counter() - self.start:.0f} s)",
                  file=sys.stderr, flush=True)

    return Progress()


def train_vectors(texts: list[str], out: str | Path, dims: dict[str, int], epochs: int = 5, window: int = 5,
                  workers: int = 1, seed: int = 1) -> dict:
    """Train one skip-gram model per token kind in ``dims`` and write ``<out>/<kind><dim>.vec``.

    Returns ``{kind: {"file", "dim", "tokens", "seconds"}}``.
    """
    Word2Vec = word2vec_class()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind, dim in dims.items():
        start = time.perf_counter()
        name = f"{kind}{dim}"
        print(f"{name}: training ({epochs} epochs, {workers} worker(s))", file=sys.stderr, flush=True)
        model = Word2Vec(sequences(texts, kind), vector_size=dim, window=window, min_count=1, sg=1, negative=5,
                         epochs=epochs, workers=workers, seed=seed, callbacks=[epoch_reporter(name, epochs)])
        path = out / f"{name}.vec"
        model.wv.save_word2vec_format(str(path))
        seconds = round(time.perf_counter() - start, 1)
        written[kind] = {"file": path.name, "dim": dim, "tokens": len(model.wv), "seconds": seconds}
        print(f"{path}: {len(model.wv)} tokens, {seconds} s", file=sys.stderr, flush=True)
    return written


def main(argv: list[str]) -> None:
    """``zhnlp vectors --out DIR [--data NAME ...] [--text FILE ...] [--data-root ROOT] ...``."""
    parser = argparse.ArgumentParser(prog="zhnlp vectors", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder for the .vec files and vectors.json")
    parser.add_argument("--data", nargs="+", metavar="NAME",
                        help=f"dataset configs whose TRAINING split joins the corpus (default without --text: "
                             f"{' '.join(SHARED_DATASETS)})")
    parser.add_argument("--text", nargs="+", metavar="FILE", default=[], help="raw UTF-8 text files, one text per line")
    parser.add_argument("--data-root", help="the data_root the dataset configs' paths start from")
    parser.add_argument("--dims", nargs="+", default=[f"{k}={v}" for k, v in DEFAULT_DIMS.items()],
                        help="which vectors and their width (default: char=128 bigram=128 word=50)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="gensim threads (default: all cores; 1 = repeatable vectors)")
    args = parser.parse_args(argv)
    dims = parse_dims(args.dims)
    word2vec_class()  # fail before reading the corpus when gensim is missing
    names = args.data if args.data is not None else ([] if args.text else list(SHARED_DATASETS))
    start = time.perf_counter()
    per_source = train_texts(names, args.data_root)
    for path in args.text:
        per_source[path] = read_corpus_lines(path, "--text")
    texts = [t for lines in per_source.values() for t in lines]
    report = {"sources": {k: len(v) for k, v in per_source.items()}, "texts": len(texts),
              "chars": sum(map(len, texts)), "read_s": round(time.perf_counter() - start, 1)}
    print(f"{len(texts)} training texts, {report['chars']} characters", file=sys.stderr, flush=True)
    report["vectors"] = train_vectors(texts, args.out, dims, args.epochs, args.window, args.workers)
    (Path(args.out) / "vectors.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n",
                                                 encoding="utf-8")
