"""OmegaConf resolvers and config helpers shared by the CLI and the trainer."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from omegaconf import OmegaConf


def sample_path(relative: str) -> str:
    """Absolute path of a bundled sample file, e.g. ``sample_ner/train.txt``."""
    return str(Path(str(files("zhnlp_samples"))) / relative)


def register_resolvers() -> None:
    """Register ``${sample:...}`` (bundled sample data) once per process."""
    if not OmegaConf.has_resolver("sample"):
        OmegaConf.register_new_resolver("sample", sample_path)


def to_plain(cfg) -> dict:
    """A resolved, plain-dict copy of an OmegaConf config (safe to pickle into checkpoints)."""
    return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
