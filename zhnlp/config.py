"""OmegaConf resolvers and config helpers shared by the CLI and the trainer."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from omegaconf import OmegaConf


def sample_path(relative: str) -> str:
    """Absolute path of a bundled sample file, e.g. ``sample_ner/train.txt``."""
    return str(Path(str(files("zhnlp_samples"))) / relative)


def package_path(package: str, relative: str) -> str:
    """Absolute path of a file shipped inside an installed package (e.g. a plugin's sample data)."""
    from zhnlp.errors import ConfigError

    try:
        return str(Path(str(files(package))) / relative)
    except ModuleNotFoundError:
        raise ConfigError(f"${{package:{package},{relative}}}: no installed package {package!r}.") from None


def register_resolvers() -> None:
    """Register ``${sample:REL}`` (zhnlp's bundled samples) and ``${package:PKG,REL}`` (a file shipped
    in any installed package, e.g. a plugin's samples) once per process."""
    if not OmegaConf.has_resolver("sample"):
        OmegaConf.register_new_resolver("sample", sample_path)
    if not OmegaConf.has_resolver("package"):
        OmegaConf.register_new_resolver("package", package_path)


def to_plain(cfg) -> dict:
    """A resolved, plain-dict copy of an OmegaConf config (safe to pickle into checkpoints)."""
    return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)


def compose_with_choices(overrides: list[str]) -> tuple[dict, dict]:
    """The resolved ``train`` config for ``overrides`` (as ``zhnlp train`` composes it) and the
    chosen option of each config group (``{"encoder": "bilstm", ...}``).

    Raises:
        ConfigError: the overrides do not compose (unknown group option, bad key, ...).
    """
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf import open_dict
    from omegaconf.errors import OmegaConfBaseException

    from zhnlp.errors import ConfigError
    from zhnlp.searchpath import register

    register()
    register_resolvers()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module("zhnlp_conf", version_base="1.3"):
            cfg = compose("train", overrides=overrides, return_hydra_config=True)
        choices = OmegaConf.to_container(cfg.hydra.runtime.choices)
        with open_dict(cfg):
            del cfg["hydra"]
        return to_plain(cfg), choices
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(f"cannot compose the config: {exc}") from exc
    finally:
        GlobalHydra.instance().clear()


def compose_train_config(overrides: list[str]) -> dict:
    """The resolved ``train`` config for ``overrides``, as ``zhnlp train`` composes it (a plain dict)."""
    return compose_with_choices(overrides)[0]


def config_options(group: str) -> list[str]:
    """The option names of a config group (``encoder``, ``data`` ...) in the core configs and every
    installed plugin's config package (the YAML stems of ``<group>/*.yaml``)."""
    from importlib.resources import files as package_files

    from zhnlp import registry

    packages = ["zhnlp_conf"] + [p.value for p in registry.plugins("conf").values()]
    found: set[str] = set()
    for package in packages:
        try:
            folder = package_files(package) / group
            found |= {item.name[:-5] for item in folder.iterdir() if item.name.endswith(".yaml")}
        except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
            continue
    return sorted(found)
