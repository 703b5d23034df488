"""Any fast transformers tokenizer as a zhnlp tokenizer: exact char offsets, optional id remapping.

WordPiece (BERT) offsets are already what zhnlp needs. SentencePiece / BPE tokenizers (XLM-R,
multilingual e5, RoBERTa) are not: a piece may include the space before a word (``▁hello`` at
(3, 9) for `` hello``), a standalone ``▁`` is aligned to the first character of the next piece
((0, 1) beside (0, 3) for ``▁`` ``在北京``), and byte-level BPE gives every byte piece of one emoji
the same span. :func:`clean_offsets` turns the tokenizer's offsets into disjoint spans of original
characters, whitespace trimmed; a piece that owns no character keeps its place in the sequence
(the model needs it) with an empty span, which zhnlp reads as "not a real token" (no label, never
part of an entity). Empty spans are never ``(0, 0)``, the mark of special tokens.

With vocabulary pruning (``prune_vocab``) the ids are remapped after tokenization through
``id_map``: original id -> embedding row, unknown pieces -> the row of the unknown token.
"""
from __future__ import annotations

from typing import Any, Sequence

CAN_OFFSET = ("fast tokenizers (a tokenizer.json in the directory, e.g. BertTokenizerFast, "
              "XLMRobertaTokenizerFast or any PreTrainedTokenizerFast)")


def clean_offsets(text: str, offsets: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    """Disjoint, whitespace-trimmed char spans of one text's pieces (special tokens left out).

    Args:
        text: the original string.
        offsets: the tokenizer's (start, end) per piece, in order.

    Returns:
        One (start, end) per piece: a piece owning characters their span
        (a piece whose span lies inside the next piece's yields it to that piece; a partial
        overlap is cut at the previous end); a piece owning none (a standalone ``▁``, a
        whitespace piece, the leading bytes of a character) an empty span (p, p) at the next
        character, p >= 1.
    """
    spans: list[list[int]] = []
    for s, e in offsets:
        s, e = int(s), int(e)
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        spans.append([s, e])
    for span, successor in zip(spans, spans[1:]):  # a piece inside its successor owns nothing
        (s, e), (s2, e2) = span, successor
        if e > s and s2 <= s and e <= e2:
            span[1] = s
    previous_end = 0
    for span in spans:  # a partial overlap is cut at the previous end (and trimmed again)
        if span[1] > span[0]:
            span[0] = max(span[0], previous_end)
            while span[0] < span[1] and text[span[0]].isspace():
                span[0] += 1
            span[1] = max(span[1], span[0])
            previous_end = max(previous_end, span[1])
    out: list[tuple[int, int]] = []
    following = len(text)
    for span in reversed(spans):  # empty spans sit at the next character (never (0, 0))
        if span[1] > span[0]:
            following = span[0]
            out.append((span[0], span[1]))
        else:
            p = max(1, min(following, len(text)))
            out.append((p, p))
    return out[::-1]


class PieceTokenizer:
    """A fast transformers tokenizer called the way zhnlp calls tokenizers.

    Args:
        tokenizer: a fast (``is_fast``) transformers tokenizer.
        id_map: original id -> embedding row (pruned vocabulary); None keeps the ids.
        unk_row: the row of pieces missing from ``id_map``.

    Returns per text (lists, no padding): the tokenizer's ``model_input_names`` keys and
    ``offset_mapping`` from :func:`clean_offsets`.
    """

    def __init__(self, tokenizer: Any, id_map: Sequence[int] | None = None, unk_row: int = 0):
        self.hf = tokenizer
        self.keys = [k for k in tokenizer.model_input_names if k in ("input_ids", "attention_mask", "token_type_ids")]
        self.id_map = list(id_map) if id_map is not None else None
        self.unk_row = int(unk_row)

    def __len__(self) -> int:
        return len(self.hf)

    def remap(self, ids: Sequence[int]) -> list[int]:
        """Original ids -> embedding rows (identity without pruning; -1 in the map = unknown)."""
        if self.id_map is None:
            return list(ids)
        table, unk, n = self.id_map, self.unk_row, len(self.id_map)
        return [table[i] if i < n and table[i] >= 0 else unk for i in ids]

    def __call__(self, texts: str | Sequence[str], pairs: str | Sequence[str | None] | None = None,
                 return_offsets_mapping: bool = True, add_special_tokens: bool = True, **_: Any) -> dict:
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        if pairs is None or isinstance(pairs, str):
            second = [pairs] * len(batch)
        else:
            second = list(pairs)
        out: dict[str, list] = {k: [] for k in self.keys}
        if return_offsets_mapping:
            out["offset_mapping"] = []
        # rows with and without a second text are tokenized apart (the tokenizer takes one kind)
        groups = [[j for j, p in enumerate(second) if p is None], [j for j, p in enumerate(second) if p is not None]]
        rows: list[dict | None] = [None] * len(batch)
        for with_pair, index in enumerate(groups):
            if not index:
                continue
            args = [[batch[j] for j in index]] + ([[second[j] for j in index]] if with_pair else [])
            enc = self.hf(*args, add_special_tokens=add_special_tokens, return_offsets_mapping=True,
                          return_special_tokens_mask=True, truncation=False, padding=False)
            for n, j in enumerate(index):
                rows[j] = {k: enc[k][n] for k in enc.keys()} | {"_seq": enc.sequence_ids(n)}
        for j, row in enumerate(rows):
            for key in self.keys:
                values = row.get(key)
                if key == "input_ids":
                    values = self.remap(values)
                elif values is None:  # attention_mask is always there; token_type_ids may not be
                    values = [0] * len(row["input_ids"])
                out[key].append(list(values))
            if return_offsets_mapping:
                out["offset_mapping"].append(self.offsets(batch[j], second[j], row))
        return {k: v[0] for k, v in out.items()} if single else out

    @staticmethod
    def offsets(text: str, text_b: str | None, row: dict) -> list[tuple[int, int]]:
        """Cleaned offsets of one row: the first text's pieces into ``text``, the second's into
        ``text_b`` (as transformers gives them), special tokens (0, 0)."""
        seq, special, raw = row["_seq"], row["special_tokens_mask"], row["offset_mapping"]
        out = [(0, 0)] * len(raw)
        for which, source in ((0, text), (1, text_b)):
            index = [k for k, s in enumerate(seq) if s == which and not special[k]]
            if not index:
                continue
            clean = clean_offsets(source, [raw[k] for k in index])
            for k, span in zip(index, clean):
                out[k] = span
        return out
