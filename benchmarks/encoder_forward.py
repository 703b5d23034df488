"""CPU forward time and parameter count of base-size encoders with random weights.

    python benchmarks/encoder_forward.py bert_wwm ernie albert_zh [nezha ...] \
        [--batch 32 --length 128 --runs 5 --threads N]

Any registered encoder works that has a base-size recipe ``recipe(tmp_dir) -> kwargs`` (like a
spec's ``example_kwargs``, but hidden 768 / 12 layers, random weights, no network) in ``RECIPES``:
the transformers encoders' is ``zhnlp_transformers.tiny.base_kwargs(name, tmp_dir)``; for ``nezha``
the script writes a base config from ``zhnlp_nezha.modeling_nezha.NezhaConfig`` itself.
Input: random token ids, full attention mask; timing: median of ``--runs`` timed forwards under
``torch.inference_mode`` after one warm-up.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

import torch

from zhnlp import registry


def _nezha_base_kwargs(tmp_dir) -> dict:
    """Fallback base recipe for NEZHA: default (base) NezhaConfig, 21,128-entry vocab."""
    from zhnlp_nezha.modeling_nezha import NezhaConfig
    from zhnlp_transformers.tiny import synthetic_vocab

    directory = Path(tmp_dir) / "base-nezha"
    directory.mkdir(parents=True, exist_ok=True)
    config = NezhaConfig()
    (directory / "config.json").write_text(json.dumps(config.to_dict(), indent=2), encoding="utf-8")
    (directory / "vocab.txt").write_text("\n".join(synthetic_vocab(config.vocab_size)) + "\n",
                                         encoding="utf-8")
    return {"pretrained": str(directory), "weights": False}


def _transformers_base_kwargs(name: str, tmp_dir) -> dict:
    from zhnlp_transformers.tiny import base_kwargs

    return base_kwargs(name, tmp_dir)


RECIPES = {"nezha": _nezha_base_kwargs,
           **{name: partial(_transformers_base_kwargs, name) for name in ("bert_wwm", "roberta_wwm", "ernie", "albert_zh")}}


def base_recipe(name: str):
    recipe = RECIPES.get(name)
    if recipe is None:
        raise SystemExit(f"encoder '{name}' has no base-size recipe: add one to RECIPES in {Path(__file__).name} "
                         f"(known: {', '.join(sorted(RECIPES))}).")
    return recipe


def measure(name: str, batch: int, length: int, runs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        encoder = registry.build_encoder({"name": name, **base_recipe(name)(tmp)}).eval()
    params = sum(p.numel() for p in encoder.parameters())
    vocab = len(encoder.tokenizer.get_vocab())
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(5, vocab, (batch, length), generator=generator)  # (B, T)
    attention_mask = torch.ones_like(input_ids)
    token_type_ids = torch.zeros_like(input_ids)
    times = []
    with torch.inference_mode():
        for i in range(runs + 1):
            start = time.perf_counter()
            hidden = encoder(input_ids, attention_mask, token_type_ids=token_type_ids)  # (B, T, H)
            if i:  # the first run is a warm-up
                times.append(time.perf_counter() - start)
    assert hidden.shape == (batch, length, encoder.hidden_size)
    return {"encoder": name, "params": params, "hidden": encoder.hidden_size,
            "median_s": statistics.median(times), "min_s": min(times), "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("encoders", nargs="+", help="registered encoder names")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{platform.processor() or platform.machine()}; batch {args.batch} x {args.length} "
          f"tokens, median of {args.runs} runs, random weights")
    print(f"{'encoder':<12} {'params':>12} {'hidden':>6} {'median s':>9} {'min s':>7} {'tok/s':>8}")
    for name in args.encoders:
        r = measure(name, args.batch, args.length, args.runs)
        rate = args.batch * args.length / r["median_s"]
        print(f"{r['encoder']:<12} {r['params']:>12,} {r['hidden']:>6} {r['median_s']:>9.3f} "
              f"{r['min_s']:>7.3f} {rate:>8.0f}", flush=True)


if __name__ == "__main__":
    main()
