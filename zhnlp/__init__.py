"""zhnlp: a plugin-based NLP task framework for Chinese text.

Public API:
    available()                         registered plugin names per kind
    build_encoder(name, **kwargs)       build a registered encoder
    build_head(name, **kwargs)          build a registered head
    load(run_dir_or_checkpoint)         a Predictor with .predict(texts)
    keywords(texts, method, top_k)      keyword extraction with a registered method
"""
from __future__ import annotations

from typing import Any

from zhnlp.errors import ConfigError, DataError, PluginError, ZhnlpError
from zhnlp.registry import available

__version__ = "0.1.0"
__all__ = [
    "available", "build_encoder", "build_head", "load", "keywords",
    "ZhnlpError", "DataError", "ConfigError", "PluginError",
]


def build_encoder(name: str, **kwargs: Any):
    """Build the encoder registered as ``name`` (entry point group ``zhnlp.encoders``).

    Args:
        name: entry-point name, e.g. ``"bert_wwm"`` or ``"char"``.
        **kwargs: passed to the plugin's builder, e.g. ``pretrained="/path/to/checkpoint"``.

    Returns:
        A ``torch.nn.Module`` with ``hidden_size`` and ``tokenizer`` (see ``zhnlp.types.Encoder``).
    """
    from zhnlp.registry import get

    return get("encoders", name)(**kwargs)


def build_head(name: str, **kwargs: Any):
    """Build the head registered as ``name`` (group ``zhnlp.heads``).

    Args:
        name: entry-point name, e.g. ``"crf"``.
        **kwargs: builder arguments; at least ``hidden_size`` and ``labels``.

    Returns:
        A ``torch.nn.Module`` following ``zhnlp.types.Head``.
    """
    from zhnlp.registry import get

    return get("heads", name)(**kwargs)


def load(path: str, device: str = "cpu"):
    """Load a trained run folder or checkpoint file for prediction (no Hydra, no network).

    Args:
        path: a run folder (holding ``checkpoints/``) or a ``.ckpt`` file.
        device: torch device string.

    Returns:
        A ``zhnlp.predict.Predictor``; call ``.predict(list_of_texts)``.
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
