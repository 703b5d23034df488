"""Q4_0 decoding against a brute-force loop over the documented layout."""
from __future__ import annotations

import numpy as np
import pytest

from zhnlp_e5 import dequant


def brute_force(raw: bytes) -> list[float]:
    """Decode block by block, value by value, straight from the layout description."""
    out = []
    for start in range(0, len(raw), 18):
        scale = float(np.frombuffer(raw[start:start + 2], dtype="<f2")[0])
        codes = raw[start + 2:start + 18]
        low = [(b & 0x0F) - 8 for b in codes]  # values 0..15 of the block
        high = [(b >> 4) - 8 for b in codes]  # values 16..31
        out += [c * scale for c in low + high]
    return out


def test_layout_matches_brute_force():
    rng = np.random.default_rng(1)
    raw = b"".join(np.float16(s).tobytes() + rng.integers(0, 256, 16, dtype=np.uint8).tobytes()
                   for s in (0.5, -0.0123, 3.0e-5, 65504.0))  # a negative, a subnormal, the largest fp16
    got = dequant.dequantize_q4_0(np.frombuffer(raw, dtype=np.uint8), 4 * 32)
    assert got.dtype == np.float32 and got.tolist() == brute_force(raw)  # exact, not approximate


def test_a_handmade_block():
    codes = bytes(range(16))  # byte j: low nibble j, high nibble 0
    raw = np.frombuffer(np.float16(2.0).tobytes() + codes, dtype=np.uint8)
    got = dequant.dequantize_q4_0(raw, 32)
    assert got[:16].tolist() == [(j - 8) * 2.0 for j in range(16)] and got[16:].tolist() == [-16.0] * 16


def test_chunking_does_not_change_values(monkeypatch):
    raw = np.random.default_rng(2).integers(0, 256, 18 * 10, dtype=np.uint8)
    raw[1::18] &= 0x3B  # finite fp16 scales
    whole = dequant.dequantize_q4_0(raw, 320)
    monkeypatch.setattr(dequant, "CHUNK_BLOCKS", 3)
    assert np.array_equal(dequant.dequantize_q4_0(raw, 320), whole)


def test_a_size_that_is_not_q4_0_is_refused():
    with pytest.raises(ValueError, match="not 64 Q4_0 values"):
        dequant.dequantize_q4_0(np.zeros(35, dtype=np.uint8), 64)
