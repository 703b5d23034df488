"""The padded BiLSTM equals a packed bidirectional nn.LSTM with the same weights."""
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from zhnlp_keywords.context import PaddedBiLSTM, reverse_index


def test_reverse_index():
    mask = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1]]).bool()
    assert reverse_index(mask).tolist() == [[2, 1, 0, 3], [0, 1, 2, 3], [3, 2, 1, 0]]


def test_matches_packed_bidirectional_lstm():
    torch.manual_seed(0)
    ours = PaddedBiLSTM(5, 4, layers=2, dropout=0.0).eval()
    ref = torch.nn.LSTM(5, 4, num_layers=2, batch_first=True, bidirectional=True).eval()
    with torch.no_grad():
        for layer in range(2):
            for direction, module in (("", ours.forward_layers[layer]), ("_reverse", ours.backward_layers[layer])):
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(module, f"{name}_l0").copy_(getattr(ref, f"{name}_l{layer}{direction}"))
    x = torch.randn(3, 7, 5)
    lengths = torch.tensor([7, 4, 1])
    mask = torch.arange(7).unsqueeze(0) < lengths.unsqueeze(1)  # (B, T)
    packed, _ = ref(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
    expected, _ = pad_packed_sequence(packed, batch_first=True, total_length=7)
    got = ours(x, mask)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)
    # padding content never reaches real positions
    x2 = x.clone()
    x2[1, 4:] = 100.0
    torch.testing.assert_close(ours(x2, mask), got)
    assert ours(torch.zeros(2, 0, 5), torch.zeros(2, 0, dtype=torch.bool)).shape == (2, 0, 8)
