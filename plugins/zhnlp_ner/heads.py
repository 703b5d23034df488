"""Public builders of the NER heads (entry points ``crf``, ``softmax``, ``global_pointer``).

Each builder carries ``collect_labels(examples) -> sorted entity types``: the core calls it on
the training examples and passes the result as ``labels``.
"""
from __future__ import annotations

from typing import Sequence

from zhnlp_ner.common import collect_entity_types
from zhnlp_ner.crf import CrfHead
from zhnlp_ner.crf_branches import BranchCrfHead
from zhnlp_ner.global_pointer import GlobalPointerHead
from zhnlp_ner.softmax import SoftmaxHead


def build_crf(
    hidden_size: int,
    labels: Sequence[str],
    scheme: str = "BIO",
    lstm_layers: int = 0,
    lstm_hidden: int = 256,
    dropout: float = 0.1,
    reduction: str = "mean",
    window_overlap: int = 64,
    branches: int = 1,
) -> CrfHead:
    """CRF tagging head (optional BiLSTM, linear emissions, linear-chain CRF).

    Args:
        hidden_size: encoder output size.
        labels: entity types.
        scheme: head tagging scheme, ``BIO`` or ``BIOES`` (independent of the file format).
        lstm_layers: BiLSTM layers between encoder and emissions; 0 disables it.
        lstm_hidden: hidden size per LSTM direction.
        dropout: dropout on the encoder output (and between LSTM layers).
        reduction: CRF log-likelihood reduction: ``mean`` (per sequence), ``sum`` or ``token_mean``.
        window_overlap: char overlap of windows for texts longer than the encoder accepts.
        branches: K > 1 splits the hidden states into K equal slices (an encoder of K branches,
            e.g. ``bilstm`` with ``branches: K``), gives each its own emissions + CRF trained on
            its own likelihood, and decodes with the mean of their scores (a K-model ensemble).

    Returns:
        the head; ``param_groups()`` returns ``{"crf": ...}`` for ``optim.group_lr.crf``.
    """
    kwargs = dict(scheme=scheme, lstm_layers=lstm_layers, lstm_hidden=lstm_hidden, dropout=dropout,
                  reduction=reduction, window_overlap=window_overlap)
    if int(branches) != 1:
        return BranchCrfHead(hidden_size, labels, branches, **kwargs)
    return CrfHead(hidden_size, labels, **kwargs)


def build_softmax(
    hidden_size: int,
    labels: Sequence[str],
    scheme: str = "BIO",
    dropout: float = 0.1,
    window_overlap: int = 64,
    label_smoothing: float = 0.0,
) -> SoftmaxHead:
    """Per-token softmax tagging head (argmax decoding with conlleval repairs).

    Args:
        hidden_size: encoder output size.
        labels: entity types.
        scheme: ``BIO`` or ``BIOES``.
        dropout: dropout on the encoder output.
        window_overlap: char overlap of windows for long texts.
        label_smoothing: cross-entropy label smoothing in [0, 1).

    Returns:
        the head.
    """
    return SoftmaxHead(hidden_size, labels, scheme=scheme, dropout=dropout, window_overlap=window_overlap,
                       label_smoothing=label_smoothing)


def build_global_pointer(
    hidden_size: int,
    labels: Sequence[str],
    head_size: int = 64,
    rope: bool = True,
    dropout: float = 0.1,
    window_overlap: int = 64,
) -> GlobalPointerHead:
    """GlobalPointer span head (handles nested entities).

    Args:
        hidden_size: encoder output size.
        labels: entity types.
        head_size: per-type start/end projection size (even).
        rope: rotate projections with RoPE (relative position awareness).
        dropout: dropout on the encoder output.
        window_overlap: char overlap of windows for long texts.

    Returns:
        the head.
    """
    return GlobalPointerHead(hidden_size, labels, head_size=head_size, rope=rope, dropout=dropout,
                             window_overlap=window_overlap)


build_crf.collect_labels = collect_entity_types
build_softmax.collect_labels = collect_entity_types
build_global_pointer.collect_labels = collect_entity_types

# The bundled data each head trains on in the shared contract tests (a data= config name).
build_crf.example_data = build_softmax.example_data = build_global_pointer.example_data = "sample_ner"
