"""KeyBERT-style keyword extraction with any zhnlp encoder.

Candidates come from jieba (:mod:`zhnlp_keywords.candidates`); the document and the candidates are
embedded by mean pooling over real tokens (:mod:`zhnlp_keywords.embedding`; long documents are
embedded chunk by chunk, never truncated); candidates are ranked by cosine similarity to the
document, optionally diversified with MMR or Max Sum Similarity (:mod:`zhnlp_keywords.diversity`).

The ranking is only as good as the encoder: a randomly initialised encoder gives meaningless
keywords. Use a local pretrained checkpoint (``encoder="bert_wwm", encoder_kwargs={"pretrained":
"/local/dir"}``) or the encoder of a trained zhnlp run (``run=RUN_DIR``).
"""
from __future__ import annotations

from typing import Iterable, Sequence

import torch

from zhnlp.errors import ConfigError, ZhnlpError
from zhnlp_keywords.candidates import NOUN_POS, candidate_spans, group_candidates
from zhnlp_keywords.diversity import DIVERSITY_METHODS, select
from zhnlp_keywords.embedding import embed_texts, encode_texts
from zhnlp_keywords.jieba_methods import check_texts, check_top_k
from zhnlp_keywords.text import load_stopwords

CANDIDATE_EMBEDDINGS = ("isolated", "context")


def resolve_encoder(encoder=None, encoder_kwargs: dict | None = None, run: str | None = None, device: str = "cpu"):
    """The encoder to embed with: a trained run's, a registered one built by name, or a module.

    Raises:
        ConfigError: nothing given, both given, or a from-scratch encoder without vocabulary.
    """
    if run is not None and encoder is not None:
        raise ConfigError("give keybert either run=RUN_DIR (use that run's encoder) or encoder=NAME, not both.")
    if run is not None:
        import zhnlp

        model = zhnlp.load(str(run), device=device)  # a zhnlp.model.TaskModel (member 0's encoder)
        encoder = getattr(model, "encoder", None)
        if not isinstance(encoder, torch.nn.Module):
            raise ConfigError(f"run={run}: this run has no encoder module to embed with (an ONNX export or an "
                              f"ensemble folder?); pass a training run folder.")
        return encoder
    if encoder is None:
        raise ConfigError(
            "keybert needs an encoder: encoder='bert_wwm' (or roberta_wwm, ernie, nezha, ...) with "
            "encoder_kwargs={'pretrained': '/local/checkpoint/dir'}, or run=RUN_DIR to use the encoder of a "
            "trained zhnlp run. A randomly initialised encoder gives meaningless keywords.")
    if isinstance(encoder, str):
        import zhnlp

        module = zhnlp.build_encoder(encoder, **(encoder_kwargs or {}))
    elif isinstance(encoder, torch.nn.Module):
        module = encoder
    else:
        raise ConfigError(f"encoder={encoder!r}: give a registered encoder name or an encoder module.")
    try:
        module.tokenizer(["测试"], return_offsets_mapping=True)
    except ZhnlpError as exc:
        raise ConfigError(
            f"encoder {encoder!r} cannot tokenize yet ({exc}). From-scratch encoders learn their vocabulary "
            f"in training: use run=RUN_DIR of a trained run instead.") from exc
    return module.to(device)


class KeyBertExtractor:
    """See :func:`zhnlp_keywords.methods.build_keybert` for the arguments."""

    def __init__(self, encoder=None, encoder_kwargs: dict | None = None, run: str | None = None,
                 device: str = "cpu", diversity_method: str = "mmr", diversity: float = 0.5,
                 nr_candidates: int = 20, candidate_pos: Sequence[str] = NOUN_POS, max_ngram: int = 3,
                 stopwords: str | Iterable[str] | None = "default", user_dict: str | None = None,
                 candidate_embedding: str = "isolated", batch_size: int = 32, max_length: int | None = None):
        if diversity_method not in DIVERSITY_METHODS:
            raise ConfigError(f"diversity_method={diversity_method!r}: use one of {', '.join(DIVERSITY_METHODS)}.")
        if not 0.0 <= float(diversity) <= 1.0:
            raise ConfigError(f"diversity={diversity}: must be between 0 and 1.")
        if candidate_embedding not in CANDIDATE_EMBEDDINGS:
            raise ConfigError(f"candidate_embedding={candidate_embedding!r}: use isolated or context.")
        if max_ngram < 1:
            raise ConfigError(f"max_ngram={max_ngram}: must be >= 1.")
        self.encoder = resolve_encoder(encoder, encoder_kwargs, run, device)
        self.diversity_method, self.diversity = diversity_method, float(diversity)
        self.nr_candidates, self.max_ngram = int(nr_candidates), int(max_ngram)
        self.candidate_pos = tuple(candidate_pos)
        self.stopwords = load_stopwords(stopwords)
        self.user_dict, self.candidate_embedding = user_dict, candidate_embedding
        self.batch_size, self.max_length = int(batch_size), max_length

    def candidates(self, text: str) -> dict[str, list[tuple[str, int, int]]]:
        """Normalised candidate -> its occurrences ``(surface, start, end)``."""
        spans = candidate_spans(text, self.candidate_pos, self.stopwords, self.max_ngram, self.user_dict)
        return group_candidates(spans)

    def __call__(self, texts: Sequence[str], top_k: int = 5) -> list[list[tuple[str, float]]]:
        top_k = check_top_k(top_k)
        texts = check_texts(texts)
        groups = [self.candidates(t) if t.strip() else {} for t in texts]
        encoded = encode_texts(self.encoder, texts, self.batch_size, self.max_length)
        surfaces = {occ[0][0] for g in groups for occ in g.values()}
        isolated: dict[str, torch.Tensor] = {}
        if self.candidate_embedding == "isolated" and surfaces:
            ordered = sorted(surfaces)
            isolated = dict(zip(ordered, embed_texts(self.encoder, ordered, self.batch_size, self.max_length)))
        out = []
        for enc, group in zip(encoded, groups):
            doc = enc.mean()
            if doc is None or not group:
                out.append([])
                continue
            names, vectors = [], []
            for occs in group.values():
                surface = occs[0][0]
                vec = isolated.get(surface) if self.candidate_embedding == "isolated" else \
                    enc.phrase([(s, e) for _, s, e in occs])
                if vec is not None:
                    names.append(surface)
                    vectors.append(vec)
            if not vectors:
                out.append([])
                continue
            cands = torch.stack(vectors)  # (M, H)
            chosen = select(doc, cands, top_k, self.diversity_method, self.diversity, self.nr_candidates)
            sims = torch.nn.functional.cosine_similarity(cands[chosen], doc.unsqueeze(0), dim=1).tolist()
            out.append([(names[i], round(float(s), 6)) for i, s in zip(chosen, sims)])
        return out
