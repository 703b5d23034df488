"""The 'same'-padded TextCNN context layer (the BiLSTM one is :class:`zhnlp.layers.BiLSTM`).

It assumes right padding (``attention_mask`` is a prefix of ones per row, as the core's collate
produces) and gives real positions exactly the output they would have without the padding.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class TextCNN(nn.Module):
    """Parallel 1-D convolutions (one per kernel size) with 'same' padding, ReLU, concatenated.

    Padding positions are zeroed before convolving, which is exactly the zero padding a 'same'
    convolution puts past the end of an unpadded sequence.
    """

    def __init__(self, input_size: int, kernel_sizes=(2, 3, 4), filters: int = 128,
                 dropout: float = 0.3):
        super().__init__()
        self.kernel_sizes = [int(k) for k in kernel_sizes]
        self.convs = nn.ModuleList(nn.Conv1d(input_size, filters, k) for k in self.kernel_sizes)
        self.dropout = nn.Dropout(dropout)
        self.output_size = filters * len(self.convs)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.unsqueeze(-1).to(x.dtype)  # (B, T, 1)
        h = (x * m).transpose(1, 2)  # (B, D, T)
        outs = []
        for k, conv in zip(self.kernel_sizes, self.convs):
            left = (k - 1) // 2  # 'same': output t sees inputs t-left .. t+k-1-left
            outs.append(torch.relu(conv(F.pad(h, (left, k - 1 - left)))))  # (B, F, T)
        out = torch.cat(outs, dim=1)  # (B, F*K, T)
        out = self.dropout(out.transpose(1, 2))  # (B, T, F*K)
        return out * m

    def groups(self) -> list[list[nn.Parameter]]:
        return [list(self.parameters())]

    def export_module(self) -> nn.Module:
        """The same layer as MatMuls, which onnxruntime runs faster than Conv (``zhnlp export``)."""
        from zhnlp_classic.export_graph import TextCNNMatMul

        return TextCNNMatMul(self)
