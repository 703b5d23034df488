"""The core building blocks: BiLSTM (against a packed bidirectional nn.LSTM on the same weights),
freezing, text folding with offsets, file reading, and truncation of encodings."""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from zhnlp.data.features import truncate
from zhnlp.errors import ConfigError, DataError
from zhnlp.layers import BiLSTM, freeze
from zhnlp.text import fold_with_offsets, nfkc_lower, same_length
from zhnlp.textio import iter_lines, read_corpus_lines, read_jsonl, read_lines


def packed_reference(layer: BiLSTM, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The same weights in torch's packed bidirectional LSTM, layer by layer."""
    lengths = mask.sum(1)
    h = x
    for fwd, bwd in zip(layer.forward_layers, layer.backward_layers):
        ref = nn.LSTM(h.size(2), fwd.hidden_size, batch_first=True, bidirectional=True)
        with torch.no_grad():
            for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
                getattr(ref, name).copy_(getattr(fwd, name))
                getattr(ref, name + "_reverse").copy_(getattr(bwd, name))
        packed = pack_padded_sequence(h, lengths, batch_first=True, enforce_sorted=False)
        out, _ = ref(packed)
        h, _ = pad_packed_sequence(out, batch_first=True, total_length=x.size(1))
    return h


@pytest.mark.parametrize("layers", [1, 2])
def test_bilstm_equals_the_packed_bidirectional_lstm(layers):
    torch.manual_seed(0)
    layer = BiLSTM(6, 5, layers=layers).eval()
    x = torch.randn(3, 7, 6)
    mask = torch.tensor([[1] * 7, [1] * 4 + [0] * 3, [1] * 1 + [0] * 6])
    got = layer(x, mask)  # (B, T, 2H)
    assert got.shape == (3, 7, 10)
    torch.testing.assert_close(got, packed_reference(layer, x, mask), atol=1e-6, rtol=1e-5)
    assert torch.all(got[1, 4:] == 0) and torch.all(got[2, 1:] == 0)  # zero on padding
    assert layer(x[:, :0], mask[:, :0]).shape == (3, 0, 10)
    assert len(layer.groups()) == layers


def test_bilstm_rejects_nonsense_sizes():
    with pytest.raises(ConfigError, match="layers >= 1"):
        BiLSTM(4, 4, layers=0)


def test_freeze_groups():
    groups = [[nn.Parameter(torch.zeros(1))] for _ in range(4)]
    assert freeze(groups, "embeddings") == 1 and not groups[0][0].requires_grad and groups[1][0].requires_grad
    assert freeze(groups, "none", freeze_layers=2) == 3 and not groups[2][0].requires_grad and groups[3][0].requires_grad
    with pytest.raises(ConfigError, match="encoder.freeze='some'"):
        freeze(groups, "some")
    with pytest.raises(ConfigError, match="encoder.freeze_layers=4: must be an integer from 0 to 3"):
        freeze(groups, "none", freeze_layers=4)


def test_text_folds_keep_offsets():
    text = "ＡＢＣ银行 ㎏\u3000End"
    assert len(same_length(text)) == len(text) and same_length(text).startswith("abc银行 ")
    folded, origin = fold_with_offsets(text, nfkc_lower)
    assert folded == "abc银行 kg end"
    j = folded.index("kg")
    assert text[origin[j] : origin[j + 1] + 1] == "㎏"  # two folded chars, one original
    no_punct, origin = fold_with_offsets("《笑傲·江湖》", lambda c: "" if c in "《》·" else c)
    assert no_punct == "笑傲江湖" and origin == [1, 2, 4, 5]


def test_text_files_read_as_utf8_with_file_and_line(tmp_path):
    good = tmp_path / "a.txt"
    good.write_bytes(b"\xef\xbb\xbfone\r\ntwo\u2028half\n\n".replace(b"\\u2028", "\u2028".encode()))
    assert read_lines(good) == [(1, "one"), (2, "two\u2028half"), (3, ""), (4, "")]
    assert [(n, line) for n, line, _ in iter_lines(good)] == [(1, "one"), (2, "two\u2028half"), (3, "")]
    bad = tmp_path / "gbk.txt"
    bad.write_bytes("第一行\n".encode() + "第二行".encode("gb18030"))
    with pytest.raises(DataError, match=r"gbk.txt:2: not valid UTF-8.*iconv -f GB18030"):
        read_lines(bad)
    assert [line for _, line, _ in iter_lines(bad, strict=False)] == ["第一行", None]
    with pytest.raises(DataError, match="missing.txt: file not found. Fix data.dev_path"):
        read_lines(tmp_path / "missing.txt", key="data.dev_path")
    jsonl = tmp_path / "x.jsonl"
    jsonl.write_text('{"text": "a"}\n\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"x.jsonl:3: expected a JSON object per line, got list"):
        read_jsonl(jsonl)
    blank = tmp_path / "blank.txt"
    blank.write_text(" \n\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="--corpus .*blank.txt: no text found"):
        read_corpus_lines(blank, "--corpus")


def test_truncation_keeps_closing_specials_only_when_there_are_some():
    bert = {"input_ids": list(range(10)), "offset_mapping": [(0, 0)] + [(i, i + 1) for i in range(8)] + [(0, 0)]}
    cut = truncate(bert, 5)
    assert cut["input_ids"] == [0, 1, 2, 3, 9]  # [CLS] 3 tokens [SEP]
    chars = {"input_ids": list(range(3000)), "offset_mapping": [(i, i + 1) for i in range(3000)]}
    cut = truncate(chars, 510)
    assert cut["input_ids"] == list(range(510)) and cut["offset_mapping"][-1] == (509, 510)  # no jump to the end
