"""Public builders of the keyword-extraction methods (entry point group ``zhnlp.keyword_methods``).

Every builder returns an extractor: ``extractor(texts, top_k=5) -> [[(keyword, score), ...], ...]``
(one ranked list per text, best first, at most ``top_k``; an empty text gives ``[]``).
``zhnlp.keywords(texts, method=NAME, top_k=K, **builder_kwargs)`` is the usual way in.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from zhnlp.errors import ConfigError
from zhnlp_keywords.candidates import NOUN_POS
from zhnlp_keywords.jieba_methods import TEXTRANK_POS, TextRankExtractor, TfidfExtractor, check_texts, check_top_k
from zhnlp_keywords.keybert import KeyBertExtractor


def build_tfidf(idf_path: str | None = None, idf_corpus: str | Sequence[str] | None = None,
                idf_output: str | None = None, user_dict: str | None = None,
                stopwords: str | Iterable[str] | None = None, allow_pos: Sequence[str] = ()) -> TfidfExtractor:
    """TF-IDF keywords (``jieba.analyse`` TF-IDF: term frequency x IDF over jieba words).

    Args:
        idf_path: an IDF file in jieba's format (``word idf`` per line); default: jieba's own.
        idf_corpus: compute the IDF from your corpus instead: a list of texts, or a file (one
            document per line, JSON lines with ``text``, or a keyword TSV).
        idf_output: where to write the computed IDF file (jieba's format); default: a temp file
            (its path is ``extractor.idf_file``).
        user_dict: a jieba user dictionary, used only by this extractor.
        stopwords: extra stopwords on top of jieba's: ``"default"`` (our list), a file, a list;
            None keeps jieba's baseline behaviour.
        allow_pos: keep only words with these jieba POS tags (empty: all words, jieba's default).

    Returns:
        ``extractor(texts, top_k) -> [[(keyword, tfidf), ...], ...]``.
    """
    return TfidfExtractor(idf_path=idf_path, idf_corpus=idf_corpus, idf_output=idf_output,
                          user_dict=user_dict, stopwords=stopwords, allow_pos=allow_pos)


def build_textrank(user_dict: str | None = None, stopwords: str | Iterable[str] | None = None,
                   allow_pos: Sequence[str] = TEXTRANK_POS, window: int = 5) -> TextRankExtractor:
    """TextRank keywords (``jieba.analyse`` TextRank over a word co-occurrence graph).

    Args:
        user_dict: a jieba user dictionary, used only by this extractor.
        stopwords: extra stopwords (as in :func:`build_tfidf`).
        allow_pos: POS tags of graph nodes (jieba's default ``ns, n, vn, v``).
        window: co-occurrence window in words.

    Returns:
        ``extractor(texts, top_k) -> [[(keyword, rank), ...], ...]`` (ranks scaled to max 1).
    """
    return TextRankExtractor(user_dict=user_dict, stopwords=stopwords, allow_pos=allow_pos, window=window)


def build_keybert(encoder=None, encoder_kwargs: dict | None = None, run: str | None = None, device: str = "cpu",
                  diversity_method: str = "mmr", diversity: float = 0.5, nr_candidates: int = 20,
                  candidate_pos: Sequence[str] = NOUN_POS, max_ngram: int = 3,
                  stopwords: str | Iterable[str] | None = "default", user_dict: str | None = None,
                  candidate_embedding: str = "isolated", batch_size: int = 32,
                  max_length: int | None = None) -> KeyBertExtractor:
    """KeyBERT: jieba noun candidates ranked by embedding similarity to the document.

    Needs a meaningful encoder; none ships with zhnlp (no hub access). Either

    * ``encoder="bert_wwm"`` (any registered encoder) with ``encoder_kwargs={"pretrained":
      "/local/dir"}`` holding a downloaded checkpoint, or
    * ``run=RUN_DIR``: the encoder of a trained zhnlp run (e.g. a keyword_tagger or a
      classification run), or
    * ``encoder=<an encoder module>`` already built.

    Args:
        encoder: registered encoder name, or an encoder module.
        encoder_kwargs: builder arguments for ``encoder`` (e.g. ``pretrained``).
        run: a trained run folder whose encoder is used.
        device: torch device.
        diversity_method: ``cosine`` (plain similarity), ``mmr`` or ``max_sum``.
        diversity: MMR lambda in [0, 1] (0 = plain cosine).
        nr_candidates: Max Sum Similarity's pool of most similar candidates.
        candidate_pos: jieba POS tags of candidate words.
        max_ngram: longest candidate phrase, in adjacent candidate words.
        stopwords: ``"default"`` (our list), a file, a list, or None.
        user_dict: jieba user dictionary for candidate segmentation.
        candidate_embedding: ``isolated`` (embed each candidate alone, as KeyBERT does) or
            ``context`` (mean of the document's token states over the candidate's occurrences).
        batch_size: chunks per forward pass.
        max_length: tokens per chunk (default: the encoder's limit); longer documents are chunked.

    Returns:
        ``extractor(texts, top_k) -> [[(keyword, cosine similarity), ...], ...]``.
    """
    return KeyBertExtractor(encoder=encoder, encoder_kwargs=encoder_kwargs, run=run, device=device,
                            diversity_method=diversity_method, diversity=diversity, nr_candidates=nr_candidates,
                            candidate_pos=candidate_pos, max_ngram=max_ngram, stopwords=stopwords,
                            user_dict=user_dict, candidate_embedding=candidate_embedding,
                            batch_size=batch_size, max_length=max_length)


class TaggerExtractor:
    """A trained ``keyword_tagger`` run as an extractor (see :func:`build_tagger`)."""

    def __init__(self, run: str, device: str = "cpu", batch_size: int = 64):
        import zhnlp
        from zhnlp_keywords.tagger_head import KeywordTaggerHead

        self.model = zhnlp.load(str(run), device=device)  # a zhnlp.model.TaskModel
        if not isinstance(getattr(self.model, "head", None), KeywordTaggerHead):
            raise ConfigError(f"run={run} was not trained with head=keyword_tagger "
                              f"(train one with `zhnlp train experiment=csl_keywords`).")
        self.batch_size = int(batch_size)

    def __call__(self, texts: Sequence[str], top_k: int = 5) -> list[list[tuple[str, float]]]:
        top_k = check_top_k(top_k)
        texts = check_texts(texts)
        keep = [i for i, t in enumerate(texts) if t.strip()]
        out: list[list[tuple[str, float]]] = [[] for _ in texts]
        if keep:
            preds = self.model.predict([texts[i] for i in keep], batch_size=self.batch_size)
            for i, pred in zip(keep, preds):
                out[i] = [(str(k), float(s)) for k, s in pred[:top_k]]
        return out


def build_tagger(run: str | None = None, device: str = "cpu", batch_size: int = 64) -> TaggerExtractor:
    """Supervised keywords from a trained ``keyword_tagger`` run (``zhnlp train experiment=csl_keywords``).

    Args:
        run: the run folder, its ``model/`` folder or a ``.ckpt`` file (loaded with ``zhnlp.load``).
        device: torch device.
        batch_size: texts per forward pass.

    Returns:
        ``extractor(texts, top_k) -> [[(keyword, score), ...], ...]``; the score aggregates the
        CRF marginal probabilities of the keyword's occurrences.
    """
    if not run:
        raise ConfigError("method 'tagger' needs run=RUN_DIR: a run trained with head=keyword_tagger.")
    return TaggerExtractor(run, device=device, batch_size=batch_size)
