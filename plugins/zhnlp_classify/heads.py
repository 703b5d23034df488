"""The ``classification`` head's registration: builder, label collection and spec (light: no torch;
the head itself, :class:`~zhnlp_classify.classifier.ClassificationHead`, loads when it is built)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from zhnlp.types import HeadSpec

if TYPE_CHECKING:
    from zhnlp_classify.classifier import ClassificationHead


def as_list(label: Any) -> list[str]:
    """A label (str) or labels (list) as a list of strings."""
    return [str(x) for x in label] if isinstance(label, (list, tuple)) else [str(label)]


def collect_labels(examples: Sequence[dict]) -> list[str]:
    """The label set of ``examples``: the ``_classes`` order when the reader gave one (labels not
    in it are appended, sorted), else all labels sorted. Multi-label lists are flattened."""
    found = {lab for ex in examples if "label" in ex for lab in as_list(ex["label"])}
    classes = next((ex["_classes"] for ex in examples if ex.get("_classes")), None)
    if classes is not None:
        classes = [str(c) for c in classes]
        return classes + sorted(found - set(classes))
    return sorted(found)


def build_classification(
    hidden_size: int,
    labels: Sequence[str],
    mode: str = "single",
    pooling: str = "auto",
    dropout: float = 0.1,
    label_smoothing: float = 0.0,
    class_weights: str | Sequence[float] | None = None,
    pair_mode: str = "joint",
    attention_dim: int = 128,
    truncation: str = "head",
    head_fraction: float = 0.25,
    top_k: int = 3,
    threshold: float = 0.5,
    tune_thresholds: bool = True,
    main_metric: str | None = None,
    hidden_dim: int | None = None,
) -> "ClassificationHead":
    """Text / sentence-pair classification head (single- or multi-label).

    Args:
        hidden_size: width H of the encoder output (passed by the core).
        labels: the label set (passed by the core, from :func:`collect_labels`).
        mode: ``single`` (softmax) or ``multi`` (sigmoid, per-label thresholds).
        pooling: ``auto`` | ``cls`` | ``mean`` | ``max`` | ``attention`` | ``max_mean`` (max and
            mean concatenated) over real tokens.
        dropout: dropout on the pooled features.
        label_smoothing: CE label smoothing (multi: BCE targets pulled towards 0.5 by this much).
        class_weights: ``null``, ``balanced`` or one weight per label.
        pair_mode: ``joint`` | ``siamese`` | ``interaction`` for sentence pairs.
        attention_dim: width of the attention-pooling scorer.
        truncation: over-long inputs keep the ``head``, the ``tail`` or ``head+tail`` of the text.
        head_fraction: share of the kept tokens taken from the start for ``head+tail``.
        top_k: how many ranked classes a single-label prediction lists in ``top_k``.
        threshold: initial per-label decision threshold (multi).
        tune_thresholds: tune the thresholds on the dev set during validation (multi).
        main_metric: metric to monitor; default ``acc`` (single) / ``micro_f1`` (multi).
        hidden_dim: if set, a ReLU layer of this width (with ``dropout`` after it) between the
            pooled features and the classifier (fastText-style); None: linear classifier.

    Returns:
        ClassificationHead.
    """
    from zhnlp_classify.classifier import ClassificationHead

    return ClassificationHead(hidden_size, labels, mode=mode, pooling=pooling, dropout=dropout,
                              label_smoothing=label_smoothing, class_weights=class_weights, pair_mode=pair_mode,
                              attention_dim=attention_dim, truncation=truncation, head_fraction=head_fraction,
                              top_k=top_k, threshold=threshold, tune_thresholds=tune_thresholds,
                              main_metric=main_metric, hidden_dim=hidden_dim)


classification = HeadSpec(
    build=build_classification, task="classify", label_kind="label", collect_labels=collect_labels,
    example_data="sample_cls",
    description="pooled encoder states + classifier: single-/multi-label, sentence pairs",
)
