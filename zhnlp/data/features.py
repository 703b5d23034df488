"""Examples -> features: windows for long texts, tokenization with offsets, the head's targets."""
from __future__ import annotations

import warnings
from typing import Any

from zhnlp.types import has

TOKENIZE_CHUNK = 2000


def split_long(example: dict, head: Any, max_chars: int) -> list[dict]:
    """Windows of a long example if the head can merge them back, else the example itself."""
    if len(example["text"]) <= max_chars or not (has(head, "split") and has(head, "merge")):
        return [example]
    return head.split(example, max_chars)


def truncate(encoding: dict, max_length: int) -> dict:
    """Keep the first tokens and the trailing special tokens (offset (0, 0)), ``max_length`` in all.

    An encoding without trailing special tokens (char encoders) keeps its first ``max_length``
    tokens: its last real token is never kept in place of a closing special token.
    """
    offsets = encoding["offset_mapping"]
    trailing = 0
    while trailing < len(offsets) - 1 and tuple(offsets[len(offsets) - 1 - trailing]) == (0, 0):
        trailing += 1
    trailing = min(trailing, max_length - 1)
    n = len(encoding["input_ids"])
    keep = list(range(max_length - trailing)) + list(range(n - trailing, n))
    return {key: [values[i] for i in keep] for key, values in encoding.items()}


def make_features(examples: list[dict], tokenizer: Any, head: Any, max_length: int,
                  num_special_tokens: int) -> list[dict]:
    """Examples -> features ``{"inputs", "targets", "offsets", "example", "index"}``.

    Texts longer than ``max_length - num_special_tokens`` characters are cut into windows by the
    head (``split`` / ``merge``) when it offers them; an encoding still longer than ``max_length``
    tokens is cut by the head's ``truncate`` (else :func:`truncate`), with one counted warning.
    Examples with ``_gold: False`` get no targets.

    Args:
        examples: the examples (``text``, optional ``text_b``, gold).
        tokenizer: the encoder's tokenizer.
        head: the head (targets, optional split / merge / truncate).
        max_length: the most tokens per row.
        num_special_tokens: tokens the tokenizer adds around a text.

    Returns:
        One feature per (window of an) example; ``index`` is the example's position.
    """
    rows: list[tuple[int, dict]] = []
    max_chars = max(8, max_length - num_special_tokens)
    for index, ex in enumerate(examples):
        rows += [(index, window) for window in split_long(ex, head, max_chars)]
    cut = head.truncate if has(head, "truncate") else truncate
    features, truncated = [], 0
    for start in range(0, len(rows), TOKENIZE_CHUNK):
        chunk = rows[start : start + TOKENIZE_CHUNK]
        texts = [ex["text"] for _, ex in chunk]
        pairs = [ex.get("text_b") for _, ex in chunk]
        kwargs = dict(return_offsets_mapping=True, add_special_tokens=True, truncation=False)
        enc = tokenizer(texts, pairs, **kwargs) if any(p is not None for p in pairs) else tokenizer(texts, **kwargs)
        columns = list(dict(enc).items())  # a plain list: BatchEncoding.items() is slow per call
        for j, (index, ex) in enumerate(chunk):
            encoding = {key: values[j] for key, values in columns}
            if len(encoding["input_ids"]) > max_length:
                truncated += 1
                encoding = cut(encoding, max_length)
            offsets = [tuple(o) for o in encoding.pop("offset_mapping")]
            targets = head.targets(ex, {**encoding, "offset_mapping": offsets}) if ex.get("_gold", True) else {}
            inputs = {k: list(v) for k, v in encoding.items() if k != "special_tokens_mask"}
            features.append({"inputs": inputs, "targets": targets, "offsets": offsets, "example": ex, "index": index})
    if truncated:
        warnings.warn(f"{truncated} text(s) longer than {max_length} tokens were truncated (the head cannot split them).")
    return features


def merge_windows(head: Any, examples: list[dict], stash: list[tuple[int, dict, Any]]) -> tuple[list[dict], list]:
    """Group window predictions by example and merge them (``head.merge``).

    Args:
        head: the task head.
        examples: all examples of the split, indexable by example index.
        stash: (example_index, window_example, prediction) triples, in any order, maybe duplicated.

    Returns:
        (examples, predictions) for every example that has predictions, in index order.
    """
    parts: dict[int, dict[int, tuple[dict, Any]]] = {}
    for index, window, pred in stash:
        start = window.get("_window", (0, 0))[0]
        parts.setdefault(index, {})[start] = (window, pred)
    out_examples, out_preds = [], []
    for index in sorted(parts):
        windows = [parts[index][s] for s in sorted(parts[index])]
        example = examples[index]
        if len(windows) == 1 and "_window" not in windows[0][0]:
            pred = windows[0][1]
        else:
            pred = head.merge(example, windows)
        out_examples.append(example)
        out_preds.append(pred)
    return out_examples, out_preds
