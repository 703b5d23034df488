"""Text embeddings from any zhnlp encoder: mean of the hidden states of the real tokens.

Real tokens are those covering text (non-empty offset span): padding and special tokens such as
[CLS]/[SEP] are left out. A text longer than the encoder accepts is cut into consecutive char
chunks that each fit; the embedding is the mean over the real tokens of ALL chunks (nothing is
truncated). Token states are returned with their char spans so that a phrase can also be
embedded in context (mean of the states of the tokens it covers).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

SKIP_KEYS = ("offset_mapping", "special_tokens_mask", "length", "overflow_to_sample_mapping")


@dataclass
class EncodedText:
    """Token states of one text: ``states`` (N, H) and their char spans in the original text."""

    states: torch.Tensor
    spans: list[tuple[int, int]]

    def mean(self) -> torch.Tensor | None:
        """(H,) mean over all real tokens, or None for a text without any."""
        return self.states.mean(0) if len(self.spans) else None

    def phrase(self, occurrences: list[tuple[int, int]]) -> torch.Tensor | None:
        """(H,) mean of the states of tokens overlapping any of the (start, end) occurrences."""
        if not len(self.spans):
            return None
        starts = torch.tensor([s for s, _ in self.spans])
        ends = torch.tensor([e for _, e in self.spans])
        hit = torch.zeros(len(self.spans), dtype=torch.bool)
        for s, e in occurrences:
            hit |= (starts < e) & (ends > s)
        return self.states[hit].mean(0) if hit.any() else None


def _device(encoder) -> torch.device:
    try:
        return next(encoder.parameters()).device
    except (StopIteration, AttributeError):
        return torch.device("cpu")


def encoder_max_chars(encoder, max_length: int | None = None) -> int:
    """Chars per chunk: the encoder's token limit minus the special tokens it adds around a text
    (``num_special_tokens``: 2 for [CLS] ... [SEP], 0 for the char encoders)."""
    return max(1, token_limit(encoder, max_length) - int(getattr(encoder, "num_special_tokens", 2)))


def token_limit(encoder, max_length: int | None = None) -> int:
    """Tokens per chunk: ``max_length``, else the encoder's ``max_length`` (512 without one)."""
    return int(max_length or getattr(encoder, "max_length", None) or 512)


@torch.inference_mode()
def encode_texts(encoder, texts: list[str], batch_size: int = 32, max_length: int | None = None) -> list[EncodedText]:
    """Token states of every text (chunked when long).

    Args:
        encoder: a zhnlp Encoder (``tokenizer``, ``forward`` -> (B, T, H)).
        texts: strings (empty ones give an EncodedText without tokens).
        batch_size: chunks per forward pass.
        max_length: token limit per chunk (default: ``encoder.max_length``).

    Returns:
        one :class:`EncodedText` per text.
    """
    encoder.eval()
    device = _device(encoder)
    max_chars = encoder_max_chars(encoder, max_length)
    limit = token_limit(encoder, max_length)
    chunks: list[tuple[int, int, str]] = []  # (text index, chunk start, chunk text)
    for i, text in enumerate(texts):
        if text.strip():
            chunks += [(i, s, text[s:s + max_chars]) for s in range(0, len(text), max_chars)]
    per_text: list[list[tuple[int, torch.Tensor, list[tuple[int, int]]]]] = [[] for _ in texts]
    order = sorted(range(len(chunks)), key=lambda c: len(chunks[c][2]))
    for b in range(0, len(order), batch_size):
        part = [chunks[c] for c in order[b:b + batch_size]]
        enc = encoder.tokenizer([c[2] for c in part], return_offsets_mapping=True, add_special_tokens=True,
                                truncation=True, max_length=limit)
        keys = [k for k in enc if k not in SKIP_KEYS and not isinstance(enc[k][0], str)]
        width = max(len(ids) for ids in enc["input_ids"])
        inputs = {k: torch.tensor([list(v) + [0] * (width - len(v)) for v in enc[k]], dtype=torch.long, device=device)
                  for k in keys}
        hidden = encoder(**inputs).float()  # (B, T, H)
        for row, (index, offset, _) in enumerate(part):
            spans = [(int(s), int(e)) for s, e in enc["offset_mapping"][row]]
            mask = enc["attention_mask"][row]
            keep = [k for k, (s, e) in enumerate(spans) if e > s and mask[k]]
            per_text[index].append((offset, hidden[row, keep].cpu(),
                                    [(spans[k][0] + offset, spans[k][1] + offset) for k in keep]))
    out = []
    hidden_size = int(getattr(encoder, "hidden_size", 0))
    for parts in per_text:
        parts.sort(key=lambda p: p[0])
        states = torch.cat([p[1] for p in parts], dim=0) if parts else torch.zeros(0, hidden_size)
        out.append(EncodedText(states, [s for p in parts for s in p[2]]))
    return out


def embed_texts(encoder, texts: list[str], batch_size: int = 32, max_length: int | None = None) -> torch.Tensor:
    """(N, H) mean-pooled embeddings; a text without real tokens gets a zero vector."""
    encoded = encode_texts(encoder, texts, batch_size, max_length)
    hidden_size = int(getattr(encoder, "hidden_size", 0)) or (encoded[0].states.size(1) if encoded else 0)
    rows = [e.mean() if e.mean() is not None else torch.zeros(hidden_size) for e in encoded]
    return torch.stack(rows) if rows else torch.zeros(0, hidden_size)
