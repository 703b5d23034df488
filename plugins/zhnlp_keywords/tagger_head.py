"""The ``keyword_tagger`` head: supervised keyword extraction as BIO tagging of keyword occurrences.

Training: one entity type ``KW`` tagged ``O`` / ``B-KW`` / ``I-KW`` on the non-overlapping
occurrences of the gold keywords (:mod:`zhnlp_keywords.occurrences`, mapped to tokens by
``zhnlp.alignment``); [word features] -> [BiLSTM] -> dropout -> linear emissions -> the negative
log-likelihood of a linear-chain CRF (``torchcrf.CRF``).

Prediction: every span of up to ``max_span_tokens`` real tokens gets its exact CRF marginal
probability of being one keyword span (:mod:`zhnlp_keywords.marginals`), under the BIO
constraints (no ``I`` first or after ``O``); occurrences of the same keyword are combined
(:mod:`zhnlp_keywords.ranking`) and ranked. Prediction per text: ``[(keyword, score), ...]``.
Evaluation: P/R/F1 at 3, 5, 10 against the author keywords (:mod:`zhnlp_keywords.metrics`).
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn
from torchcrf import CRF

from zhnlp.alignment import AlignmentStats, as_offsets, entity_token_spans
from zhnlp.errors import ConfigError
from zhnlp.layers import BiLSTM
from zhnlp.types import ModelOutput
from zhnlp.windows import ownership_cuts, split_example
from zhnlp_keywords.features import NUM_FEATURES, token_features
from zhnlp_keywords.marginals import NEG, span_log_marginals
from zhnlp_keywords.metrics import MAIN_METRIC, format_table, keyword_metrics
from zhnlp_keywords.occurrences import KEYWORD_TYPE, keyword_entities
from zhnlp_keywords.ranking import check_aggregate, combine_rankings, rank_occurrences

TAGS = ("O", f"B-{KEYWORD_TYPE}", f"I-{KEYWORD_TYPE}")
O_TAG, B_TAG, I_TAG = 0, 1, 2
REDUCTIONS = ("mean", "sum", "token_mean")


def bio_constraints() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Allowed starts (K,), transitions (K, K) [from, to] and ends (K,) of the BIO tags ``TAGS``:
    ``I-KW`` only after ``B-KW`` / ``I-KW``, never first; everything else anywhere."""
    start = torch.tensor([True, True, False])
    transitions = torch.ones(len(TAGS), len(TAGS), dtype=torch.bool)
    transitions[O_TAG, I_TAG] = False
    end = torch.ones(len(TAGS), dtype=torch.bool)
    return start, transitions, end


def bio_tags(spans: Sequence[tuple[str, int, int]], offsets: Sequence[tuple[int, int]]) -> list[int]:
    """Tag ids of inclusive token spans: ``B`` on the first token, ``I`` on the rest, ``O`` elsewhere
    (also on special tokens)."""
    tags = [O_TAG] * len(offsets)
    for _, a, b in spans:
        tags[a] = B_TAG
        for k in range(a + 1, b + 1):
            tags[k] = I_TAG
    return [O_TAG if e <= s else t for t, (s, e) in zip(tags, offsets)]


def fit_length(tags: torch.Tensor, length: int, fill: int) -> torch.Tensor:
    """Pad or cut (B, T') target tags to (B, length)."""
    if tags.size(1) >= length:
        return tags[:, :length]
    return torch.cat([tags, tags.new_full((tags.size(0), length - tags.size(1)), fill)], dim=1)


class KeywordTaggerHead(nn.Module):
    """See the module docstring; built by :func:`zhnlp_keywords.heads.build_keyword_tagger`."""

    main_metric = MAIN_METRIC

    def __init__(self, hidden_size: int, labels: Sequence[str] = (KEYWORD_TYPE,), lstm_layers: int = 0,
                 lstm_hidden: int = 256, dropout: float = 0.1, reduction: str = "mean", window_overlap: int = 64,
                 max_span_tokens: int = 24, min_prob: float = 0.01, aggregate: str = "noisy_or",
                 word_features: bool = False):
        super().__init__()
        extra = set(labels) - {KEYWORD_TYPE}
        if extra:
            raise ConfigError(f"the keyword_tagger head tags one type, {KEYWORD_TYPE!r}; got labels {sorted(extra)}. "
                              f"Use a keyword dataset (data=csl_kg or data=sample_keywords).")
        if reduction not in REDUCTIONS:
            raise ConfigError(f"head.reduction={reduction!r}: use mean, sum or token_mean.")
        if max_span_tokens < 1:
            raise ConfigError(f"head.max_span_tokens={max_span_tokens}: must be >= 1.")
        if not 0.0 <= min_prob < 1.0:
            raise ConfigError(f"head.min_prob={min_prob}: must be in [0, 1).")
        self.labels = [KEYWORD_TYPE]
        self.tags = list(TAGS)
        self.word_features = bool(word_features)
        in_size = hidden_size + (NUM_FEATURES if self.word_features else 0)
        self.input_dropout = nn.Dropout(dropout)
        self.context = BiLSTM(in_size, lstm_hidden, lstm_layers, dropout) if lstm_layers > 0 else None
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(self.context.output_size if self.context else in_size, len(TAGS))
        self.crf = CRF(len(TAGS), batch_first=True)
        start, transitions, end = bio_constraints()
        # constraint masks follow from the tag set: not stored in checkpoints
        self.register_buffer("start_allowed", start, persistent=False)
        self.register_buffer("transition_allowed", transitions, persistent=False)
        self.register_buffer("end_allowed", end, persistent=False)
        self.reduction = reduction
        self.window_overlap = int(window_overlap)
        self.max_span_tokens, self.min_prob = int(max_span_tokens), float(min_prob)
        self.aggregate = check_aggregate(aggregate)
        self.stats = AlignmentStats("keyword_tagger")

    # ---- training ------------------------------------------------------------------------
    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """``{"crf": transitions}`` (``optim.group_lr.crf``)."""
        return {"crf": list(self.crf.parameters())}

    def targets(self, example: dict, encoding: dict) -> dict[str, torch.Tensor]:
        """``{"tags": (T,)}`` BIO tag ids of the keyword occurrences (computed from ``keywords``
        when the example has no ``entities``), ``O`` on special tokens."""
        entities = example.get("entities")
        if entities is None:
            entities = keyword_entities(example["text"], example.get("keywords", ()))
        offsets = as_offsets(encoding["offset_mapping"])
        spans, rejected = entity_token_spans(entities, offsets, {KEYWORD_TYPE: 0}, allow_overlap=False)
        for ent, reason in rejected:
            self.stats.record(example, ent, reason)
        return {"tags": torch.tensor(bio_tags(spans, offsets), dtype=torch.long)}

    def contextual(self, hidden: torch.Tensor, batch: dict) -> torch.Tensor:
        """(B, T, H) encoder states -> (B, T, H') inputs of the emissions: [+ word features]
        [-> BiLSTM]."""
        if self.word_features:
            texts = [ex["text"] for ex in batch["examples"]]
            feats = token_features(texts, batch["offsets"], hidden.size(1)).to(hidden.device, hidden.dtype)
            hidden = torch.cat([hidden, feats], dim=2)  # (B, T, H + F)
        if self.context is None:
            return hidden
        return self.context(self.input_dropout(hidden), batch["attention_mask"].bool())  # (B, T, 2 * lstm_hidden)

    def emissions(self, hidden: torch.Tensor, batch: dict) -> torch.Tensor:
        """(B, T, H) encoder states -> (B, T, 3) float32 emission scores of ``O``, ``B-KW``, ``I-KW``."""
        return self.proj(self.dropout(self.contextual(hidden, batch))).float()

    def forward(self, hidden: torch.Tensor, batch: dict) -> ModelOutput:
        """The emissions (B, T, 3) as ``scores`` (``scores_mask`` = the attention mask) and, when
        ``tags`` is in the batch, the negative CRF log-likelihood as ``loss``."""
        self.stats.flush()
        mask = batch["attention_mask"].bool()  # (B, T)
        emissions = self.emissions(hidden, batch)  # (B, T, K)
        loss = None
        if "tags" in batch:
            tags = fit_length(batch["tags"].to(emissions.device), emissions.size(1), O_TAG)
            tags = tags.masked_fill(tags < 0, O_TAG)  # padding -> O (masked anyway)
            loss = -self.crf(emissions, tags, mask=mask, reduction=self.reduction)
        return ModelOutput(loss=loss, scores=emissions, scores_mask=mask)

    # ---- prediction ----------------------------------------------------------------------
    def constrained_transitions(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The CRF's start (K,), transition (K, K) [from, to] and end (K,) scores in float32, with the
        BIO-forbidden ones at ``NEG`` (-1e4, a finite -inf) and every score clamped to >= ``NEG``."""
        crf = self.crf

        def constrain(scores: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
            return torch.where(allowed, scores.float(), torch.full_like(scores, NEG, dtype=torch.float)).clamp(min=NEG)

        return (constrain(crf.start_transitions, self.start_allowed),
                constrain(crf.transitions, self.transition_allowed),
                constrain(crf.end_transitions, self.end_allowed))

    @torch.no_grad()
    def occurrences(self, hidden: torch.Tensor, batch: dict) -> list[list[tuple[int, int, float]]]:
        """Per row: (start, end, probability) of every candidate span with probability >= ``min_prob``,
        in char offsets of that row's text."""
        self.stats.flush()
        mask = batch["attention_mask"].bool()  # (B, T)
        batch_size = mask.size(0)
        if hidden.size(1) == 0:
            return [[] for _ in range(batch_size)]
        emissions = self.emissions(hidden, batch)  # (B, T, K)
        length = emissions.size(1)
        offsets = [as_offsets(o) for o in batch["offsets"]]
        real = torch.zeros(batch_size, length, dtype=torch.bool, device=mask.device)  # (B, T)
        for r, offs in enumerate(offsets):
            for k, (s, e) in enumerate(offs[:length]):
                real[r, k] = e > s
        start, trans, end = self.constrained_transitions()
        max_len = min(self.max_span_tokens, length)
        log_m = span_log_marginals(emissions, mask, start, trans, end, B_TAG, I_TAG, max_len, real)  # (B, T, L)
        probs = log_m.exp()
        out = []
        for r in range(batch_size):
            hits = (probs[r] >= max(self.min_prob, 1e-6)).nonzero().tolist()
            row = []
            for a, l in hits:
                s, e = offsets[r][a][0], offsets[r][a + l][1]
                row.append((s, e, float(probs[r, a, l])))
            out.append(row)
        return out

    def predict(self, hidden: torch.Tensor, batch: dict) -> list[Any]:
        """Per row ``[(keyword, score), ...]`` best first; a window of a long text (``_window``
        in its example) returns its raw occurrences ``[{"start", "end", "score"}]`` for
        :meth:`merge` instead."""
        preds = []
        for ex, occ in zip(batch["examples"], self.occurrences(hidden, batch)):
            if "_window" in ex:
                preds.append([{"start": s, "end": e, "score": p} for s, e, p in occ])
            else:
                preds.append(rank_occurrences(ex["text"], occ, self.aggregate))
        return preds

    def split(self, example: dict, max_chars: int) -> list[dict]:
        """Overlapping char windows of a text longer than ``max_chars`` (``zhnlp.windows``)."""
        return split_example(example, max_chars, self.window_overlap)

    def merge(self, example: dict, parts: Sequence[tuple[dict, Any]]) -> list[tuple[str, float]]:
        """Window occurrences -> one ranking over the whole text; each occurrence is counted once,
        by the window that owns its first char."""
        text = example["text"]
        parts = sorted(parts, key=lambda part: tuple(part[0].get("_window", (0, len(text)))))
        bounds = [tuple(window.get("_window", (0, len(text)))) for window, _ in parts]
        cuts = ownership_cuts(bounds)
        occ = []
        for i, ((ws, _), (_, pred)) in enumerate(zip(bounds, parts)):
            for o in pred:
                s, e = o["start"] + ws, o["end"] + ws
                if cuts[i] <= s < cuts[i + 1]:
                    occ.append((s, e, o["score"]))
        return rank_occurrences(text, occ, self.aggregate)

    def combine(self, predictions: Sequence[Any], weights: Sequence[float], heads: Sequence[Any],
                vote: float = 0.5) -> Any:
        """One example's ensemble prediction from its members' (``members: K``): the weighted mean
        score of every keyword (0 from a member that did not rank it), ranked again; for a
        window, the weighted mean score of every occurrence. ``vote`` does not apply to rankings."""
        if any(pred and isinstance(pred[0], dict) for pred in predictions):  # raw window occurrences
            total = float(sum(weights)) or 1.0
            scores: dict[tuple[int, int], float] = {}
            for pred, w in zip(predictions, weights):
                for o in pred:
                    key = (o["start"], o["end"])
                    scores[key] = scores.get(key, 0.0) + w * float(o["score"]) / total
            return [{"start": s, "end": e, "score": p} for (s, e), p in sorted(scores.items())]
        return combine_rankings(predictions, weights)

    # ---- evaluation ----------------------------------------------------------------------
    def evaluate(self, predictions: Sequence[Sequence], examples: Sequence[dict]) -> dict[str, float]:
        """``p@k``, ``r@k``, ``f1@k`` for k = 3, 5, 10 (main metric ``f1@5``)."""
        golds = [ex.get("keywords") or [e["text"] for e in ex.get("entities", ())] for ex in examples]
        metrics = keyword_metrics(predictions, golds)
        metrics.pop("documents", None)
        return metrics

    def report(self, metrics: dict[str, float]) -> str:
        """The P/R/F1 @3/5/10 table of ``metrics``."""
        return format_table({"keyword_tagger": metrics})
