"""The contracts between the core and its plugins: small Protocols, no base classes.

An *example* is a plain dict produced by a dataset reader. Keys every reader sets:
    text   (str)  the original string, never normalised
    _file  (str)  path it came from,  _line (int) 1-based line where it starts (for error messages)
Task keys, by convention:
    NER:            entities: list of {"type", "start", "end", "text"}; end is exclusive, so
                    text[start:end] == entity["text"] (offsets into the ORIGINAL string)
    classification: label: str (single-label) or list[str] (multi-label); optional text_b: str

An *encoding* is what ``encoder.tokenizer(text, return_offsets_mapping=True)`` returns for one
text: lists of equal length T (``input_ids``, ``attention_mask``, optional ``token_type_ids`` and any
extra per-token feature ids such as ``bigram_ids``) plus ``offset_mapping``: one (start, end)
char span per token, (0, 0) for special tokens.

A *batch* (what the collate function yields) holds every per-token encoding key padded to
(B, T) as a LongTensor (0 = padding), every head target padded with -100 (ints) or 0.0 (floats)
along each dimension, and ``examples`` / ``offsets``: the per-row example dicts and offset lists.
"""
from __future__ import annotations

from typing import Any, Callable, Protocol, runtime_checkable

import torch

Example = dict[str, Any]
Batch = dict[str, Any]


@runtime_checkable
class Encoder(Protocol):
    """What a head and the core need from an encoder.

    ``forward(input_ids, attention_mask, token_type_ids=None, **features)`` returns last hidden
    states ``(B, T, hidden_size)``: the tensor itself or an object / dict with
    ``last_hidden_state``.

    Optional methods the core calls when present:
        fit(texts: list[str]) -> None        build a vocabulary from training texts (from-scratch
                                             encoders); the vocabulary must travel in
                                             ``state_dict`` (use ``get_extra_state``)
        save_assets(directory: str) -> dict  write what is needed to rebuild the module without
                                             weights and without network (config.json, vocab.txt);
                                             return the builder kwargs that point at them
        max_length: int                      longest sequence the encoder accepts (tokens)
        layer_groups() -> list[list[Parameter]]  bottom-to-top groups for layer-wise LR decay
                                             and freezing (embeddings first)
    """

    hidden_size: int
    tokenizer: Callable[..., dict]

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **kwargs) -> Any: ...


@runtime_checkable
class Head(Protocol):
    """A task head. Built by its builder with ``hidden_size`` and ``labels`` (the task's label
    set: entity types for NER, classes for classification) as call arguments.

    main_metric   name of the metric to monitor, e.g. "f1" or "acc" (higher is better)
    collect_labels(examples) -> list[str]     the label set found in these examples
    targets(example, encoding) -> dict        training targets for one example (tensors or ints);
                                              raise DataError for gold that cannot be aligned
    forward(hidden (B,T,H), batch) -> dict     at least {"loss": scalar} when targets are in batch
    predict(hidden (B,T,H), batch) -> list    one prediction per row, in ORIGINAL char offsets
    evaluate(predictions, examples) -> dict   flat {metric: float}; contains ``main_metric``
    """

    main_metric: str

    def collect_labels(self, examples: list[Example]) -> list[str]: ...

    def targets(self, example: Example, encoding: dict) -> dict: ...

    def forward(self, hidden: torch.Tensor, batch: Batch) -> dict: ...

    def predict(self, hidden: torch.Tensor, batch: Batch) -> list: ...

    def evaluate(self, predictions: list, examples: list[Example]) -> dict[str, float]: ...


class DatasetReader(Protocol):
    """``reader(path) -> list[Example]``. Raise DataError(path, line, msg) for malformed input."""

    def __call__(self, path: str) -> list[Example]: ...


def last_hidden(output: Any) -> torch.Tensor:
    """Normalise an encoder's return value to the (B, T, H) tensor."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, dict):
        return output["last_hidden_state"]
    return output.last_hidden_state
