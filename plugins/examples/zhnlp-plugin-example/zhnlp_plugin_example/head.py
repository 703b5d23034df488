"""mlp_tagger: zhnlp's softmax NER head with a two-layer MLP in place of its linear layer.

Shows the cheap way to customise a built-in head: build it, then swap a part (composition).
"""
from __future__ import annotations

from torch import nn
from zhnlp_ner.heads import build_softmax


def build_mlp_tagger(hidden_size: int, labels: list[str], inner: int = 128, dropout: float = 0.1, scheme: str = "BIO"):
    """Build the MLP tagging head.

    Args:
        hidden_size: encoder output width (given by zhnlp at run time).
        labels: entity types (given by zhnlp at run time).
        inner: width of the MLP's hidden layer.
        dropout: dropout before the MLP.
        scheme: tagging scheme, BIO or BIOES.

    Returns:
        A zhnlp head (targets / forward / predict / evaluate).
    """
    head = build_softmax(hidden_size=hidden_size, labels=labels, scheme=scheme, dropout=dropout)
    head.proj = nn.Sequential(nn.Linear(hidden_size, inner), nn.GELU(), nn.Linear(inner, len(head.tags)))  # (B,T,H)->(B,T,K)
    return head


build_mlp_tagger.collect_labels = build_softmax.collect_labels
build_mlp_tagger.example_data = "sample_ner"
