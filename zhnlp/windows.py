"""Overlapping char windows for texts longer than the encoder accepts, and merging back.

Windows have ``max_chars`` chars and overlap by ``overlap`` chars (the last window is aligned to
the end of the text, so its overlap may be larger). Every char is *owned* by the window in which
it is most central: between two neighbouring windows the cut lies at the middle of their overlap.
An entity predicted in a window is kept only when that window owns its first char, so nothing
is duplicated; an entity of at most ``overlap // 2`` chars always lies wholly inside the window
that owns its start, so nothing that short is lost.
"""
from __future__ import annotations

from typing import Any, Sequence


def window_bounds(length: int, max_chars: int, overlap: int) -> list[tuple[int, int]]:
    """[start, end) char windows covering ``length`` chars.

    Args:
        length: text length.
        max_chars: window size (>= 1).
        overlap: requested overlap; clipped to ``max_chars // 2``.

    Returns:
        windows in order; one window when the text fits.
    """
    if length <= max_chars:
        return [(0, length)]
    overlap = max(0, min(overlap, max_chars // 2))
    stride = max_chars - overlap
    bounds = []
    start = 0
    while start + max_chars < length:
        bounds.append((start, start + max_chars))
        start += stride
    bounds.append((length - max_chars, length))
    return bounds


def split_example(example: dict, max_chars: int, overlap: int) -> list[dict]:
    """Cut a long example into window examples.

    Each window is a copy of ``example`` with ``text`` = the window substring, ``entities``
    shifted to window offsets (only those wholly inside are kept) and ``_window`` = (start, end)
    in the original text. A text that fits is returned as ``[example]`` unchanged.
    """
    text = example["text"]
    bounds = window_bounds(len(text), max_chars, overlap)
    if len(bounds) == 1:
        return [example]
    out = []
    for ws, we in bounds:
        window = {k: v for k, v in example.items() if k not in ("text", "entities")}
        window["text"] = text[ws:we]
        window["_window"] = (ws, we)
        if "entities" in example:
            window["entities"] = [
                {**e, "start": e["start"] - ws, "end": e["end"] - ws}
                for e in example["entities"]
                if e["start"] >= ws and e["end"] <= we
            ]
        out.append(window)
    return out


def ownership_cuts(bounds: Sequence[tuple[int, int]]) -> list[int]:
    """Boundaries between owned regions: window i owns chars in [cuts[i], cuts[i + 1])."""
    cuts = [bounds[0][0]]
    for (_, prev_end), (next_start, _) in zip(bounds, bounds[1:]):
        cuts.append((next_start + prev_end) // 2 if next_start < prev_end else next_start)
    cuts.append(bounds[-1][1])
    return cuts


def merge_predictions(example: dict, parts: Sequence[tuple[dict, Sequence[dict]]]) -> list[dict]:
    """Merge per-window entity predictions back into offsets of ``example["text"]``.

    Args:
        example: the original (unsplit) example.
        parts: (window example with ``_window``, its predicted entities in window offsets).

    Returns:
        entity dicts sorted by (start, end, type), each predicted by the window owning its start.
    """
    text = example["text"]
    parts = sorted(parts, key=lambda part: tuple(part[0].get("_window", (0, len(text)))))
    bounds = [tuple(window.get("_window", (0, len(text)))) for window, _ in parts]
    cuts = ownership_cuts(bounds)
    merged: dict[tuple[int, int, str], dict[str, Any]] = {}
    for i, ((ws, _), (_, pred)) in enumerate(zip(bounds, parts)):
        for ent in pred:
            start, end = ent["start"] + ws, ent["end"] + ws
            if cuts[i] <= start < cuts[i + 1]:
                merged[(start, end, ent["type"])] = {**ent, "start": start, "end": end, "text": text[start:end]}
    return [merged[key] for key in sorted(merged)]
