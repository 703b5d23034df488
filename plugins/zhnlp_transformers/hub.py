"""Turn ``encoder.pretrained`` (a local directory or a hub id) into a checked local directory.

A hub id is looked up in the local Hugging Face cache only, unless ``local_files_only=False``
asks for a download. Our machines have no network, so the error for an uncached id says how to
point ``encoder.pretrained`` at a local copy instead.
"""
from __future__ import annotations

from pathlib import Path

from zhnlp.errors import ConfigError

REQUIRED = ("config.json", "vocab.txt")
# What a download fetches: enough to rebuild config, tokenizer and weights, nothing else.
DOWNLOAD_PATTERNS = ["config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json",
                     "special_tokens_map.json", "added_tokens.json", "model.safetensors",
                     "pytorch_model.bin"]


def _looks_like_path(value: str) -> bool:
    return value.startswith(("/", ".", "~", "\\")) or (len(value) > 1 and value[1] == ":") \
        or value.count("/") > 1


def _how_to_fix(name: str) -> str:
    return (
        f"Download it on a machine with network access (e.g. `huggingface-cli download {name}`) "
        f"and point the encoder at the folder: encoder.pretrained=/path/to/dir, a directory "
        f"holding config.json, vocab.txt and model.safetensors or pytorch_model.bin."
    )


def _from_hub(repo_id: str, local_files_only: bool) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception as cached_exc:  # not in the cache (or an id the hub would reject)
        if local_files_only:
            raise ConfigError(
                f"encoder.pretrained='{repo_id}' is neither an existing directory nor in the "
                f"local Hugging Face cache, and it cannot be downloaded offline "
                f"(local_files_only=true). {_how_to_fix(repo_id)} On a machine with network "
                f"access, encoder.local_files_only=false downloads it instead."
            ) from cached_exc
    try:
        return Path(snapshot_download(repo_id, allow_patterns=DOWNLOAD_PATTERNS))
    except Exception as exc:
        raise ConfigError(
            f"Could not download encoder.pretrained='{repo_id}': {type(exc).__name__}: {exc}. "
            f"{_how_to_fix(repo_id)}"
        ) from exc


def resolve(pretrained: str | Path, local_files_only: bool = True) -> Path:
    """The local directory for ``pretrained``, checked to hold config.json and vocab.txt.

    Args:
        pretrained: a directory, or a hub id such as "hfl/chinese-bert-wwm-ext".
        local_files_only: never touch the network; a hub id must already be in the HF cache.

    Returns:
        The directory (a cache snapshot folder for a hub id).

    Raises:
        ConfigError: the directory does not exist, lacks config.json or vocab.txt, or the hub id
            is not cached and cannot be downloaded.
    """
    text = str(pretrained)
    path = Path(text).expanduser()
    if path.is_dir():
        directory = path
    elif path.exists():
        raise ConfigError(
            f"encoder.pretrained={text} is a file; it must be a directory holding config.json, "
            f"vocab.txt and the weights file."
        )
    elif _looks_like_path(text):
        raise ConfigError(
            f"encoder.pretrained={text}: directory not found. Point it at a directory holding "
            f"config.json, vocab.txt and model.safetensors or pytorch_model.bin."
        )
    else:
        directory = _from_hub(text, local_files_only)
    for name in REQUIRED:
        if not (directory / name).is_file():
            raise ConfigError(
                f"{directory / name} not found: a pretrained encoder directory needs "
                f"{' and '.join(REQUIRED)} (plus model.safetensors or pytorch_model.bin). "
                + ("ALBERT-zh and other Chinese checkpoints ship vocab.txt; copy it in from the "
                   "original download." if name == "vocab.txt" else
                   "Copy config.json from the original download.")
            )
    return directory
