"""The contracts between the core and its plugins: registrations, Protocols and typed outputs.

Everything the core may ask of a plugin is declared here. The core calls the methods below; it
probes nothing else. Optional capabilities are listed in ``OPTIONAL`` and asked for only through
:func:`has`.

**Registrations.** An entry point (``zhnlp.encoders`` / ``zhnlp.heads`` / ``zhnlp.datasets``)
names an :class:`EncoderSpec`, :class:`HeadSpec` or :class:`DatasetSpec`; a config selects it by
that name (``encoder: {name: char, ...}``) and carries only the builder's parameters.

**Examples** are plain dicts produced by a dataset reader. Keys every reader sets:
    text   (str)  the original string, never normalised
    _file  (str)  path it came from,  _line (int) 1-based line where it starts (for error messages)
and the gold of its ``label_kind``:
    entities   entities: list of {"type", "start", "end", "text"}; end exclusive, so
               text[start:end] == entity["text"] (offsets into the ORIGINAL string)
    label      label: str (single-label) or list[str] (multi-label); optional text_b: str
    keywords   keywords: list[str]
A reader may add more keys (``id``, ``_classes`` ...); keys starting with ``_`` are bookkeeping.

**Encodings** are what ``encoder.tokenizer(texts, return_offsets_mapping=True)`` returns: per
text, lists of equal length T (``input_ids``, ``attention_mask``, optional ``token_type_ids`` and
any extra per-token feature ids such as ``bigram_ids``) plus ``offset_mapping``: one (start, end)
char span per token, (0, 0) for special tokens.

**Batches** (what the collate function yields) hold every per-token encoding key padded to
(B, T) as a LongTensor (0 = padding), every head target padded with -100 (ints) or 0.0 (floats)
along each dimension, ``encoder_keys`` (the encoding keys, in order), ``examples`` / ``offsets``
(the per-row example dicts and offset lists) and ``index`` (B,) (each row's example position).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence, runtime_checkable

if TYPE_CHECKING:  # no torch import at run time: `zhnlp plugins` and `--help` stay fast
    import torch

Example = dict[str, Any]
Batch = dict[str, Any]

LABEL_KINDS = ("entities", "label", "keywords")


# ---- typed outputs -------------------------------------------------------------------------------
@dataclass
class ModelOutput:
    """What a head's ``forward`` (and a whole model's) returns.

    Attributes:
        loss: scalar training loss; None when the batch carries no targets.
        scores: the tensor the head decodes from, e.g. class logits (B, K), tag emissions
            (B, T, K) or span scores (B, L, T, T). R-Drop compares the scores of two passes.
        scores_mask: bool mask of the scores that count: broadcastable to ``scores`` without its
            last axis (softmax scores) or to ``scores`` itself (``binary``); None: all of them.
        binary: ``scores`` are independent logits (sigmoid per element) rather than a softmax
            over the last axis.
        members: for an ensemble, each member's output (``loss`` is then their mean).
    """

    loss: torch.Tensor | None
    scores: torch.Tensor | None = None
    scores_mask: torch.Tensor | None = None
    binary: bool = False
    members: list["ModelOutput"] = field(default_factory=list)


@dataclass
class GraphPart:
    """A head's exportable tensor part (``Head.export_part``).

    Attributes:
        module: ``module(hidden (B,T,H), attention_mask (B,T)) -> Tensor``, traceable by
            ``torch.jit.trace`` (a CRF may ``torch.jit.script`` its decoder inside).
        output: the graph output's name, e.g. ``"tags"`` or ``"probs"``.
        axes: its dynamic axes, e.g. ``{0: "batch", 1: "seq"}``.
    """

    module: Any
    output: str = "output"
    axes: dict = field(default_factory=lambda: {0: "batch"})


# ---- what the core asks of components --------------------------------------------------------------
@runtime_checkable
class Encoder(Protocol):
    """An ``nn.Module`` turning token ids into hidden states.

    Attributes:
        hidden_size: width H of the output.
        tokenizer: called like a transformers tokenizer (a text or a list of texts, optional
            second texts, ``return_offsets_mapping=True``); returns the encoding keys above.
        max_length: the longest token sequence ``forward`` accepts.
        num_special_tokens: tokens the tokenizer adds around one text (2 for [CLS] ... [SEP],
            0 for the char encoders); long texts are cut into windows of
            ``max_length - num_special_tokens`` characters.

    ``forward(input_ids (B,T), attention_mask (B,T), token_type_ids=None, **features) -> (B,T,H)``.

    Optional (see ``OPTIONAL["encoder"]``):
        fit(texts) -> Any                   build vocabularies from the training texts before
                                            tokenizing (from-scratch encoders); the vocabulary
                                            must travel in ``state_dict`` (``get_extra_state``)
        save_assets(directory) -> dict      write the files that rebuild the module offline and
                                            without weights (config.json, vocab.txt ...); return
                                            the builder kwargs that point at them
        layer_groups() -> list[list[Parameter]]   bottom-to-top groups (embeddings first) for
                                            layer-wise LR decay
        input_embeddings() -> list[Parameter]    the token-embedding tables adversarial training
                                            perturbs (default: every nn.Embedding of >= 64 rows)
        masked_lm() -> MaskedLM             the encoder with a masked-LM head (``zhnlp pretrain``)
        export_module() -> nn.Module | None  on the encoder or any of its submodules: an equivalent
                                            module that onnxruntime runs faster, traced instead by
                                            ``zhnlp export`` (None: keep this one, look inside)
    """

    hidden_size: int
    tokenizer: Callable[..., dict]
    max_length: int
    num_special_tokens: int

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **kwargs: Any) -> torch.Tensor: ...


@runtime_checkable
class Head(Protocol):
    """An ``nn.Module`` built as ``builder(hidden_size=H, labels=[...], **config)``.

    Attributes:
        main_metric: the metric to monitor, e.g. ``"f1"`` or ``"acc"`` (higher is better).

    Methods:
        targets(example, encoding) -> dict     training targets for one example (tensors or
                                               ints); raise DataError for gold that cannot work
        forward(hidden (B,T,H), batch) -> ModelOutput    ``loss`` set when targets are in batch
        predict(hidden (B,T,H), batch) -> list one prediction per row, in ORIGINAL char offsets;
                                               JSON-serialisable
        evaluate(predictions, examples) -> dict[str, float]   flat metrics incl. ``main_metric``

    Optional (see ``OPTIONAL["head"]``):
        fit(train_examples) -> None            see the training examples once before training
        split(example, max_chars) -> list[example]        windows of a text too long for the
        merge(example, [(window, prediction)]) -> prediction  encoder, and merging them back
                                               (see ``zhnlp.windows``); without them long texts are
                                               truncated
        truncate(encoding, max_length) -> encoding        how to cut an over-long encoding
        combine(predictions, weights, heads, vote) -> prediction   one example's ensemble
                                               prediction from its members' (``heads``: theirs;
                                               ``vote``: the weighted share a set-valued item needs,
                                               strictly more than); default: weighted majority vote
        export_part(batch) -> GraphPart        the tensor part of ``predict`` for ONNX (``batch``: a
                                               sample batch, e.g. to resolve an automatic option)
        predict_from_export(output, batch) -> list        the rest of ``predict`` on its output
        param_groups() -> dict[str, list[Parameter]]      named groups for ``optim.group_lr``
        report(metrics) -> str                 a printable table of ``evaluate``'s metrics
        artifacts(predictions, examples, run_dir) -> list[str]   extra files for the run folder
        output_formats: dict[str, (example, prediction) -> dict]  ``zhnlp predict --format``
        data_counts() -> dict[str, float]      counts about the gold its ``targets`` saw (e.g.
                                               entities widened to token boundaries or left out),
                                               written to metrics.json as ``data/<name>``
    """

    main_metric: str

    def targets(self, example: Example, encoding: dict) -> dict: ...

    def forward(self, hidden: torch.Tensor, batch: Batch) -> ModelOutput: ...

    def predict(self, hidden: torch.Tensor, batch: Batch) -> list: ...

    def evaluate(self, predictions: list, examples: list[Example]) -> dict[str, float]: ...


class DatasetReader(Protocol):
    """``reader(path, key) -> list[Example]``; ``key`` is the config key of the split being read
    (e.g. ``"data.dev_path"``), for messages that name the override to fix. Raise
    ``DataError(path, line, msg)`` for malformed input."""

    def __call__(self, path: str, key: str) -> list[Example]: ...


@runtime_checkable
class MaskedLM(Protocol):
    """An encoder with its masked-LM head, for ``zhnlp pretrain``.

    ``forward(input_ids (B,T), attention_mask (B,T)) -> logits (B, T, V)``;
    ``save_pretrained(directory)`` writes the weights (encoder and MLM head) so that the encoder's
    builder loads them with ``pretrained=directory``; ``head_keys_loaded`` counts the MLM-head
    tensors that came from the start checkpoint (0: a fresh head).
    """

    head_keys_loaded: int

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor: ...

    def save_pretrained(self, directory: str | Path) -> None: ...


OPTIONAL = {
    "encoder": ("fit", "save_assets", "layer_groups", "input_embeddings", "masked_lm", "export_module"),
    "head": ("fit", "split", "merge", "truncate", "combine", "export_part", "predict_from_export",
             "param_groups", "report", "artifacts", "output_formats", "data_counts"),
}
REQUIRED = {
    "encoder": ("hidden_size", "tokenizer", "max_length", "num_special_tokens", "forward"),
    "head": ("main_metric", "targets", "forward", "predict", "evaluate"),
}


def has(component: Any, capability: str) -> bool:
    """Whether ``component`` offers the optional ``capability`` declared in ``OPTIONAL``."""
    if not any(capability in names for names in OPTIONAL.values()):
        raise KeyError(f"{capability!r} is not a declared optional capability")
    return getattr(component, capability, None) is not None


def missing(component: Any, kind: str) -> list[str]:
    """The required attributes of ``kind`` (``encoder`` / ``head``) that ``component`` lacks."""
    return [name for name in REQUIRED[kind] if getattr(component, name, None) is None]


# ---- registrations -------------------------------------------------------------------------------
@dataclass(frozen=True)
class EncoderSpec:
    """What an entry point in ``zhnlp.encoders`` names.

    Attributes:
        build: ``build(**config) -> Encoder``; its keyword parameters are the config keys.
        example_kwargs: ``example_kwargs(tmp_dir) -> dict``: builder kwargs for a tiny instance
            the contract tests can build offline (e.g. a tiny checkpoint written to ``tmp_dir``).
        description: one line for ``zhnlp plugins``.
    """

    build: Callable[..., Any]
    example_kwargs: Callable[[Path], dict] | None = None
    description: str = ""


@dataclass(frozen=True)
class HeadSpec:
    """What an entry point in ``zhnlp.heads`` names.

    Attributes:
        build: ``build(hidden_size, labels, **config) -> Head``.
        task: the task it serves (``ner``, ``classify``, ``keywords`` ...): ``task=X`` configs
            accept only heads of task X.
        label_kind: the gold it learns from (one of ``LABEL_KINDS``, or a plugin's own kind);
            it trains only on datasets of the same kind.
        collect_labels: ``collect_labels(train_examples) -> labels``, the ``labels`` the core
            passes to ``build``.
        example_data: a bundled ``data=`` config the contract tests train it on.
        description: one line for ``zhnlp plugins``.
    """

    build: Callable[..., Any]
    task: str
    label_kind: str
    collect_labels: Callable[[Sequence[Example]], list[str]]
    example_data: str
    description: str = ""


@dataclass(frozen=True)
class DatasetSpec:
    """What an entry point in ``zhnlp.datasets`` names (``data: {name: NAME, reader: {...}}``).

    Attributes:
        build: ``build(**config.reader) -> DatasetReader``.
        label_kind: the gold its examples carry (see ``HeadSpec.label_kind``); None: any kind
            (readers of stored examples, such as the cross-validation fold files).
        description: one line for ``zhnlp plugins``.
    """

    build: Callable[..., Any]
    label_kind: str | None
    description: str = ""


SPEC_TYPES = {"encoders": EncoderSpec, "heads": HeadSpec, "datasets": DatasetSpec}
