"""Tokenizers for the from-scratch encoders, callable like a ``transformers`` tokenizer.

Whitespace: every whitespace character (space, tab, newline, U+3000, NBSP, ...) becomes its own
``[SPACE]`` token (word tokenizer: one per whitespace character too), so every character of the
original string is covered by exactly one token and offsets are exact.

Special tokens: a single text gets none (token ``i`` of the char tokenizer IS character ``i``);
a text pair is joined with one ``[SEP]`` token (offset (0, 0), ``token_type_ids`` 0 before and
through it, 1 after). ``add_special_tokens=False`` joins a pair without the ``[SEP]``. Offsets of
the second segment are relative to ``text_pair``, as in ``transformers``.

Feature ids (``bigram_ids``, ``seg_ids``, ...) are aligned one-to-one with ``input_ids``; 0 is
padding in every one of them.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Sequence

import torch

from zhnlp.errors import ZhnlpError
from zhnlp.text import same_length
from zhnlp_classic.lexicon import SETS, word_sets
from zhnlp_classic.text import SEG_SPECIAL, bmes, cut
from zhnlp_classic.vocab import PAD_ID, SEP_ID, SPACE_ID, UNK_ID, Vocab

_END = "\x03"  # right neighbour of the last character in a bigram key
_OFFSETS: list[tuple[int, int]] = []  # shared (i, i + 1) tuples: no per-call tuple allocation


def _char_offsets(n: int) -> list[tuple[int, int]]:
    if n > len(_OFFSETS):
        _OFFSETS.extend((i, i + 1) for i in range(len(_OFFSETS), max(n, 2 * len(_OFFSETS), 1024)))
    return _OFFSETS[:n]


class _Ids(dict):
    """key -> id; a missing key is [UNK] (lets ``map(ids.__getitem__, keys)`` run at C speed)."""

    def __missing__(self, key: str) -> int:
        return UNK_ID


class _Tokenizer:
    """Shared machinery: pairs, truncation, batching, padding. Subclasses encode one segment."""

    #: feature key -> id its [SEP] token gets
    sep_ids: dict[str, int] = {"input_ids": SEP_ID}
    pad_token_id = PAD_ID
    unk_token_id = UNK_ID
    sep_token_id = SEP_ID
    padding_side = "right"

    def __init__(self, max_length: int = 512):
        self.model_max_length = max_length
        self.vocabs: dict[str, Vocab] | None = None
        self.row_widths: dict[str, int] = {}  # feature key -> K for (T, K) per-token id lists

    # ---- vocabulary -------------------------------------------------------------------------
    def build_vocabs(self, texts: Iterable[str]) -> dict[str, Vocab]:  # pragma: no cover
        raise NotImplementedError

    def set_vocabs(self, vocabs: dict[str, Vocab]) -> None:
        self.vocabs = vocabs

    @property
    def is_fitted(self) -> bool:
        return self.vocabs is not None

    def _check_fitted(self) -> None:
        if self.vocabs is None:
            raise ZhnlpError(
                f"{type(self).__name__} has no vocabulary yet: call encoder.fit(train_texts) "
                "(or load a state_dict saved after fit) before tokenizing."
            )

    def get_vocab(self) -> dict[str, int]:
        self._check_fitted()
        return dict(self.vocabs["input_ids"].stoi)

    @property
    def vocab_size(self) -> int:
        self._check_fitted()
        return len(self.vocabs["input_ids"])

    def __len__(self) -> int:
        return self.vocab_size

    def convert_ids_to_tokens(self, ids: int | Sequence[int]) -> str | list[str]:
        self._check_fitted()
        itos = self.vocabs["input_ids"].itos
        if isinstance(ids, int):
            return itos[ids]
        return [itos[i] for i in ids]

    # ---- encoding ---------------------------------------------------------------------------
    def encode_segment(self, text: str) -> dict[str, list]:  # pragma: no cover - abstract
        """Token ids, feature ids and ``offset_mapping`` of one text, no special tokens."""
        raise NotImplementedError

    def __call__(
        self,
        text: str | Sequence[str],
        text_pair: str | Sequence[str] | None = None,
        *,
        add_special_tokens: bool = True,
        truncation: bool | str = False,
        max_length: int | None = None,
        padding: bool | str = False,
        return_offsets_mapping: bool = False,
        return_tensors: str | None = None,
        **_ignored: Any,
    ) -> dict[str, list]:
        """Encode one text (or pair), or a batch of them.

        Args:
            text: a string, or a list of strings for a batch.
            text_pair: the second segment(s) of sentence pairs, same shape as ``text``.
            add_special_tokens: join a pair with ``[SEP]`` (single texts never get specials).
            truncation: cut to ``max_length`` tokens (longest segment first for pairs).
            max_length: token limit for truncation / ``padding="max_length"``;
                defaults to ``model_max_length``.
            padding: ``True``/``"longest"`` or ``"max_length"`` pads a batch with 0.
            return_offsets_mapping: include ``offset_mapping`` ((0, 0) for [SEP] and padding).
            return_tensors: ``"pt"`` for LongTensors (needs equal lengths or padding).

        Returns:
            dict with ``input_ids``, ``attention_mask``, ``token_type_ids``, the feature ids and,
            if asked, ``offset_mapping``: lists for one text, lists of lists for a batch.
        """
        self._check_fitted()
        batched = not isinstance(text, str)
        if batched:
            texts = list(text)
            pairs = [None] * len(texts) if text_pair is None else list(text_pair)
            if len(pairs) != len(texts):
                raise ZhnlpError(f"got {len(texts)} texts but {len(pairs)} text pairs")
        else:
            if text_pair is not None and not isinstance(text_pair, str):
                raise ZhnlpError("text is a single string, so text_pair must be one string too")
            texts, pairs = [text], [text_pair]
        limit = None
        if truncation and truncation != "do_not_truncate":
            limit = max_length if max_length is not None else self.model_max_length
        rows = [
            self._encode(a, b, add_special_tokens, limit, return_offsets_mapping)
            for a, b in zip(texts, pairs)
        ]
        if padding and padding != "do_not_pad":
            target = max((len(r["input_ids"]) for r in rows), default=0)
            if padding == "max_length":
                target = max(target, max_length if max_length is not None else self.model_max_length)
            rows = [self._pad(r, target) for r in rows]
        out = {k: [r[k] for r in rows] for k in rows[0]} if rows else {"input_ids": []}
        if not batched:
            out = {k: v[0] for k, v in out.items()}
        if return_tensors == "pt":
            out = {k: torch.tensor(v, dtype=torch.long) for k, v in out.items()}
        elif return_tensors is not None:
            raise ZhnlpError(f"return_tensors={return_tensors!r} is not supported; use 'pt' or None")
        return out

    def _encode(self, a: str, b: str | None, specials: bool, limit: int | None, offsets: bool):
        first = self.encode_segment(a)
        second = self.encode_segment(b) if b is not None else None
        n_sep = 1 if (second is not None and specials) else 0
        n1 = len(first["input_ids"])
        n2 = len(second["input_ids"]) if second is not None else 0
        if limit is not None:
            budget = max(0, limit - n_sep)
            while n1 + n2 > budget:  # longest_first, as transformers does
                if n1 >= n2:
                    n1 -= 1
                else:
                    n2 -= 1
        row: dict[str, list] = {}
        for key, ids in first.items():
            if key == "offset_mapping" and not offsets:
                continue
            vals = ids[:n1]
            if second is not None:
                if n_sep:
                    vals = vals + [(0, 0) if key == "offset_mapping" else self.sep_ids.get(key, SEP_ID)]
                vals = vals + second[key][:n2]
            row[key] = vals
        total = n1 + n_sep + n2
        row["attention_mask"] = [1] * total
        row["token_type_ids"] = [0] * (n1 + n_sep) + [1] * n2
        return row

    def _pad(self, row: dict[str, list], target: int) -> dict[str, list]:
        extra = target - len(row["input_ids"])
        if extra <= 0:
            return row

        def fill(k: str):
            if k == "offset_mapping":
                return (0, 0)
            return [0] * self.row_widths[k] if k in self.row_widths else 0

        return {k: v + [fill(k)] * extra for k, v in row.items()}


class CharTokenizer(_Tokenizer):
    """One token per character; optional ``bigram_ids`` (this char + the next), ``seg_ids``
    (BMES position of the char in its jieba word) and ``lexicon_ids`` (per char a list of
    ``3 * lexicon_max_words`` ids: the B/M/E word sets of :mod:`zhnlp_classic.lexicon`, 0 = empty
    slot; words not matched in the ``fit`` texts are [UNK]).

    Vocabulary keys are normalised characters (see :func:`zhnlp.text.same_length`), so
    "Ａ", "A" and "a" share an id while offsets still point at the original characters.
    """

    sep_ids = {"input_ids": SEP_ID, "bigram_ids": SEP_ID, "seg_ids": SEG_SPECIAL}

    def __init__(
        self,
        bigram: bool = True,
        word_boundary: bool = True,
        min_freq: int = 1,
        bigram_min_freq: int = 1,
        max_vocab: int | None = None,
        max_bigram_vocab: int | None = None,
        max_length: int = 512,
        lexicon: bool = False,
        lexicon_max_words: int = 4,
        lexicon_min_freq: int = 1,
    ):
        super().__init__(max_length)
        self.bigram, self.word_boundary = bigram, word_boundary
        self.lexicon, self.lexicon_max_words = lexicon, lexicon_max_words
        self.lexicon_min_freq = lexicon_min_freq
        if lexicon:
            width = SETS * lexicon_max_words
            self.row_widths = {"lexicon_ids": width}
            self.sep_ids = {**CharTokenizer.sep_ids, "lexicon_ids": [PAD_ID] * width}
        self.min_freq, self.bigram_min_freq = min_freq, bigram_min_freq
        self.max_vocab, self.max_bigram_vocab = max_vocab, max_bigram_vocab
        self._char: dict[str, int] = _Ids()
        self._bigram: dict[str, int] = _Ids()
        self._lex: dict[str, int] = _Ids()

    @staticmethod
    def bigram_keys(norm: str) -> Iterable[str]:
        return map(str.__add__, norm, norm[1:] + _END)  # (this char, next char)

    def build_vocabs(self, texts: Iterable[str]) -> dict[str, Vocab]:
        chars, bigrams, words = Counter(), Counter(), Counter()
        for text in texts:
            norm = same_length(text)
            chars.update(norm)
            if self.bigram:
                bigrams.update(self.bigram_keys(norm))
            if self.lexicon:  # each matched word once per place it starts
                words.update(w for row in word_sets(norm, self.lexicon_max_words)
                             for w in row[: self.lexicon_max_words] if w)
        chars.pop(" ", None)  # whitespace is always [SPACE]
        vocabs = {"input_ids": Vocab.from_counts(chars, self.min_freq, self.max_vocab)}
        if self.bigram:
            vocabs["bigram_ids"] = Vocab.from_counts(bigrams, self.bigram_min_freq, self.max_bigram_vocab)
        if self.lexicon:
            vocabs["lexicon_ids"] = Vocab.from_counts(words, self.lexicon_min_freq)
        return vocabs

    def set_vocabs(self, vocabs: dict[str, Vocab]) -> None:
        super().set_vocabs(vocabs)
        self._char = _Ids(vocabs["input_ids"].stoi)
        self._char[" "] = SPACE_ID
        self._bigram = _Ids(vocabs["bigram_ids"].stoi if "bigram_ids" in vocabs else {})
        self._lex = _Ids(vocabs["lexicon_ids"].stoi if "lexicon_ids" in vocabs else {})
        self._lex[""] = PAD_ID  # empty slot

    def encode_segment(self, text: str) -> dict[str, list]:
        norm = same_length(text)
        out: dict[str, list] = {"input_ids": list(map(self._char.__getitem__, norm))}
        if self.bigram:
            out["bigram_ids"] = list(map(self._bigram.__getitem__, self.bigram_keys(norm)))
        if self.word_boundary:
            out["seg_ids"] = list(bmes(norm))
        if self.lexicon:
            get = self._lex.__getitem__
            out["lexicon_ids"] = [list(map(get, row)) for row in word_sets(norm, self.lexicon_max_words)]
        out["offset_mapping"] = _char_offsets(len(text))
        return out


class WordTokenizer(_Tokenizer):
    """One token per jieba word (whitespace: one ``[SPACE]`` per character). Besides the word id,
    ``head_char_ids`` / ``tail_char_ids`` give the ids of the word's first and last character,
    which lets the model say something about out-of-vocabulary words."""

    sep_ids = {"input_ids": SEP_ID, "head_char_ids": SEP_ID, "tail_char_ids": SEP_ID}

    def __init__(
        self,
        char_features: bool = True,
        min_freq: int = 1,
        char_min_freq: int = 1,
        max_vocab: int | None = None,
        max_length: int = 512,
    ):
        super().__init__(max_length)
        self.char_features = char_features
        self.min_freq, self.char_min_freq, self.max_vocab = min_freq, char_min_freq, max_vocab
        self._word: dict[str, int] = _Ids()
        self._char: dict[str, int] = _Ids()

    def build_vocabs(self, texts: Iterable[str]) -> dict[str, Vocab]:
        words, chars = Counter(), Counter()
        for text in texts:
            norm = same_length(text)
            words.update(cut(norm))
            if self.char_features:
                chars.update(norm)
        words.pop(" ", None)
        vocabs = {"input_ids": Vocab.from_counts(words, self.min_freq, self.max_vocab)}
        if self.char_features:
            chars.pop(" ", None)
            vocabs["chars"] = Vocab.from_counts(chars, self.char_min_freq)
        return vocabs

    def set_vocabs(self, vocabs: dict[str, Vocab]) -> None:
        super().set_vocabs(vocabs)
        self._word = _Ids(vocabs["input_ids"].stoi)
        self._word[" "] = SPACE_ID
        self._char = _Ids(vocabs["chars"].stoi if "chars" in vocabs else {})
        self._char[" "] = SPACE_ID

    def encode_segment(self, text: str) -> dict[str, list]:
        words = cut(same_length(text))
        out: dict[str, list] = {"input_ids": list(map(self._word.__getitem__, words))}
        if self.char_features:
            cget = self._char.__getitem__
            out["head_char_ids"] = [cget(w[0]) for w in words]
            out["tail_char_ids"] = [cget(w[-1]) for w in words]
        offsets, pos = [], 0
        for w in words:
            offsets.append((pos, pos + len(w)))
            pos += len(w)
        out["offset_mapping"] = offsets
        return out
