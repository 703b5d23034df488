"""The masked-LM model of the ``nezha`` encoder (``encoder.masked_lm()``, for ``zhnlp pretrain``).

:class:`~zhnlp_nezha.modeling_nezha.NezhaForMaskedLM` is built from the encoder's config, the
encoder's current weights are copied into its ``nezha`` part, and the ``cls.`` MLM-head tensors of
the checkpoint the encoder was loaded from are loaded when that weights file has them.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from zhnlp.weights import WEIGHT_FILES, read_weights
from zhnlp_nezha.modeling_nezha import NezhaConfig, NezhaForMaskedLM, NezhaModel

HEAD_PREFIX = "cls."


class NezhaMaskedLM(nn.Module):
    """``NezhaForMaskedLM`` behind the ``zhnlp.types.MaskedLM`` contract.

    Args:
        model: the MLM model.
        head_keys_loaded: how many MLM-head tensors came from the start checkpoint.
    """

    def __init__(self, model: NezhaForMaskedLM, head_keys_loaded: int = 0):
        super().__init__()
        self.model, self.head_keys_loaded = model, int(head_keys_loaded)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask)  # (B, T, V)

    def save_pretrained(self, directory: str | Path) -> None:
        """``model.safetensors``: the encoder under ``nezha.`` and the ``cls.`` head, the tied
        decoder weight stored once (as the word embeddings). config.json and vocab.txt come from
        the encoder's ``save_assets``."""
        from safetensors.torch import save_file

        state, seen = {}, set()
        for key, value in self.model.state_dict().items():
            if value.data_ptr() in seen:  # tied decoder weight / bias alias: stored once
                continue
            seen.add(value.data_ptr())
            state[key] = value.detach().contiguous().cpu()
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        save_file(state, str(out / "model.safetensors"))


def head_weights(directory: Path | None) -> dict[str, torch.Tensor]:
    """The ``cls.`` tensors stored in a checkpoint directory (none without a weights file)."""
    if directory is None or not any((Path(directory) / name).is_file() for name in WEIGHT_FILES):
        return {}
    return {k: v for k, v in read_weights(directory).items() if k.startswith(HEAD_PREFIX)}


def masked_lm(model: NezhaModel, config: NezhaConfig, source: Path | None) -> NezhaMaskedLM:
    """The MLM model of a NEZHA encoder.

    Args:
        model: the encoder's NezhaModel (its weights are copied; it is not modified).
        config: its config.
        source: the checkpoint directory its weights came from (its ``cls.`` head is loaded when
            present); None: a fresh head.
    """
    mlm = NezhaForMaskedLM(config)
    mlm.nezha.load_state_dict(model.state_dict())
    own = mlm.state_dict()
    usable = {k: v for k, v in head_weights(source).items() if k in own and own[k].shape == v.shape}
    if "cls.predictions.bias" in usable:  # one tensor under two names
        usable.setdefault("cls.predictions.decoder.bias", usable["cls.predictions.bias"])
    mlm.load_state_dict(usable, strict=False)
    return NezhaMaskedLM(mlm, len(usable))
