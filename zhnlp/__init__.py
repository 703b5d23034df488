"""zhnlp: a plugin-based NLP task framework for Chinese text.

Public API:
    available()                               registered plugin names per kind
    build_encoder(name, **kwargs)             build a registered encoder
    build_head(name, hidden_size, labels, **kwargs)   build a registered head
    load(path)                                a trained model with .predict(texts)
    keywords(texts, method, top_k)            keyword extraction with a registered method
    EncoderSpec, HeadSpec, DatasetSpec        what a plugin's entry points name (zhnlp.types)
    ModelOutput, GraphPart                    what a head's forward / export_part returns
Building blocks for plugins: zhnlp.textio (data files), zhnlp.layers (BiLSTM, freezing),
zhnlp.alignment (char <-> token spans), zhnlp.windows (long texts), zhnlp.voting (ensembles),
zhnlp.text (normalising with offsets), zhnlp.weights (checkpoint files); contract tests: ``pytest --pyargs zhnlp.testing``.
"""
from __future__ import annotations

from typing import Any

from zhnlp.errors import ConfigError, DataError, PluginError, ZhnlpError
from zhnlp.registry import available
from zhnlp.types import DatasetSpec, EncoderSpec, GraphPart, HeadSpec, ModelOutput

__version__ = "0.1.0"
__all__ = [
    "available", "build_encoder", "build_head", "load", "keywords",
    "EncoderSpec", "HeadSpec", "DatasetSpec", "ModelOutput", "GraphPart",
    "ZhnlpError", "DataError", "ConfigError", "PluginError",
]


def build_encoder(name: str, **kwargs: Any):
    """Build the encoder registered as ``name`` (entry point group ``zhnlp.encoders``).

    Args:
        name: entry-point name, e.g. ``"bert_wwm"`` or ``"char"``.
        **kwargs: the builder's options, e.g. ``pretrained="/path/to/checkpoint"``.

    Returns:
        A ``torch.nn.Module`` following ``zhnlp.types.Encoder``.
    """
    from zhnlp import registry

    return registry.build_encoder({"name": name, **kwargs})


def build_head(name: str, hidden_size: int, labels: list[str], **kwargs: Any):
    """Build the head registered as ``name`` (group ``zhnlp.heads``).

    Args:
        name: entry-point name, e.g. ``"crf"``.
        hidden_size: the encoder's width.
        labels: the label set (entity types, classes ...).
        **kwargs: the builder's options.

    Returns:
        A ``torch.nn.Module`` following ``zhnlp.types.Head``.
    """
    from zhnlp import registry

    return registry.build_head({"name": name, **kwargs}, hidden_size=hidden_size, labels=labels)


def load(path: str, device: str = "cpu"):
    """Load a trained run folder or checkpoint file for prediction (no Hydra, no network).

    Args:
        path: a run folder, its ``model/`` folder, a ``.ckpt`` file, or an export / ensemble / cv
            folder (its ``predictor.json`` names the loader).
        device: torch device string.

    Returns:
        A ``zhnlp.model.TaskModel`` (or an ONNX / ensemble predictor); call ``.predict(texts)``.
    """
    from zhnlp.predict import load_any

    return load_any(path, device=device)


def keywords(texts, method: str = "tfidf", top_k: int = 5, **kwargs: Any) -> list[list[tuple[str, float]]]:
    """Extract keywords with a method registered in ``zhnlp.keyword_methods``.

    Args:
        texts: a string or a list of strings.
        method: e.g. ``"tfidf"``, ``"textrank"``, ``"keybert"``, or ``"tagger"`` with ``run=RUN_DIR``.
        top_k: keywords per text.
        **kwargs: passed to the method's builder (e.g. ``encoder=...`` for keybert).

    Returns:
        For each text, ``[(keyword, score), ...]`` best first.
    """
    from zhnlp.registry import get

    single = isinstance(texts, str)
    texts = [texts] if single else list(texts)
    extractor = get("keyword_methods", method)(**kwargs)
    out = extractor(texts, top_k=top_k)
    return out[0] if single else out
