"""Evaluate keyword methods side by side on one labelled split (``zhnlp keywords evaluate``).

Method specs: ``NAME`` or ``NAME[key=value;key=value]`` with builder arguments, e.g.
``tfidf[idf_corpus=train]`` (IDF from the training part of the same file), ``keybert[run=RUNS/x;
diversity_method=max_sum]``. Values are read as JSON when they parse (numbers, true, lists), else
as strings.
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable

from zhnlp.errors import ConfigError
from zhnlp_keywords.metrics import KS, keyword_metrics


def split_specs(text: str) -> list[str]:
    """Split ``a,b[x=1,2],c`` on the commas outside brackets."""
    out, depth, current = [], 0, ""
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise ConfigError(f"unbalanced ']' in methods {text!r}.")
        if ch == "," and depth == 0:
            out.append(current.strip())
            current = ""
        else:
            current += ch
    if depth:
        raise ConfigError(f"unbalanced '[' in methods {text!r}.")
    out.append(current.strip())
    return [s for s in out if s]


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``name[key=value;...]`` -> (name, kwargs)."""
    if "[" not in spec:
        return spec, {}
    if not spec.endswith("]"):
        raise ConfigError(f"method spec {spec!r}: write NAME[key=value;key=value].")
    name, _, body = spec[:-1].partition("[")
    kwargs: dict[str, Any] = {}
    for item in filter(None, (s.strip() for s in body.split(";"))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ConfigError(f"method spec {spec!r}: {item!r} is not key=value.")
        try:
            kwargs[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key.strip()] = value.strip()
    return name.strip(), kwargs


def evaluate_methods(
    examples: list[dict],
    specs: list[tuple[str, str, dict[str, Any]]],
    build: Callable[[str, dict[str, Any]], Callable],
    ks=KS,
) -> dict[str, dict[str, float]]:
    """Run every method on the same examples; P/R/F1 at each k plus ``seconds`` (build + extract).

    Args:
        examples: with ``text`` and ``keywords``.
        specs: (label shown in the table, method name, builder kwargs).
        build: (method name, kwargs) -> extractor.
    """
    texts = [ex["text"] for ex in examples]
    golds = [ex.get("keywords", []) for ex in examples]
    results = {}
    for label, name, kwargs in specs:
        started = time.perf_counter()
        extractor = build(name, kwargs)
        predictions = extractor(texts, top_k=max(ks))
        metrics = keyword_metrics(predictions, golds, ks)
        metrics["seconds"] = round(time.perf_counter() - started, 2)
        results[label] = metrics
    return results
