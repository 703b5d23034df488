"""BiLSTM variants on CPU: forward + backward time per batch, for the shapes zhnlp trains.

    python benchmarks/bilstm_speed.py [--threads 1] [--repeats 20]

Variants (same sizes, same outputs on real positions):
    packed   nn.LSTM(bidirectional=True) on a PackedSequence (what zhnlp_classic and the NER head used)
    padded   zhnlp.layers.BiLSTM: one unidirectional nn.LSTM per direction on the padded tensor,
             the backward one over rows reversed within their lengths
Shapes: (batch, max length, input width, hidden per direction) of the default NER job, Resume
sentences, THUCNews titles and CSL abstracts; lengths drawn between 30% and 100% of the maximum.
Prints the median milliseconds per forward+backward step of each variant and their ratio.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from zhnlp.layers import BiLSTM

SHAPES = {  # name: (batch, max length, input width, hidden per direction)
    "sample_ner (char 224 -> 128)": (16, 60, 224, 128),
    "resume_ner (char 224 -> 256)": (32, 90, 224, 256),
    "thucnews titles (384 -> 128)": (128, 30, 384, 128),
    "csl abstracts (96 -> 128)": (16, 280, 96, 128),
}


class Packed(nn.Module):
    def __init__(self, input_size: int, hidden: int):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        lengths = mask.sum(1).cpu()  # (B,)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.size(1))
        return out  # (B, T, 2H)


def step_ms(layer: nn.Module, x: torch.Tensor, mask: torch.Tensor, repeats: int) -> float:
    times = []
    for i in range(repeats + 3):
        layer.zero_grad(set_to_none=True)
        start = time.perf_counter()
        layer(x, mask).sum().backward()
        if i >= 3:  # warm-up steps are not counted
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {args.threads} thread(s), median of {args.repeats} steps (forward + backward)")
    print(f"{'shape':32} {'packed ms':>10} {'padded ms':>10} {'packed/padded':>14}")
    for name, (batch, length, width, hidden) in SHAPES.items():
        lengths = torch.randint(int(0.3 * length), length + 1, (batch,))
        lengths[0] = length
        mask = (torch.arange(length)[None, :] < lengths[:, None]).long()  # (B, T)
        x = torch.randn(batch, length, width, requires_grad=True)
        packed = step_ms(Packed(width, hidden), x, mask, args.repeats)
        padded = step_ms(BiLSTM(width, hidden), x, mask, args.repeats)
        print(f"{name:32} {packed:10.1f} {padded:10.1f} {packed / padded:14.2f}")


if __name__ == "__main__":
    main()
