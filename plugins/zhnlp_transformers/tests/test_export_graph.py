"""The export-time BERT (``zhnlp_transformers.export_graph.PackedBert``) equals ``BertModel`` on
real tokens; ``TransformerEncoder.export_module`` offers it for BERT only."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from zhnlp_transformers.export_graph import PackedBert, packable


def right_padded_mask(lengths: list[int], total: int) -> torch.Tensor:
    """(B, T) int64 mask with a prefix of ``lengths[b]`` ones per row."""
    return (torch.arange(total)[None, :] < torch.tensor(lengths)[:, None]).long()


def tiny_bert():
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=40)
    return BertModel(config, add_pooling_layer=False).eval()


def test_packed_bert_equals_bert_on_real_tokens():
    model = tiny_bert()
    packed = PackedBert(model).eval()
    ids = torch.randint(1, 50, (3, 11))
    mask = right_padded_mask([11, 4, 7], 11)
    types = torch.randint(0, 2, (3, 11))
    with torch.no_grad():
        want = model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state  # (B, T, H)
        got = packed(ids, mask, types).last_hidden_state
    real = mask.bool()
    torch.testing.assert_close(got[real], want[real], atol=1e-5, rtol=1e-5)
    assert got[~real].abs().max() == 0  # padding rows are never computed
    with torch.no_grad():  # no padding at all, and no token types
        torch.testing.assert_close(packed(ids[:1]).last_hidden_state, model(input_ids=ids[:1]).last_hidden_state,
                                   atol=1e-5, rtol=1e-5)


def test_packable_refuses_other_models():
    assert packable(nn.Linear(2, 2)) is not None
    model = tiny_bert()
    assert packable(model) is None
    model.config.is_decoder = True
    assert "decoder" in packable(model)
    with pytest.raises(ValueError, match="cannot pack"):
        PackedBert(model)


def test_encoder_export_module_packs_bert_only(tmp_path):
    import zhnlp
    from zhnlp import registry

    bert = zhnlp.build_encoder("bert_wwm", **registry.get("encoders", "bert_wwm").example_kwargs(tmp_path)).eval()
    fast = bert.export_module().eval()
    assert isinstance(fast.model, PackedBert) and fast.hidden_size == bert.hidden_size
    assert type(bert.model).__name__ == "BertModel"  # the run's encoder is not modified
    batch = bert.tokenizer(["张伟在北京", "李娜"], padding=True, return_tensors="pt")
    with torch.no_grad():
        want, got = bert(**batch), fast(**batch)  # (B, T, H)
    real = batch["attention_mask"].bool()
    torch.testing.assert_close(got[real], want[real], atol=1e-5, rtol=1e-5)
    albert = zhnlp.build_encoder("albert_zh", **registry.get("encoders", "albert_zh").example_kwargs(tmp_path / "a"))
    assert albert.export_module() is None
