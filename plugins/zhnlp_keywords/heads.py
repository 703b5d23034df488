"""The ``keyword_tagger`` head: its public builder and its registration (entry point in ``zhnlp.heads``)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from zhnlp.types import HeadSpec
from zhnlp_keywords.occurrences import KEYWORD_TYPE

if TYPE_CHECKING:  # the head (torch, jieba) loads when it is built, not when the spec is read
    from zhnlp_keywords.tagger_head import KeywordTaggerHead


def collect_keyword_labels(examples: Sequence[dict]) -> list[str]:
    """``["KW"]`` when any example has gold keywords (or keyword entities), else ``[]``."""
    return [KEYWORD_TYPE] if any(ex.get("keywords") or ex.get("entities") for ex in examples) else []


def build_keyword_tagger(
    hidden_size: int,
    labels: Sequence[str] = ("KW",),
    lstm_layers: int = 1,
    lstm_hidden: int = 128,
    dropout: float = 0.1,
    reduction: str = "mean",
    window_overlap: int = 64,
    max_span_tokens: int = 24,
    min_prob: float = 0.01,
    aggregate: str = "noisy_or",
    word_features: bool = True,
) -> "KeywordTaggerHead":
    """Keyword extraction as BIO tagging of keyword occurrences with a CRF, ranked by span marginals.

    Args:
        hidden_size: encoder output size.
        labels: ``["KW"]`` (what ``collect_labels`` returns); anything else is a ConfigError.
        lstm_layers: BiLSTM layers between encoder and emissions (0: none, usual with BERT).
        lstm_hidden: hidden size per LSTM direction.
        dropout: dropout on the encoder output (before the BiLSTM) and before the emissions.
        reduction: CRF log-likelihood reduction: ``mean``, ``sum`` or ``token_mean``.
        window_overlap: char overlap of windows for texts longer than the encoder accepts.
        max_span_tokens: longest keyword considered at prediction time, in tokens.
        min_prob: spans whose CRF marginal probability is below this are not candidates.
        aggregate: how occurrences of one keyword combine: ``noisy_or``, ``max`` or ``sum``.
        word_features: append per-token document features of the token's jieba word (term
            frequency, IDF, first / last position, noun POS, length; see
            :mod:`zhnlp_keywords.features`) to the encoder states.

    Returns:
        the head; ``predict`` gives ``[(keyword, score), ...]`` per text, ``evaluate`` gives
        ``p@k``/``r@k``/``f1@k`` for k = 3, 5, 10; ``main_metric`` is ``f1@5``.
    """
    from zhnlp_keywords.tagger_head import KeywordTaggerHead

    return KeywordTaggerHead(hidden_size, labels, lstm_layers=lstm_layers, lstm_hidden=lstm_hidden,
                             dropout=dropout, reduction=reduction, window_overlap=window_overlap,
                             max_span_tokens=max_span_tokens, min_prob=min_prob, aggregate=aggregate,
                             word_features=word_features)


keyword_tagger = HeadSpec(
    build=build_keyword_tagger, task="keywords", label_kind="keywords", collect_labels=collect_keyword_labels,
    example_data="sample_keywords",
    description="supervised keyword extraction: BIO-CRF over keyword occurrences, ranked by CRF span marginals",
)
