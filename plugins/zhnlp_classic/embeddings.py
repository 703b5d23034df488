"""Per-token feature embeddings whose vocabularies are learnt by ``fit`` and saved in state_dict.

The vocabularies travel as this module's *extra state* (a uint8 tensor holding UTF-8 JSON, so it
survives ``torch.save``, ``torch.load(weights_only=True)`` and safetensors alike). PyTorch sets a
module's extra state before it copies its children's parameters, so ``set_extra_state`` can
create correctly sized embedding tables on a freshly built, unfitted module and
``load_state_dict`` then fills them.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import numpy as np

import torch
from torch import nn

from zhnlp.errors import ConfigError, ZhnlpError
from zhnlp.text import same_length
from zhnlp_classic.vocab import PAD_ID, SPECIALS, UNK_ID, Vocab

_STATE_FORMAT = 1


@dataclass(frozen=True)
class Table:
    """One embedding table: sized by a tokenizer vocabulary (``vocab``) or fixed (``size``)."""

    name: str
    dim: int
    vocab: str | None = None
    size: int | None = None
    unk_dropout: float = 0.0  # training only: replace ids by [UNK] with this probability
    pretrained: str | None = None  # word2vec text file with vectors for this table's tokens
    extend: int = 0  # fit adds up to this many tokens of that file missing from the texts
    groups: int = 0  # > 0: ids are (B, T, groups * K) sets of K ids (0 = empty), mean-pooled per set

    @property
    def width(self) -> int:
        """Output width per token: ``dim``, or ``groups * dim`` for pooled sets."""
        return self.dim * max(self.groups, 1)


def _init_table(emb: nn.Embedding) -> None:
    bound = math.sqrt(3.0 / emb.embedding_dim)  # unit expected norm per vector
    nn.init.uniform_(emb.weight, -bound, bound)
    with torch.no_grad():
        emb.weight[PAD_ID].zero_()


def _vector_rows(path: str, dim: int, table: str) -> Iterator[tuple[int, str, list[str]]]:
    """(line number, normalised token, ``dim`` value strings) per vector of a word2vec text file.

    The token is everything before the last ``dim`` fields, so tokens containing spaces (bigrams
    such as "中 ") survive. The width is checked against an optional "count dim" header line, or
    else against the first vector line (whose token must then have no space).
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"pretrained_embeddings: {path} is not a file; give a word2vec text file for the "
                          f"'{table}' table")
    with p.open(encoding="utf-8", errors="replace") as fh:
        first = True
        for n, line in enumerate(fh, 1):
            line = line.rstrip(" \r\n")
            if not line:
                continue
            parts = line.rsplit(" ", dim)  # [token, v1 .. v_dim]
            if n == 1 and len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():  # "count dim"
                if int(parts[1]) != dim:
                    raise ConfigError(f"{path}:1: the file's vectors are {parts[1]} wide but the '{table}' table "
                                      f"is {dim} wide; set that table's dim to the file's size")
                first = False
                continue
            width = len(line.split(" ")) - 1 if first else len(parts) - 1  # a first token has no space
            if width != dim:
                raise ConfigError(f"{path}:{n}: expected a token and {dim} values (the '{table}' table's dim), "
                                  f"found {width}; set that table's dim to the file's size")
            first = False
            yield n, same_length(parts[0]), parts[1:]


Rows = tuple[torch.Tensor, torch.Tensor]  # (ids (N,), vectors (N, dim)) of one table


def read_word2vec_text(path: str, vocab: Vocab, dim: int, table: str = "char", extend: int = 0) -> tuple[Vocab, Rows]:
    """One pass over a word2vec text file: ``vocab`` extended and the vectors of its tokens.

    Args:
        path: the file. vocab: the table's vocabulary from the texts. dim: the table's width.
        table: the table's name (for error messages).
        extend: up to this many file tokens that ``vocab`` lacks join it, in file order (word2vec
            tools write the most frequent first), so texts at prediction time find their vectors.

    Returns:
        (the vocabulary, possibly extended; (ids, vectors) of its tokens found in the file). File
        tokens are normalised as texts are (:func:`zhnlp.text.same_length`); the first
        vector of a token wins.
    """
    rows: dict[int, list[str]] = {}
    extra: dict[str, int] = {}
    for _, token, values in _vector_rows(path, dim, table):
        idx = vocab.stoi.get(token, extra.get(token))
        if idx is None and token and len(extra) < extend:
            idx = extra[token] = len(vocab) + len(extra)
        if idx is not None and idx >= len(SPECIALS) and idx not in rows:
            rows[idx] = values
    try:
        vectors = np.asarray(list(rows.values()), dtype=np.float32).reshape(len(rows), dim)  # (N, dim)
    except ValueError as exc:
        raise ConfigError(f"{path}: a vector value is not a number ({exc})") from exc
    vocab = Vocab([*vocab.itos, *extra]) if extra else vocab
    return vocab, (torch.tensor(list(rows), dtype=torch.long), torch.from_numpy(vectors))


def attach_pretrained(tables: list[Table], spec, extend: int, default: str) -> list[Table]:
    """``tables`` with their pretrained vector files set from an encoder's ``pretrained_embeddings``.

    Args:
        tables: the encoder's tables.
        spec: None, one path (for the ``default`` table), or {table name: path}.
        extend: add up to this many tokens of each file to that table's vocabulary (0: none).
        default: the table a single path is for.

    Raises:
        ConfigError: ``spec`` names a table the encoder lacks, or ``extend`` is negative.
    """
    if extend < 0:
        raise ConfigError(f"pretrained_extend={extend}: give 0 (no extension) or a positive token count")
    if not spec:
        return tables
    if isinstance(spec, (str, Path)):
        paths = {default: str(spec)}
    elif hasattr(spec, "items"):
        paths = {str(k): str(v) for k, v in spec.items() if v}
    else:
        raise ConfigError(f"pretrained_embeddings={spec!r}: give a word2vec text file (for the {default} table) "
                          f"or a mapping of table names to files")
    names = [t.name for t in tables if t.vocab is not None]
    unknown = sorted(set(paths) - set(names))
    if unknown:
        raise ConfigError(f"pretrained_embeddings names {', '.join(unknown)}, but this encoder's vocabulary tables "
                          f"are {', '.join(names)}")
    return [replace(t, pretrained=paths[t.name], extend=extend) if t.name in paths else t for t in tables]


class FeatureEmbedding(nn.Module):
    """Looks up each feature key (``input_ids``, ``bigram_ids``, ...) in its table, concatenates,
    adds a segment (token type) embedding, applies dropout and an optional projection.

    Args:
        tokenizer: the tokenizer whose vocabularies size the tables.
        tables: the embedding tables.
        fields: feature key -> table name, in concatenation order (tables may be shared).
        dropout: dropout on the concatenated embeddings.
        project_dim: if set, a Linear layer maps the concatenation to this width.
        token_types: add a learnt embedding of ``token_type_ids`` (sentence pairs).
    """

    def __init__(self, tokenizer, tables: list[Table], fields: dict[str, str], dropout: float = 0.0,
                 project_dim: int | None = None, token_types: bool = True):
        super().__init__()
        self.tokenizer = tokenizer
        self.tables = {t.name: t for t in tables}
        self.fields = dict(fields)
        self.emb = nn.ModuleDict()
        for t in tables:
            if t.vocab is None:
                self.emb[t.name] = nn.Embedding(t.size, t.dim, padding_idx=PAD_ID)
                _init_table(self.emb[t.name])
        width = sum(self.tables[name].width for name in self.fields.values())
        self.type_emb = nn.Embedding(2, width) if token_types else None
        if self.type_emb is not None:
            nn.init.zeros_(self.type_emb.weight)  # a fresh model treats both segments alike
        self.dropout = nn.Dropout(dropout)
        self.proj = nn.Linear(width, project_dim) if project_dim else None
        self.output_size = project_dim or width

    # ---- vocabulary -------------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        return self.tokenizer.is_fitted

    def fit(self, texts) -> None:
        """Build the vocabularies from ``texts`` (plus the tokens of pretrained vector files that a
        table's ``extend`` lets in) and create (fresh) vocabulary-sized tables, pretrained rows set."""
        texts = list(texts)
        if not texts:
            raise ZhnlpError("fit() got no texts: pass the training texts to build a vocabulary")
        vocabs, rows = self.tokenizer.build_vocabs(texts), {}
        for t in self.tables.values():
            if t.pretrained and t.vocab in vocabs:
                vocabs[t.vocab], rows[t.name] = read_word2vec_text(t.pretrained, vocabs[t.vocab], t.dim, t.name,
                                                                   t.extend)
        self.tokenizer.set_vocabs(vocabs)
        self._build_tables(rows=rows)

    def _build_tables(self, reuse: bool = False, rows: dict[str, Rows] | None = None) -> None:
        """Create the vocabulary-sized tables. ``reuse`` keeps a table that already has the right
        size (``load_state_dict`` overwrites its values in place, so an optimizer built on it
        stays valid); ``fit`` always starts from fresh random tables. ``rows``: table name ->
        (ids, vectors) to set in it (what ``fit`` read from the vector files)."""
        vocabs = self.tokenizer.vocabs
        ref = next(self.parameters(), None)
        to = {} if ref is None else {"device": ref.device, "dtype": ref.dtype}
        for t in self.tables.values():
            if t.vocab is None:
                continue
            if t.vocab not in vocabs:
                raise ZhnlpError(
                    f"no '{t.vocab}' vocabulary for table '{t.name}': the state_dict was saved by an "
                    "encoder built with different settings; rebuild it from the saved config"
                )
            size = len(vocabs[t.vocab])
            if reuse and t.name in self.emb and self.emb[t.name].num_embeddings == size:
                continue
            emb = nn.Embedding(size, t.dim, padding_idx=PAD_ID)
            _init_table(emb)
            if rows and t.name in rows:
                ids, vectors = rows[t.name]
                with torch.no_grad():
                    emb.weight[ids] = vectors.to(emb.weight.dtype)
            self.emb[t.name] = emb.to(**to)

    def get_extra_state(self) -> torch.Tensor:
        if not self.is_fitted:
            return torch.zeros(0, dtype=torch.uint8)
        state = {"format": _STATE_FORMAT,
                 "vocabs": {k: v.itos for k, v in self.tokenizer.vocabs.items()}}
        raw = json.dumps(state, ensure_ascii=False).encode("utf-8")
        return torch.frombuffer(bytearray(raw), dtype=torch.uint8).clone()

    def set_extra_state(self, state) -> None:
        if isinstance(state, torch.Tensor):
            if state.numel() == 0:
                return  # saved before fit: nothing to restore
            state = json.loads(bytes(state.cpu().tolist()).decode("utf-8"))
        if not state:
            return
        if state.get("format") != _STATE_FORMAT:
            raise ZhnlpError(f"unknown vocabulary state format {state.get('format')!r}")
        self.tokenizer.set_vocabs({k: Vocab(v) for k, v in state["vocabs"].items()})
        self._build_tables(reuse=True)

    # ---- forward ----------------------------------------------------------------------------
    def _lookup(self, table: Table, ids: torch.Tensor) -> torch.Tensor:
        if self.training and table.unk_dropout > 0:
            drop = (ids >= len(SPECIALS)) & (torch.rand(ids.shape, device=ids.device) < table.unk_dropout)
            ids = ids.masked_fill(drop, UNK_ID)
        if table.groups:
            return self._pooled(table, ids)
        return self.emb[table.name](ids)  # (B, T, dim)

    def _pooled(self, table: Table, ids: torch.Tensor) -> torch.Tensor:
        """Mean of the non-empty slots of each of ``table.groups`` sets: (B, T, G*K) -> (B, T, G*dim)."""
        B, T = ids.shape[:2]
        if ids.dim() == 2:  # (B, 0): an empty text has no slot dimension
            return ids.new_zeros(B, T, table.width, dtype=self.emb[table.name].weight.dtype)
        G = table.groups
        vecs = self.emb[table.name](ids).view(B, T, G, -1, table.dim)  # (B, T, G, K, dim)
        filled = (ids > PAD_ID).view(B, T, G, -1, 1).to(vecs.dtype)  # (B, T, G, K, 1)
        pooled = vecs.sum(3) / filled.sum(3).clamp(min=1.0)  # (B, T, G, dim); PAD rows are 0
        return pooled.reshape(B, T, table.width)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None, **features) -> torch.Tensor:
        if not self.is_fitted:
            raise ZhnlpError("the encoder has no vocabulary yet: call encoder.fit(train_texts) first")
        parts = []
        for key, name in self.fields.items():
            ids = input_ids if key == "input_ids" else features.get(key)
            if ids is None:
                raise ZhnlpError(
                    f"forward() needs '{key}': pass every key the encoder's tokenizer returns"
                )
            parts.append(self._lookup(self.tables[name], ids))
        x = torch.cat(parts, dim=-1)  # (B, T, width)
        if self.type_emb is not None:
            if token_type_ids is None:  # same as all zeros
                x = x + self.type_emb.weight[0]
            else:
                x = x + self.type_emb(token_type_ids)  # (B, T, width)
        x = self.dropout(x)
        if self.proj is not None:
            x = self.proj(x)  # (B, T, project_dim)
        return x * attention_mask.unsqueeze(-1).to(x.dtype)  # padding positions are exactly 0
