"""The ``keyword_tagger`` head: supervised keyword extraction as tagging of keyword occurrences.

Composition, not inheritance: it holds a ``zhnlp_ner`` CRF head (BIO, one type ``KW``) for the
emissions, the loss and the targets, and adds its own prediction: every span of up to
``max_span_tokens`` real tokens gets its exact CRF marginal probability of being one keyword
span (:mod:`zhnlp_keywords.marginals`); occurrences of the same keyword are combined
(:mod:`zhnlp_keywords.ranking`) and ranked. Prediction per text: ``[(keyword, score), ...]``.
Evaluation: P/R/F1 at 3, 5, 10 against the author keywords (:mod:`zhnlp_keywords.metrics`).
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from zhnlp.errors import ConfigError
from zhnlp_keywords.context import PaddedBiLSTM
from zhnlp_keywords.features import NUM_FEATURES, token_features
from zhnlp_keywords.marginals import span_log_marginals
from zhnlp_keywords.metrics import MAIN_METRIC, format_table, keyword_metrics
from zhnlp_keywords.occurrences import KEYWORD_TYPE, keyword_entities
from zhnlp_keywords.ranking import check_aggregate, rank_occurrences
from zhnlp_ner.alignment import as_offsets
from zhnlp_ner.crf import CrfHead
from zhnlp_ner.windows import ownership_cuts, split_example


def collect_keyword_labels(examples: Sequence[dict]) -> list[str]:
    """``["KW"]`` when any example has gold keywords (or keyword entities), else ``[]``."""
    return [KEYWORD_TYPE] if any(ex.get("keywords") or ex.get("entities") for ex in examples) else []


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
        if max_span_tokens < 1:
            raise ConfigError(f"head.max_span_tokens={max_span_tokens}: must be >= 1.")
        if not 0.0 <= min_prob < 1.0:
            raise ConfigError(f"head.min_prob={min_prob}: must be in [0, 1).")
        self.labels = [KEYWORD_TYPE]
        # Optional BiLSTM context of our own (fast on CPU, see zhnlp_keywords.context), then the
        # zhnlp_ner CRF head without its LSTM: dropout -> linear emissions -> CRF.
        self.word_features = bool(word_features)
        in_size = hidden_size + (NUM_FEATURES if self.word_features else 0)
        self.input_dropout = nn.Dropout(dropout)
        self.context = PaddedBiLSTM(in_size, lstm_hidden, lstm_layers, dropout) if lstm_layers > 0 else None
        self.tagger = CrfHead(self.context.output_size if self.context else in_size, self.labels, scheme="BIO",
                              lstm_layers=0, dropout=dropout, reduction=reduction, window_overlap=window_overlap)
        self.window_overlap = int(window_overlap)
        self.max_span_tokens, self.min_prob = int(max_span_tokens), float(min_prob)
        self.aggregate = check_aggregate(aggregate)
        self.b_tag = self.tagger.tag_index[f"B-{KEYWORD_TYPE}"]
        self.i_tag = self.tagger.tag_index[f"I-{KEYWORD_TYPE}"]

    collect_labels = staticmethod(collect_keyword_labels)

    # ---- training ------------------------------------------------------------------------
    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """``{"crf": transitions}`` (``optim.group_lr.crf``)."""
        return self.tagger.param_groups()

    def targets(self, example: dict, encoding: dict) -> dict[str, torch.Tensor]:
        """BIO tag ids of the keyword occurrences (computed from ``keywords`` when the example
        has no ``entities``)."""
        if "entities" not in example:
            example = {**example, "entities": keyword_entities(example["text"], example.get("keywords", ()))}
        return self.tagger.targets(example, encoding)

    def contextual(self, hidden: torch.Tensor, batch: dict) -> torch.Tensor:
        """(B, T, H) encoder states -> (B, T, H') inputs of the CRF head: [+ word features]
        [-> BiLSTM]."""
        if self.word_features:
            texts = [ex["text"] for ex in batch["examples"]]
            feats = token_features(texts, batch["offsets"], hidden.size(1)).to(hidden.device, hidden.dtype)
            hidden = torch.cat([hidden, feats], dim=2)  # (B, T, H + F)
        if self.context is None:
            return hidden
        return self.context(self.input_dropout(hidden), batch["attention_mask"].bool())

    def forward(self, hidden: torch.Tensor, batch: dict) -> dict[str, torch.Tensor]:
        """``{"emissions", "loss"}`` from the CRF head."""
        return self.tagger(self.contextual(hidden, batch), batch)

    # ---- prediction ----------------------------------------------------------------------
    def _crf_params(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """CRF transitions with the BIO constraints applied (as in constrained Viterbi)."""
        crf, dec = self.tagger.crf, self.tagger.decoder
        return ((crf.start_transitions.float() + dec.start_bias).clamp(min=-1e4),
                (crf.transitions.float() + dec.transition_bias).clamp(min=-1e4),
                (crf.end_transitions.float() + dec.end_bias).clamp(min=-1e4))

    @torch.no_grad()
    def occurrences(self, hidden: torch.Tensor, batch: dict) -> list[list[tuple[int, int, float]]]:
        """Per row: (start, end, probability) of every candidate span with probability >= ``min_prob``,
        in char offsets of that row's text."""
        mask = batch["attention_mask"].bool()  # (B, T)
        batch_size = mask.size(0)
        if hidden.size(1) == 0:
            return [[] for _ in range(batch_size)]
        emissions = self.tagger.emissions(self.contextual(hidden, batch), mask)  # (B, T, K)
        length = emissions.size(1)
        offsets = [as_offsets(o) for o in batch["offsets"]]
        real = torch.zeros(batch_size, length, dtype=torch.bool, device=mask.device)  # (B, T)
        for r, offs in enumerate(offsets):
            for k, (s, e) in enumerate(offs[:length]):
                real[r, k] = e > s
        start, trans, end = self._crf_params()
        max_len = min(self.max_span_tokens, length)
        log_m = span_log_marginals(emissions, mask, start, trans, end, self.b_tag, self.i_tag, max_len, real)  # (B, T, L)
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
        in its example) returns its raw occurrences for :meth:`merge` instead."""
        preds = []
        for ex, occ in zip(batch["examples"], self.occurrences(hidden, batch)):
            if "_window" in ex:
                preds.append([{"start": s, "end": e, "score": p} for s, e, p in occ])
            else:
                preds.append(rank_occurrences(ex["text"], occ, self.aggregate))
        return preds

    def split(self, example: dict, max_chars: int) -> list[dict]:
        """Overlapping char windows of a text longer than ``max_chars`` (zhnlp_ner's windows)."""
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
