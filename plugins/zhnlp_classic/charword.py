"""``charword``: character tokens that also carry the jieba word they sit in (char + word views).

One token per character, exactly like the ``char`` tokenizer (offsets are exact, labels per
character map 1:1), plus ``word_ids``: every character gets the id of the whole jieba word it
belongs to (``北京大学`` -> four tokens with the same word id), and optionally ``trigram_ids``
(this char and the next two, as fastText's character n-grams). The word embedding is concatenated
with the char / bigram / BMES embeddings, so one model sees both views without a second
tokenization; a TextCNN (or BiLSTM) on top then mixes them. Words rarer than ``word_min_freq`` in
the ``fit`` texts are ``[UNK]`` (the character embeddings still describe them).
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

import torch
from torch import nn

from zhnlp.errors import ConfigError
from zhnlp.text import same_length
from zhnlp.types import EncoderSpec
from zhnlp_classic.context import TextCNN
from zhnlp_classic.embeddings import FeatureEmbedding, Table, attach_pretrained
from zhnlp_classic.encoders import ClassicEncoder, _char_features, _check, context_bilstm
from zhnlp_classic.text import cut
from zhnlp_classic.tokenizers import _END, CharTokenizer, _Ids
from zhnlp_classic.vocab import SEP_ID, SPACE_ID, Vocab

CONTEXTS = ("none", "cnn", "bilstm")


class WithEmbeddings(nn.Module):
    """A context layer whose output is concatenated with its input embeddings (TextRCNN-style:
    the pooled features see both the n-gram detectors and the raw char / word vectors)."""

    def __init__(self, context: nn.Module, input_size: int):
        super().__init__()
        self.context = context
        self.output_size = context.output_size + input_size

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.context(x, mask), x], dim=-1)  # (B, T, H_ctx + D)

    def groups(self) -> list[list[nn.Parameter]]:
        return self.context.groups()


class CharWordTokenizer(CharTokenizer):
    """:class:`CharTokenizer` plus ``word_ids`` (per character, the id of its jieba word) and,
    with ``trigram``, ``trigram_ids`` (per character, the id of it + the next two characters)."""

    sep_ids = {**CharTokenizer.sep_ids, "word_ids": SEP_ID, "trigram_ids": SEP_ID}

    def __init__(self, word_min_freq: int = 2, max_word_vocab: int | None = None, trigram: bool = False,
                 trigram_min_freq: int = 2, **char_options):
        super().__init__(**char_options)
        self.word_min_freq, self.max_word_vocab = word_min_freq, max_word_vocab
        self.trigram, self.trigram_min_freq = trigram, trigram_min_freq
        self._word: dict[str, int] = _Ids()
        self._trigram: dict[str, int] = _Ids()

    @staticmethod
    def trigram_keys(norm: str) -> Iterable[str]:
        tail = norm + _END + _END
        return map("".join, zip(norm, tail[1:], tail[2:]))  # (this, next, next-but-one)

    def build_vocabs(self, texts: Iterable[str]) -> dict[str, Vocab]:
        texts = list(texts)
        vocabs = super().build_vocabs(texts)
        words = Counter(w for text in texts for w in cut(same_length(text)))
        words.pop(" ", None)
        vocabs["word_ids"] = Vocab.from_counts(words, self.word_min_freq, self.max_word_vocab)
        if self.trigram:
            grams = Counter(g for text in texts for g in self.trigram_keys(same_length(text)))
            vocabs["trigram_ids"] = Vocab.from_counts(grams, self.trigram_min_freq)
        return vocabs

    def set_vocabs(self, vocabs: dict[str, Vocab]) -> None:
        super().set_vocabs(vocabs)
        self._word = _Ids(vocabs["word_ids"].stoi)
        self._word[" "] = SPACE_ID
        self._trigram = _Ids(vocabs["trigram_ids"].stoi if "trigram_ids" in vocabs else {})

    def encode_segment(self, text: str) -> dict[str, list]:
        out = super().encode_segment(text)
        ids: list[int] = []
        for w in cut(same_length(text)):
            ids.extend([self._word[w]] * len(w))  # one id per character of the word
        out["word_ids"] = ids
        if self.trigram:
            out["trigram_ids"] = list(map(self._trigram.__getitem__, self.trigram_keys(same_length(text))))
        return out


def build_charword(
    char_dim: int = 128,
    bigram: bool = True,
    bigram_dim: int = 128,
    word_boundary: bool = True,
    seg_dim: int = 32,
    word_dim: int = 128,
    trigram: bool = False,
    trigram_dim: int = 64,
    trigram_min_freq: int = 2,
    min_freq: int = 1,
    bigram_min_freq: int = 2,
    word_min_freq: int = 2,
    max_vocab: int | None = None,
    max_bigram_vocab: int | None = None,
    max_word_vocab: int | None = None,
    unk_dropout: float = 0.02,
    bigram_unk_dropout: float = 0.1,
    word_unk_dropout: float = 0.1,
    dropout: float = 0.3,
    project_dim: int | None = None,
    token_types: bool = True,
    max_length: int = 512,
    pretrained_embeddings: str | dict[str, str] | None = None,
    pretrained_extend: int = 0,
    context: str = "cnn",
    kernel_sizes: Sequence[int] = (2, 3, 4),
    filters: int = 128,
    cnn_dropout: float = 0.3,
    lstm_hidden: int = 128,
    lstm_layers: int = 1,
    lstm_dropout: float = 0.3,
    concat_embeddings: bool = False,
) -> ClassicEncoder:
    """Char (+ bigram, + BMES) embeddings and the embedding of each char's jieba word, then a
    context layer.

    Args:
        char_dim, bigram, bigram_dim, word_boundary, seg_dim, min_freq, bigram_min_freq,
        max_vocab, max_bigram_vocab, unk_dropout, bigram_unk_dropout, dropout, project_dim,
        token_types, max_length, pretrained_embeddings, pretrained_extend: as in
        :func:`zhnlp_classic.encoders.build_char`; ``pretrained_embeddings`` may also name the
        ``word`` (a char's jieba word) and ``trigram`` tables.
        word_dim: width of the word embedding each character gets.
        trigram: add an embedding of (this char, next, next-but-one), ``trigram_dim`` wide;
            trigrams seen fewer than ``trigram_min_freq`` times are ``[UNK]``.
        word_min_freq: words seen fewer times in ``fit`` texts map to ``[UNK]``.
        max_word_vocab: keep at most this many words; None: no limit.
        word_unk_dropout: training-time probability of replacing a char's word id by ``[UNK]``.
        context: ``cnn`` (TextCNN), ``bilstm`` or ``none`` (the embeddings themselves).
        kernel_sizes, filters, cnn_dropout: the TextCNN (``context: cnn``).
        lstm_hidden, lstm_layers, lstm_dropout: the BiLSTM (``context: bilstm``).
        concat_embeddings: concatenate the (dropped-out) embeddings to the context layer's output
            per token (TextRCNN-style; ignored with ``context: none``).

    Returns:
        ClassicEncoder; ``hidden_size`` is ``filters * len(kernel_sizes)`` (cnn),
        ``2 * lstm_hidden`` (bilstm) or the embedding width (none), plus the embedding width with
        ``concat_embeddings``.
    """
    _check("word_dim", word_dim, 1)
    _check("word_min_freq", word_min_freq, 1)
    if context not in CONTEXTS:
        raise ConfigError(f"encoder.context={context!r}: use one of {', '.join(CONTEXTS)}")
    base = _char_features(char_dim, bigram, bigram_dim, word_boundary, seg_dim, min_freq,
                          bigram_min_freq, max_vocab, max_bigram_vocab, unk_dropout,
                          bigram_unk_dropout, dropout, project_dim, token_types, max_length, None)
    tok = CharWordTokenizer(word_min_freq=word_min_freq, max_word_vocab=max_word_vocab, trigram=trigram,
                            trigram_min_freq=trigram_min_freq,
                            bigram=bigram, word_boundary=word_boundary, min_freq=min_freq,
                            bigram_min_freq=bigram_min_freq, max_vocab=max_vocab,
                            max_bigram_vocab=max_bigram_vocab, max_length=max_length)
    tables = list(base.tables.values()) + [Table("word", word_dim, vocab="word_ids",
                                                 unk_dropout=word_unk_dropout)]
    fields = {**base.fields, "word_ids": "word"}
    if trigram:
        _check("trigram_dim", trigram_dim, 1)
        tables.append(Table("trigram", trigram_dim, vocab="trigram_ids", unk_dropout=bigram_unk_dropout))
        fields["trigram_ids"] = "trigram"
    tables = attach_pretrained(tables, pretrained_embeddings, pretrained_extend, default="char")
    feats = FeatureEmbedding(tok, tables, fields, dropout=dropout, project_dim=project_dim,
                             token_types=token_types)
    ctx = None
    if context == "cnn":
        kernel_sizes = list(kernel_sizes)
        if not kernel_sizes or min(kernel_sizes) < 1:
            raise ConfigError(f"kernel_sizes={kernel_sizes!r}: give one or more positive sizes")
        _check("filters", filters, 1)
        ctx = TextCNN(feats.output_size, kernel_sizes, filters, cnn_dropout)
    elif context == "bilstm":
        _check("lstm_hidden", lstm_hidden, 1)
        _check("lstm_layers", lstm_layers, 1)
        ctx = context_bilstm(feats.output_size, lstm_hidden, lstm_layers, lstm_dropout)
    if ctx is not None and concat_embeddings:
        ctx = WithEmbeddings(ctx, feats.output_size)
    return ClassicEncoder(feats, ctx, max_length)


charword = EncoderSpec(
    build=build_charword,
    example_kwargs=lambda tmp_dir: dict(char_dim=8, bigram_dim=6, seg_dim=4, word_dim=6, word_min_freq=1,
                                        max_length=64, kernel_sizes=[2, 3], filters=8),
    description="char tokens carrying their jieba word's embedding too, + a TextCNN / BiLSTM (from scratch)",
)
