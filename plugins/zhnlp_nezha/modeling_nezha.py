"""NEZHA (Wei et al. 2019, "NEZHA: Neural Contextualized Representation for Chinese Language
Understanding", arXiv:1909.00204) in one file, readable top to bottom.

NEZHA is BERT with one change in how the model learns word order: there are NO absolute
position embeddings. Instead every self-attention layer adds *functional relative position
encodings*: for a query at position i and a key at position j, the distance j - i is clipped to
[-K, K] (K = ``max_relative_position``), shifted to an index in [0, 2K], and looked up in a fixed
sinusoid table (nothing learned). The same (T, T, head_dim) tensor R enters attention twice:

    score[i, j]  = (q_i . k_j + q_i . R[i, j]) / sqrt(head_dim)
    context[i]   = sum_j p[i, j] * (v_j + R[i, j])

Parameter names follow the checkpoints written by transformers 4.x ``NezhaModel``
(``embeddings.word_embeddings.weight``, ``encoder.layer.0.attention.self.query.weight`` ...), so
those state dicts load without renaming once their ``nezha.`` prefix is removed.

Shape letters: B batch, T tokens, H hidden size, N heads, D head size (H / N), I intermediate
size, V vocabulary size, K max_relative_position.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu": F.gelu,  # exact (erf) GELU, what "gelu" means in BERT/NEZHA configs
    "gelu_new": partial(F.gelu, approximate="tanh"),
    "gelu_pytorch_tanh": partial(F.gelu, approximate="tanh"),
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
    "tanh": torch.tanh,
}


@dataclass
class NezhaConfig:
    """Architecture hyper-parameters, as found in a NEZHA checkpoint's ``config.json``.

    The defaults are those of NEZHA-base-Chinese. Keys of ``config.json`` that are not fields
    here (``architectures``, ``transformers_version`` ...) are kept in ``extra`` so that
    ``to_dict`` writes them back unchanged.
    """

    vocab_size: int = 21128
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    max_relative_position: int = 64
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    initializer_range: float = 0.02
    pad_token_id: int = 0
    use_relative_position: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be a multiple of num_attention_heads "
                f"({self.num_attention_heads})"
            )
        if self.hidden_act not in ACTIVATIONS:
            raise ValueError(
                f"hidden_act {self.hidden_act!r} is not supported; use one of {sorted(ACTIVATIONS)}"
            )
        if self.max_relative_position < 1:
            raise ValueError(
                f"max_relative_position must be >= 1, got {self.max_relative_position}"
            )

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "NezhaConfig":
        """Build from a ``config.json`` dict; unknown keys go to ``extra``."""
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {k: v for k, v in values.items() if k in names}
        extra = {k: v for k, v in values.items() if k not in names and k != "extra"}
        return cls(**known, extra=extra)

    @classmethod
    def from_json_file(cls, path: str | Path) -> "NezhaConfig":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def to_dict(self) -> dict[str, Any]:
        """The ``config.json`` content: extra keys, then the fields, with ``model_type``."""
        values = dict(self.extra)
        values.update({k: v for k, v in dataclasses.asdict(self).items() if k != "extra"})
        values["model_type"] = "nezha"
        return values


# --------------------------------------------------------------------------------------------
# Functional relative position encodings
# --------------------------------------------------------------------------------------------


def sinusoid_table(num_positions: int, depth: int) -> torch.Tensor:
    """The fixed sinusoid table of "Attention Is All You Need": sin on even, cos on odd columns.

    Row p, column 2c holds sin(p / 10000^(2c/depth)); column 2c+1 holds the cos of the same.

    Returns:
        (num_positions, depth) float32 tensor.
    """
    position = torch.arange(num_positions, dtype=torch.float32).unsqueeze(1)  # (P, 1)
    inv_freq = torch.exp(
        torch.arange(0, depth, 2, dtype=torch.float32) * (-math.log(10000.0) / depth)
    )  # (ceil(D/2),)
    angles = position * inv_freq  # (P, ceil(D/2))
    table = torch.zeros(num_positions, depth)  # (P, D)
    table[:, 0::2] = torch.sin(angles)  # (P, ceil(D/2))
    table[:, 1::2] = torch.cos(angles[:, : depth // 2])  # (P, floor(D/2))
    return table


def relative_position_index(length: int, max_relative_position: int, device=None) -> torch.Tensor:
    """Index into the sinusoid table for every (query i, key j) pair.

    The distance j - i is clipped to [-K, K] and shifted by K, so index K means "same
    position", 0 means "K or more tokens to the left", 2K "K or more to the right".

    Returns:
        (T, T) long tensor with values in [0, 2K].
    """
    positions = torch.arange(length, device=device)  # (T,)
    distance = positions.unsqueeze(0) - positions.unsqueeze(1)  # (T, T): [i, j] = j - i
    clipped = distance.clamp(-max_relative_position, max_relative_position)  # (T, T)
    return clipped + max_relative_position  # (T, T) in [0, 2K]


class RelativePositions(nn.Module):
    """Looks up the (T, T, D) relative position encodings for a sequence length.

    Nothing is learned; the (2K + 1, D) table is a non-persistent buffer, so it follows the
    module across devices and dtypes and never appears in a state dict.
    """

    def __init__(self, depth: int, max_relative_position: int):
        super().__init__()
        self.max_relative_position = max_relative_position
        table = sinusoid_table(2 * max_relative_position + 1, depth)  # (2K+1, D)
        self.register_buffer("table", table, persistent=False)

    def forward(self, length: int) -> torch.Tensor:
        index = relative_position_index(length, self.max_relative_position, self.table.device)
        return self.table[index]  # (T, T, D)


# --------------------------------------------------------------------------------------------
# Embeddings: word + token type (no absolute positions)
# --------------------------------------------------------------------------------------------


class NezhaEmbeddings(nn.Module):
    def __init__(self, config: NezhaConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(
            config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id
        )
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        words = self.word_embeddings(input_ids)  # (B, T, H)
        types = self.token_type_embeddings(token_type_ids)  # (B, T, H)
        return self.dropout(self.LayerNorm(words + types))  # (B, T, H)


# --------------------------------------------------------------------------------------------
# Encoder layer: self-attention with relative positions, then a feed-forward block
# --------------------------------------------------------------------------------------------


class NezhaSelfAttention(nn.Module):
    def __init__(self, config: NezhaConfig):
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.head_size = config.head_size
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape  # (B, T, H)
        return x.view(batch, length, self.num_heads, self.head_size).transpose(1, 2)  # (B, N, T, D)

    def forward(
        self,
        hidden: torch.Tensor,  # (B, T, H)
        mask_bias: torch.Tensor,  # (B, 1, 1, T): 0 for tokens, very negative for padding
        relative: torch.Tensor | None,  # (T, T, D) or None
    ) -> torch.Tensor:
        query = self.split_heads(self.query(hidden))  # (B, N, T, D)
        key = self.split_heads(self.key(hidden))  # (B, N, T, D)
        value = self.split_heads(self.value(hidden))  # (B, N, T, D)

        scores = query @ key.transpose(-1, -2)  # (B, N, T, T)
        if relative is not None:
            # q_i . R[i, j]: how much query i attends to "a token at distance j - i".
            scores = scores + torch.einsum("bnid,ijd->bnij", query, relative)  # (B, N, T, T)
        scores = scores / math.sqrt(self.head_size) + mask_bias  # (B, N, T, T)
        probs = self.dropout(scores.softmax(dim=-1))  # (B, N, T, T)

        context = probs @ value  # (B, N, T, D)
        if relative is not None:
            # sum_j p[i, j] * R[i, j]: the same encodings enrich the values.
            context = context + torch.einsum("bnij,ijd->bnid", probs, relative)  # (B, N, T, D)
        batch, _, length, _ = context.shape
        return context.transpose(1, 2).reshape(batch, length, -1)  # (B, T, H)


class AddNorm(nn.Module):
    """Project, drop out, add the residual, LayerNorm (``...output`` in checkpoint names)."""

    def __init__(self, in_size: int, config: NezhaConfig):
        super().__init__()
        self.dense = nn.Linear(in_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        # x: (B, T, in_size), residual: (B, T, H)
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)  # (B, T, H)


class NezhaAttention(nn.Module):
    def __init__(self, config: NezhaConfig):
        super().__init__()
        self.self = NezhaSelfAttention(config)  # name fixed by the checkpoints
        self.output = AddNorm(config.hidden_size, config)

    def forward(self, hidden, mask_bias, relative):
        return self.output(self.self(hidden, mask_bias, relative), hidden)  # (B, T, H)


class Intermediate(nn.Module):
    def __init__(self, config: NezhaConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.act = ACTIVATIONS[config.hidden_act]

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.act(self.dense(hidden))  # (B, T, I)


class NezhaLayer(nn.Module):
    def __init__(self, config: NezhaConfig):
        super().__init__()
        self.attention = NezhaAttention(config)
        self.intermediate = Intermediate(config)
        self.output = AddNorm(config.intermediate_size, config)

    def forward(self, hidden, mask_bias, relative):
        attended = self.attention(hidden, mask_bias, relative)  # (B, T, H)
        return self.output(self.intermediate(attended), attended)  # (B, T, H)


class NezhaEncoder(nn.Module):
    def __init__(self, config: NezhaConfig):
        super().__init__()
        self.layer = nn.ModuleList(NezhaLayer(config) for _ in range(config.num_hidden_layers))

    def forward(self, hidden, mask_bias, relative):
        for layer in self.layer:
            hidden = layer(hidden, mask_bias, relative)  # (B, T, H)
        return hidden


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


def init_weights(module: nn.Module, std: float) -> None:
    """BERT-style initialisation: N(0, std) weights, zero biases, identity LayerNorms."""
    for sub in module.modules():
        if isinstance(sub, nn.Linear):
            nn.init.normal_(sub.weight, std=std)
            if sub.bias is not None:
                nn.init.zeros_(sub.bias)
        elif isinstance(sub, nn.Embedding):
            nn.init.normal_(sub.weight, std=std)
            if sub.padding_idx is not None:
                with torch.no_grad():
                    sub.weight[sub.padding_idx].zero_()
        elif isinstance(sub, nn.LayerNorm):
            nn.init.ones_(sub.weight)
            nn.init.zeros_(sub.bias)


class NezhaModel(nn.Module):
    """NEZHA encoder: token ids -> last hidden states.

    Its ``state_dict`` matches a transformers 4.x ``NezhaModel`` checkpoint minus ``pooler.*``
    (the pooler is a classification-pretraining leftover that zhnlp heads do not use).
    """

    def __init__(self, config: NezhaConfig):
        super().__init__()
        self.config = config
        self.embeddings = NezhaEmbeddings(config)
        self.encoder = NezhaEncoder(config)
        self.relative_positions = (
            RelativePositions(config.head_size, config.max_relative_position)
            if config.use_relative_position
            else None
        )
        init_weights(self, config.initializer_range)

    def forward(
        self,
        input_ids: torch.Tensor,  # (B, T)
        attention_mask: torch.Tensor | None = None,  # (B, T): 1 token, 0 padding
        token_type_ids: torch.Tensor | None = None,  # (B, T)
    ) -> torch.Tensor:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)  # (B, T)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)  # (B, T)
        hidden = self.embeddings(input_ids, token_type_ids)  # (B, T, H)
        # Additive mask: 0 where attending is allowed, the dtype's minimum at padded keys.
        keep = attention_mask[:, None, None, :].to(hidden.dtype)  # (B, 1, 1, T)
        mask_bias = (1.0 - keep) * torch.finfo(hidden.dtype).min  # (B, 1, 1, T)
        relative = None
        if self.relative_positions is not None:
            relative = self.relative_positions(input_ids.shape[1]).to(hidden.dtype)  # (T, T, D)
        return self.encoder(hidden, mask_bias, relative)  # (B, T, H)


# --------------------------------------------------------------------------------------------
# Masked-LM head, for continued pretraining (state dict matches NezhaForMaskedLM checkpoints)
# --------------------------------------------------------------------------------------------


class MLMTransform(nn.Module):
    def __init__(self, config: NezhaConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.act = ACTIVATIONS[config.hidden_act]
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.act(self.dense(hidden)))  # (B, T, H)


class MLMPredictions(nn.Module):
    def __init__(self, config: NezhaConfig, word_embeddings: nn.Embedding):
        super().__init__()
        self.transform = MLMTransform(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.decoder.weight = word_embeddings.weight  # tied: (V, H)
        self.bias = self.decoder.bias  # checkpoints store the bias under both names

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.transform(hidden))  # (B, T, V)


class MLMHead(nn.Module):
    def __init__(self, config: NezhaConfig, word_embeddings: nn.Embedding):
        super().__init__()
        self.predictions = MLMPredictions(config, word_embeddings)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.predictions(hidden)  # (B, T, V)


class NezhaForMaskedLM(nn.Module):
    """``nezha`` (a NezhaModel) + ``cls`` (the tied masked-LM head): returns (B, T, V) logits."""

    def __init__(self, config: NezhaConfig):
        super().__init__()
        self.nezha = NezhaModel(config)
        self.cls = MLMHead(config, self.nezha.embeddings.word_embeddings)
        init_weights(self.cls.predictions.transform, config.initializer_range)
        nn.init.zeros_(self.cls.predictions.bias)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None) -> torch.Tensor:
        hidden = self.nezha(input_ids, attention_mask, token_type_ids)  # (B, T, H)
        return self.cls(hidden)  # (B, T, V)
