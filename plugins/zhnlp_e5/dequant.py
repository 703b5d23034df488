"""Q4_0 dequantisation: blocks of 32 values, each an fp16 scale and 16 bytes of 4-bit codes.

Byte ``j`` of a block holds value ``j`` in its low nibble and value ``j + 16`` in its high nibble;
a value is ``(code - 8) * scale``. The product of an fp16 scale and a small integer is exact in
fp32, so the dequantised matrix is exactly what the 4-bit engine multiplies by.
"""
from __future__ import annotations

import numpy as np

BLOCK = 32  # values per block
BLOCK_DTYPE = np.dtype([("scale", "<f2"), ("codes", "u1", (BLOCK // 2,))])  # 18 bytes
BLOCK_BYTES = BLOCK_DTYPE.itemsize
CHUNK_BLOCKS = 1 << 20  # blocks per step: bounds the temporaries (~100 MB) on the 96M-value word matrix


def q4_0_nbytes(count: int) -> int:
    """Bytes that ``count`` Q4_0 values occupy (``count`` a multiple of 32)."""
    return count // BLOCK * BLOCK_BYTES


def dequantize_q4_0(raw: np.ndarray, count: int) -> np.ndarray:
    """Decode ``count`` Q4_0 values.

    Args:
        raw: the tensor's bytes, ``uint8`` of length ``q4_0_nbytes(count)`` (a memory map is fine).
        count: number of values, a multiple of 32.

    Returns:
        ``float32`` array of shape ``(count,)``, values in storage order (row-major).
    """
    if count % BLOCK or raw.size != q4_0_nbytes(count):
        raise ValueError(f"{raw.size} bytes are not {count} Q4_0 values")
    blocks = raw.view(BLOCK_DTYPE)  # (count / 32,)
    out = np.empty((blocks.size, BLOCK), dtype=np.float32)  # (nblocks, 32)
    for start in range(0, blocks.size, CHUNK_BLOCKS):
        part = blocks[start:start + CHUNK_BLOCKS]
        scale = part["scale"].astype(np.float32)[:, None]  # (n, 1)
        codes = part["codes"]  # (n, 16) uint8
        out[start:start + part.size, :BLOCK // 2] = ((codes & 0x0F).astype(np.float32) - 8) * scale
        out[start:start + part.size, BLOCK // 2:] = ((codes >> 4).astype(np.float32) - 8) * scale
    return out.reshape(-1)
