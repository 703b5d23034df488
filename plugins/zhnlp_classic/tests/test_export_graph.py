"""The export-time TextCNN (``zhnlp_classic.export_graph``) computes what the Conv1d TextCNN
computes, on lengths and paddings other than any traced ones."""
from __future__ import annotations

import pytest
import torch

from zhnlp_classic.context import TextCNN
from zhnlp_classic.export_graph import TextCNNMatMul, tap_offsets


def right_padded_mask(lengths: list[int], total: int) -> torch.Tensor:
    """(B, T) int64 mask with a prefix of ``lengths[b]`` ones per row."""
    return (torch.arange(total)[None, :] < torch.tensor(lengths)[:, None]).long()


def test_tap_offsets_follow_same_padding():
    left, right, offsets = tap_offsets([2, 3, 4])
    assert (left, right) == (1, 2)  # k=3/4 look one step back, k=4 two steps ahead
    assert offsets == [[1, 2], [0, 1, 2], [0, 1, 2, 3]]


@pytest.mark.parametrize("kernels", [(2, 3, 4), (1,), (3, 5), (2,), (4, 1, 6)])
def test_textcnn_matmul_equals_conv(kernels):
    torch.manual_seed(0)
    cnn = TextCNN(12, kernels, filters=8).eval()
    fast = TextCNNMatMul(cnn).eval()
    x = torch.randn(4, 9, 12)  # (B, T, D)
    mask = right_padded_mask([9, 5, 1, 7], 9)
    with torch.no_grad():
        want, got = cnn(x, mask), fast(x, mask)  # (B, T, F*K)
    assert got.shape == want.shape == (4, 9, 8 * len(kernels))
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    assert got[mask == 0].abs().max() == 0  # padding zeroed like the original


def test_textcnn_offers_its_export_module():
    cnn = TextCNN(6, (2, 3), filters=4)
    assert isinstance(cnn.export_module(), TextCNNMatMul)
