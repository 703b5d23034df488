"""Export-time equivalent of a transformers ``BertModel`` (used by ``zhnlp export``, never in training).

:class:`PackedBert`: a padded batch (B, T) holds N <= B*T real tokens. Every part of a BERT layer
except the attention scores works token by token (Q/K/V and output projections, feed-forward,
LayerNorms), so those run on the N real tokens gathered into (N, H) rows, which are scattered back
to (B, T, ...) only for the scores and their weighted sum. Padding positions then cost no matrix
products, and the three Q/K/V projections are one (H, 3H) product. Real positions get the values of
``BertModel`` up to float rounding; padding positions come out as zeros (``BertModel`` gives them
values that heads never read: they mask them). Packing and unpacking are Gathers: ``keep`` lists the
flat indices of real tokens (NonZero) and ``slot`` maps every flat position to its row in
``[zero row; packed rows]`` (0 for padding), so the graph keeps dynamic batch and sequence axes.
"""
from __future__ import annotations

import torch
from torch import nn


def packable(model: nn.Module) -> str | None:
    """Why ``model`` cannot become a :class:`PackedBert` (None when it can)."""
    from transformers import BertModel

    if type(model) is not BertModel:
        return f"{type(model).__name__} is not a transformers BertModel"
    cfg = model.config
    if cfg.is_decoder or getattr(cfg, "add_cross_attention", False):
        return "decoder / cross-attention BERT"
    if getattr(cfg, "position_embedding_type", "absolute") != "absolute":
        return f"position_embedding_type={cfg.position_embedding_type}"
    return None


class PackedLayer(nn.Module):
    """One BERT layer on packed rows: (N, H) -> (N, H), attention through the padded layout.

    Args:
        layer: a transformers ``BertLayer`` (its output and feed-forward modules are reused).
        heads: number of attention heads.
    """

    def __init__(self, layer: nn.Module, heads: int):
        super().__init__()
        attn = layer.attention.self
        self.heads, self.head_dim, self.scaling = heads, attn.attention_head_size, attn.scaling
        self.qkv = nn.Linear(attn.query.in_features, 3 * attn.all_head_size)
        with torch.no_grad():
            self.qkv.weight.copy_(torch.cat([attn.query.weight, attn.key.weight, attn.value.weight]))  # (3H', H)
            self.qkv.bias.copy_(torch.cat([attn.query.bias, attn.key.bias, attn.value.bias]))  # (3H',)
        self.attention_output, self.intermediate, self.output = layer.attention.output, layer.intermediate, layer.output

    def forward(self, rows: torch.Tensor, keep: torch.Tensor, slot: torch.Tensor, bias: torch.Tensor,
                shape: tuple[int, int]) -> torch.Tensor:
        b, t = shape
        qkv = self.qkv(rows)  # (N, 3H')
        padded = torch.cat([qkv.new_zeros(1, qkv.size(1)), qkv]).index_select(0, slot)  # (B*T, 3H')
        q, k, v = padded.view(b, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)  # (B, h, T, d)
        scores = torch.matmul(q, k.transpose(2, 3)) * self.scaling + bias  # (B, h, T, T)
        context = torch.matmul(torch.softmax(scores, dim=-1), v)  # (B, h, T, d)
        context = context.transpose(1, 2).reshape(b * t, -1).index_select(0, keep)  # (N, H')
        rows = self.attention_output(context, rows)  # dense, residual, LayerNorm: (N, H)
        return self.output(self.intermediate(rows), rows)  # feed-forward, residual, LayerNorm: (N, H)


class PackedBert(nn.Module):
    """A ``BertModel`` computing its matrix products on real tokens only (see the module docstring).

    Args:
        model: the transformers ``BertModel`` (modules are shared, except the fused Q/K/V copy).

    Raises:
        ValueError: the model is not an encoder-only BertModel with absolute positions.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        reason = packable(model)
        if reason:
            raise ValueError(f"cannot pack this model: {reason}")
        self.config = model.config
        self.embeddings = model.embeddings
        heads = model.config.num_attention_heads
        self.layers = nn.ModuleList(PackedLayer(layer, heads) for layer in model.encoder.layer)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None, **_: torch.Tensor):
        from transformers.modeling_outputs import BaseModelOutput

        b, t = input_ids.shape
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        hidden = self.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)  # (B, T, H)
        real = (attention_mask.reshape(-1) != 0).long()  # (B*T,)
        keep = torch.nonzero(real).squeeze(1)  # (N,) flat indices of real tokens
        slot = torch.cumsum(real, 0) * real  # (B*T,) row in [zero row; packed rows]: 1..N, 0 on padding
        bias = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min  # (B,1,1,T)
        rows = hidden.reshape(b * t, -1).index_select(0, keep)  # (N, H)
        for layer in self.layers:
            rows = layer(rows, keep, slot, bias, (b, t))
        out = torch.cat([rows.new_zeros(1, rows.size(1)), rows]).index_select(0, slot).view(b, t, -1)  # (B, T, H)
        return BaseModelOutput(last_hidden_state=out)
