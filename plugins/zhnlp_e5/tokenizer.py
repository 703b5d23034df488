"""The tokenizer files of the built directory: ``tokenizer.json`` (the XLM-R SentencePiece unigram
tokenizer, copied), ``tokenizer_config.json`` and ``special_tokens_map.json``, so that
``AutoTokenizer`` loads it as the fast ``XLMRobertaTokenizer`` (offsets included).

Before writing, the tokenizer is checked against the checkpoint: its pieces must be the
container's pieces in the same order (so ids mean the same rows) and the checkpoint must have at
least as many embedding rows as the tokenizer has pieces.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from zhnlp.errors import DataError
from zhnlp_e5.container import Container

MASK = "<mask>"


def tokenizer_pieces(tokenizer_json: Path) -> list[str]:
    """The unigram pieces of a ``tokenizer.json``, in id order.

    Raises:
        DataError: not JSON, or not a Unigram (SentencePiece) tokenizer.
    """
    try:
        model = json.loads(Path(tokenizer_json).read_text(encoding="utf-8"))["model"]
        if model["type"] != "Unigram":
            raise DataError(tokenizer_json, None, f"a {model['type']} tokenizer; the e5 checkpoint needs the "
                                                  "XLM-R SentencePiece (Unigram) one")
        return [piece for piece, _ in model["vocab"]]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DataError(tokenizer_json, None, f"not a readable tokenizer.json ({type(error).__name__}: {error})") from None


def save_tokenizer(tokenizer_json: str | Path, container: Container, out_dir: str | Path) -> int:
    """Check the tokenizer against the checkpoint and write the tokenizer files into ``out_dir``.

    Args:
        tokenizer_json: the XLM-R ``tokenizer.json``.
        container: the parsed e5 container whose ids it must share.
        out_dir: an existing directory.

    Returns:
        The number of tokenizer pieces (250,002 for e5-small).

    Raises:
        DataError: the pieces differ from the container's, a special token is missing, or the
            tokenizer has more pieces than the checkpoint has embedding rows.
    """
    tokenizer_json, out_dir = Path(tokenizer_json), Path(out_dir)
    pieces = tokenizer_pieces(tokenizer_json)
    if len(pieces) > container.vocab_rows:
        raise DataError(tokenizer_json, None, f"{len(pieces)} pieces, but the checkpoint {container.path} has only "
                                              f"{container.vocab_rows} embedding rows")
    shared = min(len(pieces), len(container.pieces))
    differ = next((i for i in range(shared) if pieces[i] != container.pieces[i]), None)
    if differ is not None or len(pieces) != len(container.pieces):
        at = differ if differ is not None else shared
        raise DataError(tokenizer_json, None, f"not the checkpoint's tokenizer: {len(pieces)} pieces vs "
                                              f"{len(container.pieces)} in {container.path}, first difference at id "
                                              f"{at}")
    if MASK not in pieces:
        raise DataError(tokenizer_json, None, f"has no {MASK} piece")
    specials = {"bos_token": pieces[container.bos], "eos_token": pieces[container.eos],
                "unk_token": pieces[container.unk], "sep_token": pieces[container.eos],
                "pad_token": pieces[container.pad], "cls_token": pieces[container.bos], "mask_token": MASK}
    shutil.copyfile(tokenizer_json, out_dir / "tokenizer.json")
    config = {"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": container.max_positions,
              "clean_up_tokenization_spaces": False, **specials}
    (out_dir / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (out_dir / "special_tokens_map.json").write_text(json.dumps(specials, indent=2) + "\n", encoding="utf-8")
    return len(pieces)
