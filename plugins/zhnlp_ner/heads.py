"""Public builders and registrations of the NER heads (entry points ``crf``, ``softmax``,
``global_pointer``: :class:`zhnlp.HeadSpec` objects).

Each spec's ``collect_labels`` (the sorted entity types of the training examples) gives the
``labels`` the core passes to the builder.

Line breaks: by default (``split_newlines: true``) no predicted entity contains a line break
(``\\n``, ``\\r``, U+2028 ... : what ``str.splitlines`` breaks at). BERT-style tokenizers drop
whitespace, so a tagger never sees the newline between two lines, and the char encoders turn it
into the same ``[SPACE]`` token as a space: a tag path running through it would join the end of
one line and the start of the next into one entity. The tagging heads therefore cut a decoded
entity at each line break (both pieces keep the type: two entities where both sides are tagged);
the span head rules out the spans that cross one before picking its best spans.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from zhnlp.types import HeadSpec
from zhnlp_ner.labels import collect_entity_types

if TYPE_CHECKING:  # the modules with torch load when a head is built, not when the specs are read
    from zhnlp_ner.crf import CrfHead
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
    split_newlines: bool = True,
    boundary: str = "snap",
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
        split_newlines: cut every decoded entity at the line breaks of its text (a path through
            ``北京\\n大学`` gives ``北京`` and ``大学``); False keeps the decoded spans as they are.
        boundary: a gold entity whose boundary falls inside a token (``北京`` in the SentencePiece
            piece ``在北京``): ``snap`` widens it to the tokens containing it, ``drop`` leaves it out
            of the targets; both are counted (a warning, ``data/entities_*`` in metrics.json).

    Returns:
        the head; ``param_groups()`` returns ``{"crf": ...}`` for ``optim.group_lr.crf``.
    """
    from zhnlp_ner.crf import CrfHead

    return CrfHead(hidden_size, labels, scheme=scheme, lstm_layers=lstm_layers, lstm_hidden=lstm_hidden,
                   dropout=dropout, reduction=reduction, window_overlap=window_overlap, split_newlines=split_newlines,
                   boundary=boundary)


def build_softmax(
    hidden_size: int,
    labels: Sequence[str],
    scheme: str = "BIO",
    dropout: float = 0.1,
    window_overlap: int = 64,
    label_smoothing: float = 0.0,
    split_newlines: bool = True,
    boundary: str = "snap",
) -> SoftmaxHead:
    """Per-token softmax tagging head (argmax decoding with conlleval repairs).

    Args:
        hidden_size: encoder output size.
        labels: entity types.
        scheme: ``BIO`` or ``BIOES``.
        dropout: dropout on the encoder output.
        window_overlap: char overlap of windows for long texts.
        label_smoothing: cross-entropy label smoothing in [0, 1).
        split_newlines: cut every decoded entity at the line breaks of its text (as ``crf``).
        boundary: ``snap`` or ``drop`` (as ``crf``).

    Returns:
        the head.
    """
    from zhnlp_ner.softmax import SoftmaxHead

    return SoftmaxHead(hidden_size, labels, scheme=scheme, dropout=dropout, window_overlap=window_overlap,
                       label_smoothing=label_smoothing, split_newlines=split_newlines, boundary=boundary)


def build_global_pointer(
    hidden_size: int,
    labels: Sequence[str],
    head_size: int = 64,
    rope: bool = True,
    dropout: float = 0.1,
    window_overlap: int = 64,
    split_newlines: bool = True,
    boundary: str = "snap",
) -> GlobalPointerHead:
    """GlobalPointer span head (handles nested entities).

    Args:
        hidden_size: encoder output size.
        labels: entity types.
        head_size: per-type start/end projection size (even).
        rope: rotate projections with RoPE (relative position awareness).
        dropout: dropout on the encoder output.
        window_overlap: char overlap of windows for long texts.
        split_newlines: never decode a span that crosses a line break (nor one on a token that
            holds one); the spans within each line are scored on their own.
        boundary: ``snap`` or ``drop`` (as ``crf``).

    Returns:
        the head.
    """
    from zhnlp_ner.global_pointer import GlobalPointerHead

    return GlobalPointerHead(hidden_size, labels, head_size=head_size, rope=rope, dropout=dropout,
                             window_overlap=window_overlap, split_newlines=split_newlines, boundary=boundary)


crf = HeadSpec(build=build_crf, task="ner", label_kind="entities", collect_labels=collect_entity_types,
               example_data="sample_ner", description="CRF tagger: [BiLSTM] + linear emissions + constrained Viterbi")
softmax = HeadSpec(build=build_softmax, task="ner", label_kind="entities", collect_labels=collect_entity_types,
                   example_data="sample_ner", description="per-token softmax tagger (argmax with conlleval repairs)")
global_pointer = HeadSpec(build=build_global_pointer, task="ner", label_kind="entities",
                          collect_labels=collect_entity_types, example_data="sample_ner",
                          description="GlobalPointer span scorer (nested entities)")
