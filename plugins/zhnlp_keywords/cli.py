"""``zhnlp keywords``: extract keywords from a file, evaluate methods side by side, build an IDF file.

    zhnlp keywords extract --method tfidf --top-k 5 --input docs.txt --output out.jsonl
    zhnlp keywords evaluate --data dev.tsv [--split dev] [--methods tfidf,textrank,keybert,tagger --run RUN]
    zhnlp keywords idf --corpus corpus.txt --output idf.txt
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from zhnlp.errors import ConfigError, ZhnlpError
from zhnlp_keywords.evaluation import evaluate_methods, parse_spec, split_specs
from zhnlp_keywords.metrics import format_table


def _json_arg(value: str | None, flag: str) -> dict:
    if not value:
        return {}
    try:
        obj = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{flag}: not valid JSON ({exc.msg}): {value!r}") from None
    if not isinstance(obj, dict):
        raise ConfigError(f"{flag} must be a JSON object, e.g. '{{\"pretrained\": \"/models/bert\"}}'.")
    return obj


def _common_kwargs(args: argparse.Namespace, method: str) -> dict[str, Any]:
    """Builder kwargs of ``method`` from the shared command-line flags."""
    kw: dict[str, Any] = {}
    if method in ("tfidf", "textrank", "keybert"):
        if args.user_dict:
            kw["user_dict"] = args.user_dict
        if args.stopwords:
            kw["stopwords"] = args.stopwords
    if method == "tfidf":
        if args.idf_path:
            kw["idf_path"] = args.idf_path
        if args.idf_corpus:
            kw["idf_corpus"] = args.idf_corpus
    if method == "keybert":
        if args.encoder:
            kw["encoder"] = args.encoder
            kw["encoder_kwargs"] = _json_arg(args.encoder_kwargs, "--encoder-kwargs")
        elif args.keybert_run or args.run:
            kw["run"] = args.keybert_run or args.run
        if args.diversity_method:
            kw["diversity_method"] = args.diversity_method
        if args.diversity is not None:
            kw["diversity"] = args.diversity
    if method == "tagger" and args.run:
        kw["run"] = args.run
    if method in ("keybert", "tagger"):
        kw["device"] = args.device
    kw.update(_json_arg(args.options, "--options"))
    return kw


def _add_method_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run", help="trained keyword_tagger run (method tagger; keybert uses its encoder too)")
    p.add_argument("--keybert-run", help="run whose encoder keybert embeds with (default: --run)")
    p.add_argument("--encoder", help="keybert: registered encoder name, e.g. bert_wwm")
    p.add_argument("--encoder-kwargs", help="keybert: JSON builder kwargs, e.g. '{\"pretrained\": \"/models/bert\"}'")
    p.add_argument("--diversity-method", choices=("cosine", "mmr", "max_sum"), help="keybert ranking")
    p.add_argument("--diversity", type=float, help="keybert MMR lambda in [0, 1]")
    p.add_argument("--idf-path", help="tfidf: IDF file in jieba's format")
    p.add_argument("--idf-corpus", help="tfidf: compute IDF from this corpus file")
    p.add_argument("--user-dict", help="jieba user dictionary")
    p.add_argument("--stopwords", help="'default', 'none' or a file with one stopword per line")
    p.add_argument("--options", help="extra builder kwargs as JSON")
    p.add_argument("--device", default="cpu")


def _build(name: str, kwargs: dict[str, Any]):
    from zhnlp.registry import get

    return get("keyword_methods", name)(**kwargs)


def run_extract(args: argparse.Namespace) -> None:
    from zhnlp_keywords.idf import read_documents

    docs = read_documents(args.input)
    extractor = _build(args.method, _common_kwargs(args, args.method))
    results = extractor([d["text"] for d in docs], top_k=args.top_k)
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
    try:
        for doc, keywords in zip(docs, results):
            record = {k: v for k, v in doc.items() if not k.startswith("_")}
            record["keywords"] = [[k, s] for k, s in keywords]
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    if args.output != "-":
        print(f"Wrote keywords of {len(docs)} documents to {args.output}", file=sys.stderr)


def run_evaluate(args: argparse.Namespace) -> dict:
    from zhnlp_keywords.readers import build_csl_reader

    reader = build_csl_reader(split=args.split, dev_fraction=args.dev_fraction, seed=args.seed)
    examples = reader(args.data, key="--data")
    if not examples:
        raise ZhnlpError(f"{args.data}: no documents in split '{args.split}'.")
    train_texts = None
    specs = []
    names = split_specs(args.methods or ("tfidf,textrank,keybert,tagger" if args.run else "tfidf,textrank"))
    for spec in names:
        name, extra = parse_spec(spec)
        kwargs = {**_common_kwargs(args, name), **extra}
        if kwargs.get("idf_corpus") == "train":  # the training part of the same file
            if train_texts is None:
                train_texts = [ex["text"] for ex in build_csl_reader(split="train", dev_fraction=args.dev_fraction,
                                                                     seed=args.seed)(args.data, key="--data")]
            kwargs["idf_corpus"] = train_texts
        specs.append((spec, name, kwargs))
    print(f"Evaluating {len(specs)} method(s) on {len(examples)} documents of {args.data} (split {args.split})",
          file=sys.stderr)
    results = evaluate_methods(examples, specs, _build)
    print(format_table(results))
    print("\nseconds (build + extract): " + ", ".join(f"{k} {v['seconds']:.1f}" for k, v in results.items()))
    if args.output:
        Path(args.output).write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return results


def run_idf(args: argparse.Namespace) -> None:
    from zhnlp_keywords.idf import compute_idf, read_corpus, write_idf

    path = write_idf(compute_idf(read_corpus(args.corpus, key="--corpus"), args.user_dict), args.output)
    print(f"Wrote IDF of {sum(1 for _ in path.open(encoding='utf-8'))} words to {path}", file=sys.stderr)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zhnlp keywords", description="Keyword extraction: extract, evaluate, idf.")
    sub = p.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("extract", help="keywords of every document in a file, as JSON lines")
    ex.add_argument("--method", default="tfidf", help="tfidf | textrank | keybert | tagger (any registered method)")
    ex.add_argument("--top-k", type=int, default=5)
    ex.add_argument("--input", "-i", required=True, help="UTF-8 file: one document per line, or JSON lines with 'text'")
    ex.add_argument("--output", "-o", default="-", help="output JSON lines (default: stdout)")
    _add_method_flags(ex)
    ev = sub.add_parser("evaluate", help="P/R/F1 @3/5/10 of several methods on one labelled split")
    ev.add_argument("--data", required=True, help="keyword TSV (prompt<TAB>text<TAB>kw_kw_kw)")
    ev.add_argument("--split", default="all", choices=("all", "train", "dev"),
                    help="all rows (a test file), or the train/dev carve of the file")
    ev.add_argument("--dev-fraction", type=float, default=0.2)
    ev.add_argument("--seed", type=int, default=13)
    ev.add_argument("--methods", help="comma-separated, e.g. tfidf,tfidf[idf_corpus=train],textrank,keybert,tagger")
    ev.add_argument("--output", "-o", help="write the metrics as JSON here")
    _add_method_flags(ev)
    idf = sub.add_parser("idf", help="compute an IDF file (jieba's format) from your corpus")
    idf.add_argument("--corpus", required=True, help="one document per line, JSON lines with 'text', or keyword TSV")
    idf.add_argument("--output", "-o", required=True)
    idf.add_argument("--user-dict")
    return p


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``zhnlp keywords`` (``argv`` without the ``keywords`` word)."""
    args = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if getattr(args, "top_k", 1) < 1:
        raise ConfigError(f"--top-k {args.top_k}: must be >= 1.")
    {"extract": run_extract, "evaluate": run_evaluate, "idf": run_idf}[args.command](args)
