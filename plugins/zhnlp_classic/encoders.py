"""From-scratch encoders (no pretrained weights): char / bilstm / textcnn / word.

Call ``encoder.fit(train_texts)`` once before tokenizing: it builds the vocabularies and creates
the embedding tables (so build the optimizer after it). The vocabularies are saved in
``state_dict()``; an encoder rebuilt from the same config restores them in ``load_state_dict``.

Each builder is registered through an :class:`~zhnlp.types.EncoderSpec` of the same name
(``char``, ``bilstm``, ``textcnn``, ``word``: the ``zhnlp.encoders`` entry points).
"""
from __future__ import annotations

from typing import Iterable, Sequence

import torch
from torch import nn

from zhnlp.errors import ConfigError
from zhnlp.layers import BiLSTM
from zhnlp.types import EncoderSpec
from zhnlp_classic.context import TextCNN
from zhnlp_classic.embeddings import FeatureEmbedding, Table, attach_pretrained
from zhnlp_classic.lexicon import SETS
from zhnlp_classic.text import NUM_SEG_TAGS
from zhnlp_classic.tokenizers import CharTokenizer, WordTokenizer


class ClassicEncoder(nn.Module):
    """Feature embeddings followed by an optional context layer (BiLSTM or TextCNN).

    Attributes:
        hidden_size: width H of the (B, T, H) output.
        tokenizer: callable like a transformers tokenizer (usable after ``fit``).
        max_length: the longest sequence the tokenizer truncates to by default.
        num_special_tokens: 0: a single text gets no special token (a pair is joined by one
            ``[SEP]``), so token ``i`` of the char tokenizers is character ``i``.
    """

    num_special_tokens = 0

    def __init__(self, features: FeatureEmbedding, context: nn.Module | None, max_length: int):
        super().__init__()
        self.features = features
        self.context = context
        self.hidden_size = context.output_size if context is not None else features.output_size
        self.max_length = max_length

    @property
    def tokenizer(self):
        return self.features.tokenizer

    def fit(self, texts: Iterable[str]) -> None:
        """Build vocabularies from training texts; (re)creates the embedding tables.

        Args:
            texts: the training texts (strings; a pair's two sides may be passed as two texts,
                or as one ``(text, text_b)`` tuple).
        """
        flat: list[str] = []
        for t in texts:
            if isinstance(t, str):
                flat.append(t)
            else:  # (text, text_b) tuples
                flat.extend(s for s in t if isinstance(s, str))
        self.features.fit(flat)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None, **features) -> torch.Tensor:
        x = self.features(input_ids, attention_mask, token_type_ids, **features)  # (B, T, D)
        if x.shape[1] == 0:  # a batch of empty texts
            return x.new_zeros(x.shape[0], 0, self.hidden_size)
        if self.context is not None:
            x = self.context(x, attention_mask)  # (B, T, H)
        return x

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """Bottom-to-top parameter groups: embeddings (+ projection), then each context layer."""
        groups = [list(self.features.parameters())]
        if self.context is not None:
            groups += self.context.groups()
        return [g for g in groups if g]

    def input_embeddings(self) -> list[nn.Parameter]:
        """The vocabulary tables' weights (char, bigram, word, lexicon ...: what FGM / PGD perturb);
        not the fixed-size BMES and segment tables."""
        feats = self.features
        return [feats.emb[t.name].weight for t in feats.tables.values() if t.vocab is not None and t.name in feats.emb]


def _check(name: str, value, minimum: float) -> None:
    if value is None or value < minimum:
        raise ConfigError(f"encoder option {name}={value!r} must be >= {minimum}")


def context_bilstm(input_size: int, hidden: int, layers: int, dropout: float) -> BiLSTM:
    """The BiLSTM context layer: ``dropout`` between its layers and on its output."""
    return BiLSTM(input_size, hidden, layers, dropout=dropout, output_dropout=dropout)


def _char_features(char_dim, bigram, bigram_dim, word_boundary, seg_dim, min_freq,
                   bigram_min_freq, max_vocab, max_bigram_vocab, unk_dropout, bigram_unk_dropout,
                   dropout, project_dim, token_types, max_length, pretrained_embeddings, *,
                   pretrained_extend=0, lexicon=False, lexicon_dim=50, lexicon_max_words=4, lexicon_min_freq=1,
                   lexicon_unk_dropout=0.1):
    _check("char_dim", char_dim, 1)
    _check("dropout", dropout, 0)
    _check("max_length", max_length, 1)
    tok = CharTokenizer(bigram=bigram, word_boundary=word_boundary, min_freq=min_freq,
                        bigram_min_freq=bigram_min_freq, max_vocab=max_vocab,
                        max_bigram_vocab=max_bigram_vocab, max_length=max_length,
                        lexicon=lexicon, lexicon_max_words=lexicon_max_words,
                        lexicon_min_freq=lexicon_min_freq)
    tables = [Table("char", char_dim, vocab="input_ids", unk_dropout=unk_dropout)]
    fields = {"input_ids": "char"}
    if bigram:
        _check("bigram_dim", bigram_dim, 1)
        tables.append(Table("bigram", bigram_dim, vocab="bigram_ids", unk_dropout=bigram_unk_dropout))
        fields["bigram_ids"] = "bigram"
    if word_boundary:
        _check("seg_dim", seg_dim, 1)
        tables.append(Table("seg", seg_dim, size=NUM_SEG_TAGS))
        fields["seg_ids"] = "seg"
    if lexicon:
        _check("lexicon_dim", lexicon_dim, 1)
        _check("lexicon_max_words", lexicon_max_words, 1)
        tables.append(Table("lexicon", lexicon_dim, vocab="lexicon_ids", groups=SETS,
                            unk_dropout=lexicon_unk_dropout))
        fields["lexicon_ids"] = "lexicon"
    tables = attach_pretrained(tables, pretrained_embeddings, pretrained_extend, default="char")
    return FeatureEmbedding(tok, tables, fields, dropout=dropout, project_dim=project_dim,
                            token_types=token_types)


def build_char(
    char_dim: int = 128,
    bigram: bool = True,
    bigram_dim: int = 64,
    word_boundary: bool = True,
    seg_dim: int = 32,
    min_freq: int = 1,
    bigram_min_freq: int = 1,
    max_vocab: int | None = None,
    max_bigram_vocab: int | None = None,
    unk_dropout: float = 0.02,
    bigram_unk_dropout: float = 0.1,
    dropout: float = 0.5,
    project_dim: int | None = None,
    token_types: bool = True,
    max_length: int = 512,
    pretrained_embeddings: str | dict[str, str] | None = None,
    pretrained_extend: int = 0,
    lexicon: bool = False,
    lexicon_dim: int = 50,
    lexicon_max_words: int = 4,
    lexicon_min_freq: int = 1,
    lexicon_unk_dropout: float = 0.1,
) -> ClassicEncoder:
    """Character embeddings (+ bigram, + jieba word-boundary BMES) concatenated, no context.

    One token per character of the original text (whitespace -> ``[SPACE]``), no special tokens
    for a single text, so labels per character map 1:1 to tokens.

    Args:
        char_dim: width of the character embedding.
        bigram: add an embedding of (this char, next char).
        bigram_dim: width of the bigram embedding.
        word_boundary: add an embedding of the char's B/M/E/S position in its jieba word.
        seg_dim: width of the word-boundary embedding.
        min_freq: characters seen fewer times in ``fit`` texts map to ``[UNK]``.
        bigram_min_freq: the same for bigrams.
        max_vocab: keep at most this many characters (most frequent first); None: no limit.
        max_bigram_vocab: the same for bigrams.
        unk_dropout: training-time probability of replacing a char id by ``[UNK]`` (teaches the
            ``[UNK]`` vector).
        bigram_unk_dropout: the same for bigram ids (unseen bigrams are common at test time).
        dropout: dropout on the concatenated embeddings.
        project_dim: if set, project the concatenation to this width (= hidden_size).
        token_types: learn a segment embedding for sentence pairs (zero-initialised).
        max_length: default truncation length of the tokenizer.
        pretrained_embeddings: word2vec text files that initialise embedding tables at ``fit``
            time: one path (the character table, ``char_dim`` wide) or a mapping of table names
            (``char``, ``bigram``, ``lexicon``) to files, each as wide as its table. File tokens
            are normalised as texts are; a bigram token is two characters (a text's last
            character pairs with ``"\\x03"``).
        pretrained_extend: add up to this many tokens of each pretrained file that the ``fit``
            texts lack to that table's vocabulary (file order, which word2vec tools write most
            frequent first), so characters / bigrams / words unseen in training still find their
            vectors at prediction time. 0: the vocabulary comes from the texts alone.
        lexicon: add SoftLexicon-style features (:mod:`zhnlp_classic.lexicon`): per char the
            jieba-dictionary words it begins / is inside / ends, each set's word embeddings
            mean-pooled, ``3 * lexicon_dim`` wide. Words are embedded from scratch; the
            vocabulary is the dictionary words matched in the ``fit`` texts.
        lexicon_dim: width of a word embedding in those sets.
        lexicon_max_words: words kept per set and character (longest first).
        lexicon_min_freq: words matched fewer times in ``fit`` texts map to ``[UNK]``.
        lexicon_unk_dropout: training-time probability of replacing a word id by ``[UNK]``.

    Returns:
        ClassicEncoder with ``hidden_size = project_dim`` or the sum of the embedding widths.
    """
    feats = _char_features(char_dim, bigram, bigram_dim, word_boundary, seg_dim, min_freq,
                           bigram_min_freq, max_vocab, max_bigram_vocab, unk_dropout,
                           bigram_unk_dropout, dropout, project_dim, token_types, max_length,
                           pretrained_embeddings, pretrained_extend=pretrained_extend, lexicon=lexicon,
                           lexicon_dim=lexicon_dim,
                           lexicon_max_words=lexicon_max_words, lexicon_min_freq=lexicon_min_freq,
                           lexicon_unk_dropout=lexicon_unk_dropout)
    return ClassicEncoder(feats, None, max_length)


def build_bilstm(
    char_dim: int = 128,
    bigram: bool = True,
    bigram_dim: int = 64,
    word_boundary: bool = True,
    seg_dim: int = 32,
    min_freq: int = 1,
    bigram_min_freq: int = 1,
    max_vocab: int | None = None,
    max_bigram_vocab: int | None = None,
    unk_dropout: float = 0.02,
    bigram_unk_dropout: float = 0.1,
    dropout: float = 0.5,
    project_dim: int | None = None,
    token_types: bool = True,
    max_length: int = 512,
    pretrained_embeddings: str | dict[str, str] | None = None,
    pretrained_extend: int = 0,
    lexicon: bool = False,
    lexicon_dim: int = 50,
    lexicon_max_words: int = 4,
    lexicon_min_freq: int = 1,
    lexicon_unk_dropout: float = 0.1,
    lstm_hidden: int = 256,
    lstm_layers: int = 1,
    lstm_dropout: float = 0.3,
) -> ClassicEncoder:
    """The ``char`` features followed by a stacked BiLSTM (:class:`zhnlp.layers.BiLSTM`: padding
    has no effect).

    Args:
        char_dim, bigram, bigram_dim, word_boundary, seg_dim, min_freq, bigram_min_freq,
        max_vocab, max_bigram_vocab, unk_dropout, bigram_unk_dropout, dropout, project_dim,
        token_types, max_length, pretrained_embeddings, pretrained_extend, lexicon, lexicon_dim,
        lexicon_max_words, lexicon_min_freq, lexicon_unk_dropout: as in :func:`build_char`.
        lstm_hidden: hidden units per direction.
        lstm_layers: number of stacked BiLSTM layers.
        lstm_dropout: dropout between layers and on the output.

    Returns:
        ClassicEncoder with ``hidden_size = 2 * lstm_hidden``.
    """
    _check("lstm_hidden", lstm_hidden, 1)
    _check("lstm_layers", lstm_layers, 1)
    feats = _char_features(char_dim, bigram, bigram_dim, word_boundary, seg_dim, min_freq,
                           bigram_min_freq, max_vocab, max_bigram_vocab, unk_dropout,
                           bigram_unk_dropout, dropout, project_dim, token_types, max_length,
                           pretrained_embeddings, pretrained_extend=pretrained_extend, lexicon=lexicon,
                           lexicon_dim=lexicon_dim,
                           lexicon_max_words=lexicon_max_words, lexicon_min_freq=lexicon_min_freq,
                           lexicon_unk_dropout=lexicon_unk_dropout)
    return ClassicEncoder(feats, context_bilstm(feats.output_size, lstm_hidden, lstm_layers, lstm_dropout), max_length)


def build_textcnn(
    char_dim: int = 128,
    bigram: bool = True,
    bigram_dim: int = 64,
    word_boundary: bool = True,
    seg_dim: int = 32,
    min_freq: int = 1,
    bigram_min_freq: int = 1,
    max_vocab: int | None = None,
    max_bigram_vocab: int | None = None,
    unk_dropout: float = 0.02,
    bigram_unk_dropout: float = 0.1,
    dropout: float = 0.5,
    project_dim: int | None = None,
    token_types: bool = True,
    max_length: int = 512,
    pretrained_embeddings: str | dict[str, str] | None = None,
    pretrained_extend: int = 0,
    kernel_sizes: Sequence[int] = (2, 3, 4),
    filters: int = 128,
    cnn_dropout: float = 0.3,
) -> ClassicEncoder:
    """The ``char`` features followed by parallel 'same'-padded 1-D convolutions + ReLU.

    The output stays per token (B, T, H); a classification head pools it.

    Args:
        char_dim, bigram, bigram_dim, word_boundary, seg_dim, min_freq, bigram_min_freq,
        max_vocab, max_bigram_vocab, unk_dropout, bigram_unk_dropout, dropout, project_dim,
        token_types, max_length, pretrained_embeddings, pretrained_extend: as in :func:`build_char`.
        kernel_sizes: one convolution per kernel size (tokens).
        filters: output channels per convolution.
        cnn_dropout: dropout on the convolution output.

    Returns:
        ClassicEncoder with ``hidden_size = filters * len(kernel_sizes)``.
    """
    kernel_sizes = list(kernel_sizes)
    if not kernel_sizes or min(kernel_sizes) < 1:
        raise ConfigError(f"kernel_sizes={kernel_sizes!r}: give one or more positive sizes")
    _check("filters", filters, 1)
    feats = _char_features(char_dim, bigram, bigram_dim, word_boundary, seg_dim, min_freq,
                           bigram_min_freq, max_vocab, max_bigram_vocab, unk_dropout,
                           bigram_unk_dropout, dropout, project_dim, token_types, max_length,
                           pretrained_embeddings, pretrained_extend=pretrained_extend)
    return ClassicEncoder(feats, TextCNN(feats.output_size, kernel_sizes, filters, cnn_dropout), max_length)


def build_word(
    word_dim: int = 128,
    char_features: bool = True,
    char_dim: int = 64,
    min_freq: int = 1,
    char_min_freq: int = 1,
    max_vocab: int | None = None,
    unk_dropout: float = 0.05,
    dropout: float = 0.3,
    project_dim: int | None = None,
    token_types: bool = True,
    max_length: int = 512,
    pretrained_embeddings: str | dict[str, str] | None = None,
    pretrained_extend: int = 0,
    lstm_layers: int = 1,
    lstm_hidden: int = 128,
    lstm_dropout: float = 0.3,
) -> ClassicEncoder:
    """One token per jieba word: word embedding (+ embeddings of its first and last character),
    then an optional BiLSTM. ``offset_mapping`` gives each word's character span.

    Args:
        word_dim: width of the word embedding.
        char_features: add embeddings of the word's first and last character (helps words
            unseen in training).
        char_dim: width of each of those character embeddings.
        min_freq: words seen fewer times in ``fit`` texts map to ``[UNK]``.
        char_min_freq: the same for characters.
        max_vocab: keep at most this many words (most frequent first); None: no limit.
        unk_dropout: training-time probability of replacing a word id by ``[UNK]``.
        dropout: dropout on the concatenated embeddings.
        project_dim: if set, project the embeddings to this width.
        token_types: learn a segment embedding for sentence pairs (zero-initialised).
        max_length: default truncation length of the tokenizer (in words).
        pretrained_embeddings: word2vec text files that initialise tables at ``fit`` time: one
            path (the word table, ``word_dim`` wide) or a mapping of table names (``word``,
            ``char``) to files.
        pretrained_extend: as in :func:`build_char` (words of the file join the vocabulary).
        lstm_layers: BiLSTM layers on top; 0 returns the embeddings themselves.
        lstm_hidden: hidden units per direction.
        lstm_dropout: dropout between layers and on the output.

    Returns:
        ClassicEncoder with ``hidden_size = 2 * lstm_hidden`` (or the embedding width if
        ``lstm_layers`` is 0).
    """
    _check("word_dim", word_dim, 1)
    _check("lstm_layers", lstm_layers, 0)
    _check("max_length", max_length, 1)
    tok = WordTokenizer(char_features=char_features, min_freq=min_freq, char_min_freq=char_min_freq,
                        max_vocab=max_vocab, max_length=max_length)
    tables = [Table("word", word_dim, vocab="input_ids", unk_dropout=unk_dropout)]
    fields = {"input_ids": "word"}
    if char_features:
        _check("char_dim", char_dim, 1)
        tables.append(Table("char", char_dim, vocab="chars"))
        fields.update(head_char_ids="char", tail_char_ids="char")
    tables = attach_pretrained(tables, pretrained_embeddings, pretrained_extend, default="word")
    feats = FeatureEmbedding(tok, tables, fields, dropout=dropout, project_dim=project_dim,
                             token_types=token_types)
    ctx = None
    if lstm_layers > 0:
        _check("lstm_hidden", lstm_hidden, 1)
        ctx = context_bilstm(feats.output_size, lstm_hidden, lstm_layers, lstm_dropout)
    return ClassicEncoder(feats, ctx, max_length)


_TINY = dict(char_dim=8, bigram_dim=6, seg_dim=4, max_length=64)

char = EncoderSpec(build=build_char, example_kwargs=lambda tmp_dir: dict(_TINY),
                   description="char + bigram + jieba BMES embeddings, no context layer (from scratch)")
bilstm = EncoderSpec(build=build_bilstm, example_kwargs=lambda tmp_dir: dict(_TINY, lstm_hidden=8, lstm_layers=2),
                     description="the char features + a stacked BiLSTM (from scratch)")
textcnn = EncoderSpec(build=build_textcnn, example_kwargs=lambda tmp_dir: dict(_TINY, kernel_sizes=[2, 3], filters=8),
                      description="the char features + 'same'-padded 1-D convolutions (from scratch)")
word = EncoderSpec(build=build_word,
                   example_kwargs=lambda tmp_dir: dict(word_dim=8, char_dim=4, lstm_hidden=8, max_length=64),
                   description="one token per jieba word (+ first/last char embeddings) + a BiLSTM (from scratch)")
