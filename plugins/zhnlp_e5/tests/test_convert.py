"""The tiny container read, converted and loaded by transformers: every weight exactly what the
test encoded, positions from 0, a working forward pass and tokenizer offsets."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from zhnlp.errors import DataError
from zhnlp_e5.container import read_container
from zhnlp_e5.convert import save_model, tensor_shapes
from zhnlp_e5.tokenizer import save_tokenizer


@pytest.fixture
def built(tiny, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    parsed = read_container(tiny.container)
    save_tokenizer(tiny.tokenizer, parsed, out)
    save_model(parsed, out)
    return out


def test_reader_gives_header_pieces_and_tensors(tiny):
    c = read_container(tiny.container)
    assert (c.hidden, c.layers, c.heads, c.ffn, c.max_positions) == (64, 2, 2, 128, 64)
    assert c.vocab_rows == tiny.rows == len(tiny.pieces) + 3 and c.pieces == tiny.pieces
    assert (c.bos, c.eos, c.pad, c.unk) == (0, 2, 1, 3)
    assert {n: c.tensors[n].dtype for n in ("emb.word", "emb.pos", "l1.fi.w")} == {"emb.word": 1, "emb.pos": 0,
                                                                                 "l1.fi.w": 1}
    assert np.array_equal(c.values("l0.q.w"), tiny.values["l0.q.w"].reshape(-1))


def test_bert_model_holds_exactly_the_encoded_weights(tiny, built):
    from transformers import BertModel

    model, info = BertModel.from_pretrained(built, add_pooling_layer=False, output_loading_info=True)
    assert not any(info.values()), info  # nothing missing, unexpected or mismatched
    assert model.config.vocab_size == tiny.rows and model.config.max_position_embeddings == 64
    params = model.state_dict()
    for name, (source, shape) in tensor_shapes(read_container(tiny.container)).items():
        assert torch.equal(params[name], torch.from_numpy(tiny.values[source])), name


def test_positions_start_at_zero_without_an_offset(tiny, built):
    """e5.c adds position row t to token t (``<s>`` takes row 0): BERT style, not RoBERTa's padding_idx + 1."""
    from transformers import BertModel

    model = BertModel.from_pretrained(built, add_pooling_layer=False).eval()
    ids = torch.tensor([[0, 15, 16, 17, 2]])  # <s> ▁北京 大学 读书 </s>
    v = tiny.values
    x = v["emb.word"][ids[0].numpy()] + v["emb.pos"][:5] + v["emb.type"][0]  # (5, H)
    x = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-12) * v["emb.ln.w"] + v["emb.ln.b"]
    with torch.no_grad():
        got = model.embeddings(input_ids=ids)[0].numpy()
    assert np.allclose(got, x, atol=1e-5)


def test_forward_and_offsets_through_the_auto_classes(built):
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(built)
    model = AutoModel.from_pretrained(built, add_pooling_layer=False).eval()
    text = "在北京大学读书ABC123😀"
    enc = tokenizer(text, return_offsets_mapping=True, return_tensors="pt")
    pieces = tokenizer.convert_ids_to_tokens(enc["input_ids"][0].tolist())
    assert tokenizer.is_fast and pieces[0] == "<s>" and pieces[-1] == "</s>" and "大学" in pieces
    assert "".join(text[a:b] for a, b in enc["offset_mapping"][0].tolist()[2:-1]) == text[1:]  # ▁ spans the first char
    with torch.no_grad():
        hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
    assert hidden.shape == (1, len(pieces), 64) and torch.isfinite(hidden).all()
    config = json.loads((built / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "XLMRobertaTokenizer" and config["mask_token"] == "<mask>"


def test_a_tokenizer_of_another_checkpoint_is_refused(tiny, tmp_path):
    data = json.loads(tiny.tokenizer.read_text(encoding="utf-8"))
    data["model"]["vocab"][9][0] = "东"  # one piece differs: ids would point at the wrong rows
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DataError, match=r"other\.json: not the checkpoint's tokenizer.*first difference at id 9"):
        save_tokenizer(other, read_container(tiny.container), tmp_path)
