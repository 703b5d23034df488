"""The masked-LM models of the transformers encoders (``encoder.masked_lm()``, for ``zhnlp pretrain``).

``BertForMaskedLM`` / ``ErnieForMaskedLM`` / ``AlbertForMaskedLM`` is built from the encoder's
config, the encoder's current weights are copied into its base model, and the MLM-head tensors of
the checkpoint the encoder was loaded from (``cls.`` for BERT and ERNIE, ``predictions.`` for
ALBERT) are loaded when that weights file has them; otherwise the head starts fresh.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from zhnlp.weights import WEIGHT_FILES, read_weights

# model_type -> (transformers MLM class, key prefixes of its MLM head in hub checkpoints)
MLM_CLASSES = {"bert": ("BertForMaskedLM", ("cls.",)), "ernie": ("ErnieForMaskedLM", ("cls.",)),
               "albert": ("AlbertForMaskedLM", ("predictions.",))}


class TransformersMaskedLM(nn.Module):
    """A transformers ``*ForMaskedLM`` behind the ``zhnlp.types.MaskedLM`` contract.

    Args:
        model: the transformers MLM model.
        head_keys_loaded: how many MLM-head tensors came from the start checkpoint.
    """

    def __init__(self, model: nn.Module, head_keys_loaded: int = 0):
        super().__init__()
        self.model, self.head_keys_loaded = model, int(head_keys_loaded)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits  # (B, T, V)

    def save_pretrained(self, directory: str | Path) -> None:
        """config.json and model.safetensors (encoder under its ``bert.`` / ``ernie.`` /
        ``albert.`` prefix, plus the MLM head): what the encoder's builder loads."""
        self.model.save_pretrained(str(directory))


def head_weights(directory: Path | None, prefixes: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """The MLM-head tensors stored in a checkpoint directory (none without a weights file)."""
    if directory is None or not any((Path(directory) / name).is_file() for name in WEIGHT_FILES):
        return {}
    return {k: v for k, v in read_weights(directory).items() if k.startswith(prefixes)}


def load_head(model: nn.Module, head: dict[str, torch.Tensor]) -> int:
    """Load the head tensors that fit ``model`` (same name and shape); returns how many did."""
    own = model.state_dict()
    usable = {k: v for k, v in head.items() if k in own and own[k].shape == v.shape}
    if "cls.predictions.bias" in usable and "cls.predictions.decoder.bias" in own:
        usable.setdefault("cls.predictions.decoder.bias", usable["cls.predictions.bias"])
    model.load_state_dict(usable, strict=False)
    return len(usable)


def masked_lm(model: nn.Module, model_type: str, source: Path | None) -> TransformersMaskedLM:
    """The MLM model of a transformers encoder model.

    Args:
        model: the encoder's ``BertModel`` / ``ErnieModel`` / ``AlbertModel`` (its weights are
            copied, it is not modified).
        model_type: ``bert``, ``ernie`` or ``albert``.
        source: the checkpoint directory the encoder's weights came from (its MLM head is
            loaded when present); None: a fresh head.
    """
    import transformers

    class_name, prefixes = MLM_CLASSES[model_type]
    mlm = getattr(transformers, class_name)(model.config)
    mlm.base_model.load_state_dict(model.state_dict())
    return TransformersMaskedLM(mlm, load_head(mlm, head_weights(source, prefixes)))
