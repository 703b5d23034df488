"""``zhnlp kbqa``: build-kb | ask | eval | lookup.

    zhnlp kbqa build-kb TRIPLES.txt [MORE.txt ...] KB.sqlite [--force]
    zhnlp kbqa ask RUN "《机械设计基础》这本书的作者是谁？" [...] [--kb KB.sqlite] [--threshold 0.1]
    zhnlp kbqa eval RUN --data QUESTIONS [--kb KB.sqlite] [--output predictions.jsonl]
    zhnlp kbqa lookup KB.sqlite 李娜 [--limit 10]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from zhnlp.errors import ZhnlpError


def build_kb(args: argparse.Namespace) -> None:
    from zhnlp_kbqa.sqlite_kb import ALIAS_PREDICATES, build_sqlite_kb

    aliases = ALIAS_PREDICATES if args.alias_predicates is None else [p for p in args.alias_predicates.split(",") if p]
    report = build_sqlite_kb(args.triples, args.kb, alias_predicates=aliases, batch_size=args.batch_size,
                             progress=not args.no_progress, overwrite=args.force)
    print(report.summary())


def _load(args: argparse.Namespace):
    from zhnlp_kbqa.pipeline import load_kbqa

    settings = {"threshold": args.threshold} if getattr(args, "threshold", None) is not None else None
    return load_kbqa(args.run, device=args.device, kb=args.kb, settings=settings)


def ask(args: argparse.Namespace) -> None:
    qa = _load(args)
    questions = args.questions or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    for question, answer in zip(questions, qa.predict(questions)):
        print(json.dumps({"question": question, **answer}, ensure_ascii=False))


def evaluate(args: argparse.Namespace) -> None:
    from zhnlp.outputs import metrics_table, write_predictions
    from zhnlp_kbqa.readers import read_nlpcc

    if not Path(args.data).is_file():
        raise ZhnlpError(f"{args.data}: question file not found.")
    examples = read_nlpcc(args.data)
    metrics, predictions = _load(args).evaluate(examples)
    print(metrics_table(metrics))
    if args.output:
        write_predictions(Path(args.output), examples, predictions)
        print(f"predictions: {args.output}", file=sys.stderr)


def lookup(args: argparse.Namespace) -> None:
    from zhnlp_kbqa.linking import EntityLinker
    from zhnlp_kbqa.sqlite_kb import SQLiteKB

    kb = SQLiteKB(args.kb)
    for cand in EntityLinker(kb, top_k=args.limit).link(args.text):
        print(json.dumps({"entity": cand.name, "score": round(cand.score, 4), "by": cand.source,
                          "predicates": kb.predicates(cand.name)[:20]}, ensure_ascii=False))


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="zhnlp kbqa", description="Knowledge-base question answering.")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build-kb", help="stream triple files into an SQLite KB")
    p.add_argument("triples", nargs="+", help="files of 'subject ||| predicate ||| object' lines")
    p.add_argument("kb", help="the .sqlite file to write")
    p.add_argument("--force", action="store_true", help="replace an existing KB file")
    p.add_argument("--batch-size", type=int, default=10_000, help="rows per insert batch")
    p.add_argument("--alias-predicates", default=None, help="comma-separated predicates whose objects are aliases")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(fn=build_kb)

    for name, fn, text in (("ask", ask, "answer questions with a trained run"),
                           ("eval", evaluate, "score a trained run on an NLPCC question file")):
        p = sub.add_parser(name, help=text)
        p.add_argument("run", help="KBQA run folder (zhnlp train experiment=nlpcc_kbqa_scratch)")
        if name == "ask":
            p.add_argument("questions", nargs="*", help="questions (default: one per line on stdin)")
        else:
            p.add_argument("--data", required=True, help="NLPCC question file with gold triples")
            p.add_argument("--output", "-o", default=None, help="write predictions (JSON lines) here")
        p.add_argument("--kb", default=None, help="use this KB .sqlite instead of the run's")
        p.add_argument("--threshold", type=float, default=None, help="answer score threshold")
        p.add_argument("--device", default="cpu")
        p.set_defaults(fn=fn)

    p = sub.add_parser("lookup", help="link a name against a KB (exact / alias / fuzzy)")
    p.add_argument("kb", help="KB .sqlite file")
    p.add_argument("text", help="a mention")
    p.add_argument("--limit", type=int, default=10)
    p.set_defaults(fn=lookup)
    return top


def main(argv: list[str]) -> None:
    """Entry point of ``zhnlp kbqa`` (group ``zhnlp.commands``)."""
    args = parser().parse_args(argv)
    args.fn(args)
