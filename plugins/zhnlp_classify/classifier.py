"""The ``classification`` head: pool the encoder states, then a linear classifier.

Modes
    ``single``  one label per example: softmax cross-entropy (label smoothing, class weights).
    ``multi``   any number of labels: sigmoid + binary cross-entropy; label ``j`` is predicted when
                its probability >= ``thresholds[j]``. The thresholds start at ``threshold`` and are
                tuned per label on the dev set (see *Threshold tuning*).

Pooling (over real tokens: ``attention_mask``)
    ``cls`` first token ([CLS]); only for encodings that start with a special token
    (``offset_mapping == (0, 0)``) -- from-scratch encoders have none, and asking for it raises a
    ConfigError. ``mean``, ``max``, ``attention`` (learned additive attention), ``max_mean`` (max
    and mean concatenated: the classifier sees 2H features).
    ``auto``: ``cls`` when the encoding starts with [CLS] and ``pair_mode`` is ``joint``, else ``max``.

Sentence pairs (``text_b``)
    The core runs the encoder once on the joint input ``text [SEP] text_b`` (BERT tokenizers add
    [CLS]/[SEP] and ``token_type_ids``; the from-scratch tokenizers join with one [SEP] and give
    ``token_type_ids`` too). ``pair_mode``:
    ``joint``        pool the whole joint sequence (standard BERT sentence-pair classification).
    ``siamese``      pool segment A (``token_type_ids == 0``) and segment B (``== 1``) separately
                     with the same pooler, excluding special tokens, and classify
                     ``[u, v, |u - v|, u * v]`` (Sentence-BERT style). The encoder still saw the
                     joint sequence, so contextual encoders (BiLSTM, BERT) mix the two texts; with
                     char / word / TextCNN encoders only tokens near the [SEP] see both.
    ``interaction``  ESIM-style: each token of one segment attends over the other segment's states
                     (:class:`~zhnlp_classify.pooling.CrossAttention`), the composed states of each
                     segment are pooled and combined as for ``siamese``.

Class weights (single: per-class CE weights; multi: per-label BCE weights)
    ``null``, a list (one per label, in label order), or ``balanced``: ``n / (K * n_c)`` from the
    training label counts. The counts come from ``head.fit(train_examples)`` when the core calls
    it; otherwise from the examples of the first data file passed to ``targets`` (the core builds
    the training targets first). The weights live in a buffer, so checkpoints keep them.

Threshold tuning (multi)
    ``evaluate`` gets every label's probability in the predictions. On the first evaluation after
    the head is built (the first validation run) it records which file(s) the examples come from;
    every later evaluation on the same file(s) re-tunes each label's threshold to maximise that
    label's F1 (exact search over the sorted probabilities; labels without a positive example
    keep theirs), re-applies them to the predictions and scores. Evaluations on other files (the
    test split) only apply them. Thresholds are a buffer saved in every checkpoint; a head
    restored from a checkpoint (``zhnlp eval`` / ``predict``) never re-tunes.

Label order
    ``collect_labels`` returns the sorted label strings, or the class order carried by the
    examples as ``_classes`` (the THUCNews reader sets it from ``class.txt``).

Predictions
    single: ``{"label", "prob", "top_k": [[label, prob], ...], "probs": {label: prob}}`` (``probs``
    over every class, so that ensembles average whole distributions); multi: ``{"labels": [...],
    "probs": {label: prob}}``.

Ensembles (``members: K`` or ``zhnlp ensemble``)
    ``combine`` averages the members' ``probs`` (weighted). Single: label, prob and ``top_k`` come
    from the average. Multi: a label is predicted when its average reaches the average of the
    members' thresholds (0.5 for a head without). Thresholds tuned on an in-run ensemble's
    combined probabilities are given to every member, so that average is the tuned value.

ONNX export
    ``export_part`` is the pooled classifier with its softmax / sigmoid, (B,T,H), (B,T) -> probs
    (B,K) (``pair_mode=joint`` only: the graph cannot see the segment boundaries);
    ``predict_from_export`` turns those probabilities into predictions as ``predict`` does.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from zhnlp.errors import ConfigError, DataError
from zhnlp.types import GraphPart, ModelOutput
from zhnlp_classify.confusion import save_confusion_matrix
from zhnlp_classify.heads import as_list as _as_list, collect_labels
from zhnlp_classify.metrics import best_threshold, format_report, multi_label_metrics, single_label_metrics
from zhnlp_classify.pooling import POOLINGS, CrossAttention, Pooler, pair_features, pooled_width
from zhnlp_classify.truncation import check_strategy, truncate_encoding

MODES = ("single", "multi")
PAIR_MODES = ("joint", "siamese", "interaction")
IGNORE = -100


def _starts_with_special(offsets: Sequence[Sequence] | None) -> bool | None:
    """True when every non-empty row starts with a (0, 0) special token; None if unknown."""
    rows = [row for row in offsets or [] if len(row)]
    if not rows:
        return None
    return all(tuple(row[0]) == (0, 0) for row in rows)


class ClassificationHead(nn.Module):
    """Sequence classification head; see the module docstring and :func:`build_classification`."""

    def __init__(self, hidden_size: int, labels: Sequence[str], mode: str = "single", pooling: str = "auto",
                 dropout: float = 0.1, label_smoothing: float = 0.0, class_weights: Any = None,
                 pair_mode: str = "joint", attention_dim: int = 128, truncation: str = "head",
                 head_fraction: float = 0.25, top_k: int = 3, threshold: float = 0.5,
                 tune_thresholds: bool = True, main_metric: str | None = None, hidden_dim: int | None = None):
        super().__init__()
        self.labels = [str(x) for x in labels]
        self.index = {lab: i for i, lab in enumerate(self.labels)}
        _check_options(self.labels, mode, pooling, pair_mode, dropout, label_smoothing, top_k, threshold)
        self.mode, self.pooling, self.pair_mode = mode, pooling, pair_mode
        self.label_smoothing, self.top_k = float(label_smoothing), int(top_k)
        self.truncation, self.head_fraction = check_strategy(truncation, head_fraction), float(head_fraction)
        self.tune_thresholds = bool(tune_thresholds)
        self.main_metric = main_metric or ("acc" if mode == "single" else "micro_f1")
        self._auto_pooling: str | None = None

        k = len(self.labels)
        if hidden_dim is not None and int(hidden_dim) < 1:
            raise ConfigError(f"head.hidden_dim={hidden_dim!r}: use null (linear classifier) or a width >= 1.")
        self.dropout = nn.Dropout(dropout)
        self.pooler = Pooler(pooling, hidden_size, attention_dim)
        self.interaction = CrossAttention(hidden_size) if pair_mode == "interaction" else None
        width = pooled_width(pooling, hidden_size) * (1 if pair_mode == "joint" else 4)
        self.mlp = nn.Linear(width, int(hidden_dim)) if hidden_dim else None
        self.classifier = nn.Linear(int(hidden_dim) if hidden_dim else width, k)

        self.register_buffer("class_weight", torch.ones(k))
        self.register_buffer("thresholds", torch.full((k,), float(threshold)))
        self.register_buffer("thresholds_tuned", torch.zeros((), dtype=torch.long))
        self.weighting = _weights_option(class_weights, k)
        if self.weighting == "list":
            self.class_weight.copy_(torch.tensor([float(w) for w in class_weights]))
        self._weights_ready = self.weighting != "balanced"
        self._count_file: Any = None
        self._counts: Counter = Counter()
        self._tune_key: tuple | None = None
        self._support: dict[str, int] = {}
        self._ensemble: tuple = ()  # the other member heads of the last combine (a tuple: not submodules)
        self.output_formats = {"clue": self._clue_record}

    # ---- class weights ------------------------------------------------------------------
    def fit(self, examples: Sequence[dict]) -> None:
        """Set ``balanced`` class weights from the training examples (no-op otherwise)."""
        if self.weighting == "balanced":
            self._set_balanced(Counter(lab for ex in examples for lab in _as_list(ex["label"])))

    def _set_balanced(self, counts: Counter) -> None:
        n = torch.tensor([float(counts.get(lab, 0)) for lab in self.labels])  # (K,)
        weights = n.sum().clamp(min=1.0) / (len(self.labels) * n.clamp(min=1.0))
        self.class_weight.copy_(weights.to(self.class_weight.device))
        self._weights_ready = True

    # ---- targets ------------------------------------------------------------------------
    def targets(self, example: dict, encoding: dict) -> dict[str, torch.Tensor]:
        """``{"label": ()}`` class id (single) or ``{"labels": (K,)}`` multi-hot floats (multi)."""
        where = (example.get("_file", "<input>"), example.get("_line"))
        if self.pooling == "cls" and _starts_with_special([encoding.get("offset_mapping", [])]) is False:
            raise ConfigError(_CLS_ERROR)
        if self.pair_mode != "joint" and not example.get("text_b"):
            raise DataError(*where, f"head.pair_mode={self.pair_mode} needs sentence pairs, but this example has no "
                                    f"text_b. Configure the reader's second-text column, or use head.pair_mode=joint.")
        labels = _as_list(example["label"])
        if self.mode == "single" and isinstance(example["label"], (list, tuple)):
            raise DataError(*where, f"multi-label example {example['label']!r} but head.mode=single. Use head.mode=multi.")
        self._check_known(labels, where)
        if not self._weights_ready:
            if self._count_file is None:
                self._count_file = example.get("_file")
            if example.get("_file") == self._count_file:
                self._counts.update(labels)
        if self.mode == "single":
            return {"label": torch.tensor(self.index[labels[0]], dtype=torch.long)}
        hot = torch.zeros(len(self.labels))
        hot[[self.index[lab] for lab in labels]] = 1.0
        return {"labels": hot}

    def _check_known(self, labels: Sequence[str], where: tuple, only_raw_ids: bool = False) -> None:
        """DataError for gold labels outside the label set; raw class ids get the class-file hint.
        ``only_raw_ids``: raise only for those (evaluation counts other unknown gold as wrong)."""
        unknown = [lab for lab in labels if lab not in self.index]
        if not unknown:
            return
        raw_ids = all(lab.isdigit() for lab in unknown) and not all(lab.isdigit() for lab in self.labels)
        if only_raw_ids and not raw_ids:
            return
        hint = (" They look like raw class ids: the reader found no class file for this data file (THUCNews looks "
                "for class.txt beside it); set data.reader.classes_path=/path/to/class.txt.") if raw_ids else ""
        raise DataError(*where, f"label(s) {unknown} are not in the head's label set {self.labels}.{hint}")

    # ---- model --------------------------------------------------------------------------
    def pooling_kind(self, batch: dict) -> str:
        """The pooling used for this batch (``auto`` resolved once, ``cls`` checked)."""
        if self.pooling == "cls":
            if _starts_with_special(batch.get("offsets")) is False:
                raise ConfigError(_CLS_ERROR)
            return "cls"
        if self.pooling != "auto":
            return self.pooling
        if self._auto_pooling is None:
            starts = _starts_with_special(batch.get("offsets"))
            if starts is None:
                return "max"
            self._auto_pooling = "cls" if starts and self.pair_mode == "joint" else "max"
        return self._auto_pooling

    def segment_masks(self, batch: dict, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T) masks of the first and second text's ordinary tokens (specials left out)."""
        types = batch.get("token_type_ids")
        if types is None:
            raise ConfigError(f"head.pair_mode={self.pair_mode} needs token_type_ids to tell the two texts apart, "
                              f"and this encoder's tokenizer gives none. Use head.pair_mode=joint.")
        types = types.to(mask.device)
        real = mask & ~_special_mask(batch, mask)
        return real & (types == 0), real & (types == 1)

    def features(self, hidden: torch.Tensor, batch: dict) -> torch.Tensor:
        """Pooled features: (B, H) for ``joint``, (B, 4H) for the pair modes."""
        mask = batch["attention_mask"].to(hidden.device).bool()  # (B, T)
        kind = self.pooling_kind(batch)
        if self.pair_mode == "joint":
            return self.pooler(hidden, mask, kind)  # (B, H)
        mask_a, mask_b = self.segment_masks(batch, mask)
        if self.interaction is not None:
            hidden = self.interaction(hidden, mask_a, mask_b)  # (B, T, H)
        return pair_features(self.pooler(hidden, mask_a, kind), self.pooler(hidden, mask_b, kind))  # (B, 4H)

    def logits(self, hidden: torch.Tensor, batch: dict) -> torch.Tensor:
        """(B, K) class scores."""
        x = self.dropout(self.features(hidden, batch))  # (B, F)
        if self.mlp is not None:
            x = self.dropout(torch.relu(self.mlp(x)))  # (B, hidden_dim)
        return self.classifier(x).float()

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """(B, K) logits -> (B, K) softmax (single) / per-label sigmoid (multi) probabilities."""
        return torch.sigmoid(logits) if self.mode == "multi" else torch.softmax(logits, dim=-1)

    def loss(self, logits: torch.Tensor, batch: dict) -> torch.Tensor | None:
        """Cross-entropy (single) / BCE (multi) of (B, K) ``logits``; None without targets."""
        weight = self.class_weight if self.weighting else None
        if self.mode == "single" and "label" in batch:
            target = batch["label"].to(logits.device)  # (B,)
            return F.cross_entropy(logits, target, weight=weight, ignore_index=IGNORE,
                                   label_smoothing=self.label_smoothing)
        if self.mode == "multi" and "labels" in batch:
            target = batch["labels"].to(logits.device).float()  # (B, K)
            if self.label_smoothing:
                target = target * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
            return F.binary_cross_entropy_with_logits(
                logits, target, weight=None if weight is None else weight.unsqueeze(0).expand_as(logits))
        return None

    def forward(self, hidden: torch.Tensor, batch: dict) -> ModelOutput:
        """Class logits (B, K) as ``scores`` (``binary`` in multi mode), ``loss`` when the batch has targets."""
        if self.training and not self._weights_ready:
            self._set_balanced(self._counts)
        logits = self.logits(hidden, batch)  # (B, K)
        return ModelOutput(loss=self.loss(logits, batch), scores=logits, binary=self.mode == "multi")

    @torch.no_grad()
    def predict(self, hidden: torch.Tensor, batch: dict) -> list[dict]:
        """One prediction per row (see the module docstring)."""
        return self.from_probabilities(self.probabilities(self.logits(hidden, batch)))

    def from_probabilities(self, probs: torch.Tensor) -> list[dict]:
        """(B, K) class probabilities -> one prediction per row (multi: the thresholds applied)."""
        rows = probs.float().cpu().tolist()  # (B, K)
        if self.mode == "multi":
            preds = [{"labels": [], "probs": {lab: round(p, 6) for lab, p in zip(self.labels, row)}} for row in rows]
            self._apply_thresholds(preds)
            return preds
        return [self._single({lab: round(p, 6) for lab, p in zip(self.labels, row)}) for row in rows]

    def _single(self, probs: dict[str, float]) -> dict:
        """A single-label prediction from ``{label: prob}`` over every class: ranked by probability,
        ties in label order."""
        order = {lab: i for i, lab in enumerate([*self.labels, *sorted(set(probs) - set(self.labels))])}
        ranked = sorted(probs, key=lambda lab: (-probs[lab], order[lab]))
        top = [[lab, probs[lab]] for lab in ranked[: self.top_k]]
        return {"label": top[0][0], "prob": top[0][1], "top_k": top, "probs": probs}

    # ---- ensembles ----------------------------------------------------------------------
    def combine(self, predictions: Sequence[dict], weights: Sequence[float], heads: Sequence[Any],
                vote: float = 0.5) -> dict:
        """One example's ensemble prediction from its members' predictions.

        Args:
            predictions: the members' predictions of this example (each with ``probs``).
            weights: one non-negative weight per member.
            heads: the members' heads (their ``thresholds``, multi-label).
            vote: unused (probabilities are averaged, not voted on).

        Returns:
            A prediction in this head's format, from the weighted average of the ``probs``.
        """
        self._ensemble = tuple(h for h in heads if h is not self)
        total = float(sum(weights))
        if total <= 0:
            raise ConfigError(f"ensemble weights {list(weights)}: at least one must be positive.")
        probs: dict[str, float] = {lab: 0.0 for lab in self.labels}
        for pred, w in zip(predictions, weights):
            for lab, p in pred["probs"].items():
                probs[lab] = probs.get(lab, 0.0) + float(w) * float(p) / total
        probs = {lab: round(p, 6) for lab, p in probs.items()}
        if self.mode == "single":
            return self._single(probs)
        cuts: dict[str, float] = {lab: 0.0 for lab in probs}
        for head in heads:
            own = _thresholds_of(head)
            for lab in cuts:
                cuts[lab] += own.get(lab, 0.5) / len(heads)
        # 1e-7: float32 noise of the thresholds (a tuned one lies >= 5e-7 from any 6-decimal probability)
        return {"labels": [lab for lab, p in probs.items() if p >= cuts[lab] - 1e-7], "probs": probs}

    # ---- ONNX export --------------------------------------------------------------------
    def export_part(self, batch: dict) -> GraphPart:
        """The tensor part of ``predict``: (B,T,H), (B,T) -> probs (B,K).

        Args:
            batch: a sample batch; resolves ``pooling=auto`` from its offsets before tracing.

        Raises:
            ConfigError: ``pair_mode`` is not ``joint`` (the graph cannot see the two texts apart).
        """
        if self.pair_mode != "joint":
            raise ConfigError(f"head.pair_mode={self.pair_mode} pools each text by its special-token positions, which "
                              f"the exported graph cannot see; export a run trained with head.pair_mode=joint.")
        self.pooling_kind(batch)  # resolve pooling=auto now: the graph has no offsets
        return GraphPart(ProbsPart(self), output="probs", axes={0: "batch"})

    def predict_from_export(self, output: Any, batch: dict) -> list[dict]:
        """Predictions from the exported graph's probabilities (B, K), as ``predict`` gives them."""
        return self.from_probabilities(torch.as_tensor(output))

    # ---- evaluation ---------------------------------------------------------------------
    def _apply_thresholds(self, predictions: Sequence[dict]) -> None:
        cut = dict(zip(self.labels, self.thresholds.tolist()))
        for pred in predictions:
            pred["labels"] = [lab for lab in self.labels if pred["probs"].get(lab, 0.0) >= cut[lab]]

    def _should_tune(self, examples: Sequence[dict]) -> bool:
        if not self.tune_thresholds:
            return False
        key = tuple(sorted({str(ex.get("_file")) for ex in examples}))
        if self._tune_key is None and int(self.thresholds_tuned) == 0:
            self._tune_key = key
        return key == self._tune_key

    def tune(self, predictions: Sequence[dict], examples: Sequence[dict]) -> list[float]:
        """Set each label's threshold to the one maximising its F1 on these examples; the other
        members of the last ensemble this head combined get the same thresholds."""
        golds = [set(_as_list(ex["label"])) for ex in examples]
        current = self.thresholds.tolist()
        new = [best_threshold([p["probs"].get(lab, 0.0) for p in predictions], [lab in g for g in golds], current[j])[0]
               for j, lab in enumerate(self.labels)]
        for head in (self, *self._ensemble):
            if isinstance(head, ClassificationHead) and head.labels == self.labels:
                head.thresholds.copy_(torch.tensor(new, dtype=head.thresholds.dtype))
                head.thresholds_tuned.fill_(1)
        return new

    def evaluate(self, predictions: Sequence[dict], examples: Sequence[dict]) -> dict[str, float]:
        """acc, macro / micro P-R-F1, per-class ``precision/<c>``, ``recall/<c>``, ``f1/<c>``;
        multi-label adds ``subset_acc`` (= ``acc``) and ``example_f1``. Fractions."""
        for ex in examples:
            if self.mode == "single" and isinstance(ex["label"], (list, tuple)):
                raise DataError(ex.get("_file", "<input>"), ex.get("_line"),
                                "multi-label gold but head.mode=single. Use head.mode=multi.")
            self._check_known(_as_list(ex["label"]), (ex.get("_file", "<input>"), ex.get("_line")), only_raw_ids=True)
        if self.mode == "single":
            golds = [str(ex["label"]) for ex in examples]
            metrics, self._support = single_label_metrics(golds, [p["label"] for p in predictions], self.labels)
        else:
            if self._should_tune(examples):
                self.tune(predictions, examples)
            self._apply_thresholds(predictions)
            golds = [_as_list(ex["label"]) for ex in examples]
            metrics, self._support = multi_label_metrics(golds, [p["labels"] for p in predictions], self.labels)
        return metrics

    def report(self, metrics: dict[str, float]) -> str:
        """Per-class precision / recall / F1 table of ``metrics`` (support from the last evaluate)."""
        return format_report(metrics, self._support)

    def artifacts(self, predictions: Sequence[dict], examples: Sequence[dict], run_dir: str | Path) -> list[str]:
        """Files for the run folder after the final evaluation: ``confusion_matrix.png`` (single)."""
        if self.mode != "single" or not examples:
            return []
        return [str(save_confusion_matrix(predictions, examples, self.labels, Path(run_dir) / "confusion_matrix.png"))]

    def truncate(self, encoding: dict, max_length: int) -> dict:
        """Cut an over-long encoding by ``truncation`` (special tokens kept)."""
        return truncate_encoding(encoding, max_length, self.truncation, self.head_fraction)

    def _clue_record(self, example: dict, prediction: dict) -> dict:
        key = "label" if self.mode == "single" else "labels"
        return {"id": example.get("id"), key: prediction[key]}


class ProbsPart(nn.Module):
    """The exported part of a classification head: (B,T,H), (B,T) -> class probabilities (B,K)."""

    def __init__(self, head: ClassificationHead):
        super().__init__()
        self.head = head

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        logits = self.head.logits(hidden, {"attention_mask": attention_mask})  # (B, K)
        return self.head.probabilities(logits)  # (B, K)


_CLS_ERROR = ("head.pooling=cls needs an encoder whose tokens start with [CLS] (BERT family); this encoder's "
              "tokenizer adds no special token at the start. Use head.pooling=max, mean, attention or auto.")


def _thresholds_of(head: Any) -> dict[str, float]:
    """``{label: threshold}`` of a multi-label head; empty for a head without thresholds."""
    values, labels = getattr(head, "thresholds", None), getattr(head, "labels", None)
    if not isinstance(values, torch.Tensor) or not labels:
        return {}
    return dict(zip(labels, values.tolist()))


def _special_mask(batch: dict, mask: torch.Tensor) -> torch.Tensor:
    """(B, T) True on special tokens (offset (0, 0)) per ``batch["offsets"]``."""
    out = torch.zeros_like(mask)
    for i, row in enumerate(batch.get("offsets") or []):
        flags = [tuple(o) == (0, 0) for o in row[: mask.size(1)]]
        if flags:
            out[i, : len(flags)] = torch.tensor(flags, device=mask.device)
    return out


def _weights_option(value: Any, k: int) -> str | None:
    if value is None or value is False:
        return None
    if isinstance(value, str):
        if value != "balanced":
            raise ConfigError(f"head.class_weights={value!r}: use null, balanced or a list of {k} numbers.")
        return "balanced"
    try:
        weights = [float(w) for w in value]
    except (TypeError, ValueError):
        raise ConfigError(f"head.class_weights={value!r}: use null, balanced or a list of {k} numbers.") from None
    if len(weights) != k or min(weights) < 0:
        raise ConfigError(f"head.class_weights has {len(weights)} values; give {k} non-negative numbers, one per "
                          f"label in this order.")
    return "list"


def _check_options(labels, mode, pooling, pair_mode, dropout, label_smoothing, top_k, threshold) -> None:
    if mode not in MODES:
        raise ConfigError(f"head.mode={mode!r}: use single (one label per text) or multi (multi-label).")
    if pooling not in POOLINGS:
        raise ConfigError(f"head.pooling={pooling!r}: use one of {', '.join(POOLINGS)}.")
    if pair_mode not in PAIR_MODES:
        raise ConfigError(f"head.pair_mode={pair_mode!r}: use one of {', '.join(PAIR_MODES)}.")
    if pair_mode != "joint" and pooling == "cls":
        raise ConfigError(f"head.pair_mode={pair_mode} pools each text separately and the second text has no [CLS]: "
                          f"use head.pooling=mean, max, attention or auto.")
    if not labels:
        raise ConfigError("the classification head needs at least one label (labels=[] given).")
    if mode == "single" and len(labels) < 2:
        raise ConfigError(f"head.mode=single needs at least 2 classes; the training data has only {labels}.")
    if not 0.0 <= float(dropout) < 1.0:
        raise ConfigError(f"head.dropout={dropout!r} must be in [0, 1).")
    if not 0.0 <= float(label_smoothing) < 1.0:
        raise ConfigError(f"head.label_smoothing={label_smoothing!r} must be in [0, 1).")
    if int(top_k) < 1:
        raise ConfigError(f"head.top_k={top_k!r} must be >= 1.")
    if not 0.0 < float(threshold) < 1.0:
        raise ConfigError(f"head.threshold={threshold!r} must be between 0 and 1.")
