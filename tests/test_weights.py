"""zhnlp.weights: reading hub-layout checkpoint directories safely (safetensors, weights-only .bin, legacy names)."""
from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from zhnlp.errors import ConfigError
from zhnlp.weights import read_weights, strip_prefix


def test_reads_bin_and_renames_gamma_beta(tmp_path):
    state = {"bert.embeddings.LayerNorm.gamma": torch.ones(4),
             "bert.embeddings.LayerNorm.beta": torch.zeros(4),
             "bert.encoder.layer.0.output.dense.weight": torch.randn(4, 4),
             "cls.predictions.bias": torch.zeros(7)}
    torch.save(state, tmp_path / "pytorch_model.bin")
    weights = read_weights(tmp_path)
    assert set(weights) == {"bert.embeddings.LayerNorm.weight", "bert.embeddings.LayerNorm.bias",
                            "bert.encoder.layer.0.output.dense.weight", "cls.predictions.bias"}
    assert torch.equal(weights["bert.embeddings.LayerNorm.weight"], torch.ones(4))
    stripped = strip_prefix(weights, ["bert"])
    assert set(stripped) == {"embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
                             "encoder.layer.0.output.dense.weight"}


def test_prefers_safetensors(tmp_path):
    save_file({"a.weight": torch.ones(2)}, str(tmp_path / "model.safetensors"))
    torch.save({"b.weight": torch.ones(2)}, tmp_path / "pytorch_model.bin")
    assert set(read_weights(tmp_path)) == {"a.weight"}


def test_strip_prefix_keeps_unprefixed_and_drops_heads():
    state = {"nezha.encoder.x": torch.ones(1), "encoder.y": torch.ones(1),
             "albert.embeddings.z": torch.ones(1), "predictions.dense.weight": torch.ones(1),
             "sop_classifier.classifier.weight": torch.ones(1), "nezha.pooler.dense.bias": torch.ones(1)}
    out = strip_prefix(state, ("nezha.", "albert."))
    assert set(out) == {"encoder.x", "encoder.y", "embeddings.z", "pooler.dense.bias"}
    assert set(strip_prefix(state, ("nezha.",), drop=("pooler.",))) >= {"predictions.dense.weight"}


def test_no_weights_file(tmp_path):
    with pytest.raises(ConfigError, match=str(tmp_path)):
        read_weights(tmp_path)


def test_corrupt_file(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(ConfigError, match="model.safetensors"):
        read_weights(tmp_path)
