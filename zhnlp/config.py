"""OmegaConf resolvers and config helpers shared by the CLI and the trainer."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

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
    """Register ``${sample:REL}`` (zhnlp's bundled samples), ``${package:PKG,REL}`` (a file shipped
    in any installed package, e.g. a plugin's samples) and ``${short:TEXT}`` (cut to 48 characters,
    for folder names) once per process."""
    if not OmegaConf.has_resolver("sample"):
        OmegaConf.register_new_resolver("sample", sample_path)
    if not OmegaConf.has_resolver("package"):
        OmegaConf.register_new_resolver("package", package_path)
    if not OmegaConf.has_resolver("short"):
        from zhnlp.sweep import short_name

        OmegaConf.register_new_resolver("short", short_name)


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


def _flat_keys(cfg: Any, prefix: str = "") -> list[str]:
    if not isinstance(cfg, dict):
        return []
    out = []
    for key, value in cfg.items():
        full = f"{prefix}{key}"
        out.append(full)
        out += _flat_keys(value, full + ".")
    return out


def explain_compose_error(overrides: list[str], message: str) -> str | None:
    """One line that leads to the fix for Hydra's composition errors we can read, else None.

    An unknown key gets the closest existing key ("did you mean trainer.max_epochs?") instead of
    Hydra's advice to append it with ``+``; an unknown group option gets the closest option.
    """
    import difflib
    import re

    missing = re.search(r"Could not (?:find|load) '([\w/]+)/([^'/]+)'", message)
    if missing:
        group, option = missing.group(1).split("/")[-1], missing.group(2)
        options = config_options(group)
        close = difflib.get_close_matches(option, options, n=1, cutoff=0.5)
        hint = f" Did you mean {group}={close[0]}?" if close else ""
        return (f"{group}={option}: no such {group} config.{hint} Available: {', '.join(options) or '(none)'}"
                f" (`zhnlp plugins` lists what is installed).")
    unknown = re.search(r"Could not override '([^']+)'", message) or re.search(r"full_key: (\S+)", message)
    if unknown and ("not in struct" in message or "Could not override" in message):
        key = unknown.group(1)
        rest = [o for o in overrides if not o.split("=", 1)[0].lstrip("+~") == key]
        try:
            keys = _flat_keys(compose_with_choices(rest)[0])
        except Exception:  # the other overrides do not compose either: say what we know
            keys = []
        parent = key.rsplit(".", 1)[0] if "." in key else ""
        siblings = [k for k in keys if (k.rsplit(".", 1)[0] if "." in k else "") == parent]
        close = difflib.get_close_matches(key, siblings or keys, n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]}?" if close else ""
        return (f"{key}: no such key in the config.{hint} (`zhnlp train --cfg job` prints the composed config; "
                f"`+{key}=...` adds a new key, for options a component takes but its YAML does not list.)")
    return None


def check_overrides(overrides: list[str]) -> dict:
    """Compose the train config once before Hydra runs, so that a mistake stops with one clear line
    before anything heavy is imported or any run folder is made: a typo in a key or option, a
    task / head / data mismatch, a split file that does not exist.

    Returns:
        The composed config (plain dict).

    Raises:
        ConfigError / PluginError / DataError: naming what to fix.
    """
    from zhnlp import registry
    from zhnlp.errors import ConfigError, DataError

    try:
        cfg = compose_with_choices(overrides)[0]
    except ConfigError as exc:
        raise ConfigError(explain_compose_error(overrides, str(exc)) or str(exc)) from None
    for split in ("train", "dev", "test"):
        path = (cfg.get("data") or {}).get(f"{split}_path")
        if path is not None and not Path(path).is_file():
            raise DataError(path, None, f"file not found. Set data.{split}_path=/path/to/file (or fix data_root).")
    if {"encoder", "head", "data"} <= set(cfg):
        registry.check_combination(cfg)
    return cfg
