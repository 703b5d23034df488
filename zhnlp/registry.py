"""The one registry: plugins found through Python entry points, and the builders of components.

Groups:
    zhnlp.encoders / zhnlp.heads / zhnlp.datasets   name -> EncoderSpec / HeadSpec / DatasetSpec
    zhnlp.conf                                       name -> importable package holding YAML groups
    zhnlp.commands / zhnlp.keyword_methods           name -> a callable
A spec is imported only when first used. A name registered by two distributions is an error
naming both; a plugin that fails to import is a warning naming its distribution, and everything
else keeps working.

A config names a component by its registered name and carries the builder's parameters:
``{"name": "crf", "lstm_layers": 1}``. :func:`build_encoder`, :func:`build_head` and
:func:`build_reader` check those parameters against the builder's signature, build, and check
that the result declares what ``zhnlp.types`` requires; :func:`check_combination` checks task,
head and data together before anything is read or built.
"""
from __future__ import annotations

import difflib
import inspect
import warnings
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Callable

from zhnlp.errors import ConfigError, PluginError, ZhnlpError
from zhnlp.builders import is_meta_key
from zhnlp.types import SPEC_TYPES, HeadSpec, missing

GROUPS = {"encoders": "zhnlp.encoders", "heads": "zhnlp.heads", "datasets": "zhnlp.datasets"}
# Groups that are not model parts: extra CLI subcommands and keyword-extraction methods.
EXTRA_GROUPS = {"commands": "zhnlp.commands", "keyword_methods": "zhnlp.keyword_methods"}
CONF_GROUP = "zhnlp.conf"


@dataclass(frozen=True)
class Plugin:
    """One registered name: where it comes from and what it points at."""

    group: str
    name: str
    value: str
    distribution: str
    version: str
    entry_point: EntryPoint


def _dist_of(ep: EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "?", "?"
    return dist.metadata["Name"], dist.version


@lru_cache(maxsize=None)
def _discover(group: str) -> dict[str, Plugin]:
    found: dict[str, Plugin] = {}
    seen_dists: dict[tuple[str, str], str] = {}
    for ep in entry_points(group=group):
        dist, version = _dist_of(ep)
        # The same distribution can be visible twice (e.g. an editable install plus a build dir
        # on sys.path); that is one registration, not a clash.
        if (ep.name, dist) in seen_dists:
            continue
        seen_dists[(ep.name, dist)] = ep.value
        if ep.name in found:
            other = found[ep.name]
            raise PluginError(
                f"'{ep.name}' in {group} is registered twice: by {other.distribution} "
                f"({other.value}) and by {dist} ({ep.value}). Uninstall one of them or rename "
                f"the entry point."
            )
        found[ep.name] = Plugin(group, ep.name, ep.value, dist, version, ep)
    return found


def refresh() -> None:
    """Forget cached discoveries (after installing a plugin into a running interpreter)."""
    _discover.cache_clear()
    _load.cache_clear()


def plugins(kind: str) -> dict[str, Plugin]:
    """All plugins of one kind ("encoders", "heads", "datasets", or "conf")."""
    return _discover(_group(kind))


def _group(kind: str) -> str:
    return GROUPS.get(kind) or EXTRA_GROUPS.get(kind) or (CONF_GROUP if kind == "conf" else kind)


def loads(kind: str, name: str) -> bool:
    """Whether the plugin imports (a failure is warned about once)."""
    return _load(_group(kind), name) is not None


@lru_cache(maxsize=None)
def _load(group: str, name: str) -> Callable[..., Any] | None:
    plugin = _discover(group)[name]
    try:
        return plugin.entry_point.load()
    except Exception as exc:  # a broken plugin must not take the others down
        warnings.warn(
            f"zhnlp plugin '{name}' ({group}) from distribution {plugin.distribution} "
            f"failed to import: {type(exc).__name__}: {exc}",
            stacklevel=3,
        )
        return None


def unknown_name_message(kind: str, name: str, names: list[str]) -> str:
    """Error text for an unknown name: the available names and the closest match."""
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.4)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"Unknown {kind[:-1]} '{name}'.{hint} Available: {', '.join(sorted(names)) or '(none)'}."


def get(kind: str, name: str) -> Any:
    """What ``name`` is registered as in ``kind``: a spec for encoders / heads / datasets, a callable
    for commands and keyword methods. PluginError if unknown, broken or of the wrong type."""
    found = plugins(kind)
    if name not in found:
        raise PluginError(unknown_name_message(kind, name, list(found)))
    value = _load(found[name].group, name)
    p = found[name]
    if value is None:
        raise PluginError(f"{kind[:-1]} '{name}' from {p.distribution} could not be imported (see warning above).")
    wanted = SPEC_TYPES.get(kind)
    if wanted is not None and not isinstance(value, wanted):
        what = "function" if callable(value) and not isinstance(value, type) else type(value).__name__
        raise PluginError(f"{kind[:-1]} '{name}' from {p.distribution}: the entry point {p.value} is a "
                          f"{what}, not a zhnlp.{wanted.__name__}. Point it at "
                          f"`{name} = zhnlp.{wanted.__name__}(build=...)` (see docs/plugins.md).")
    return value


def available() -> dict[str, list[str]]:
    """Names per kind, for plugins that import cleanly (broken ones are warned about and left out)."""
    out: dict[str, list[str]] = {}
    for kind, group in GROUPS.items():
        out[kind] = sorted(n for n in _discover(group) if _load(group, n) is not None)
    return out


# ---- building components from their configs -------------------------------------------------------
RUNTIME_ARGS = {"heads": ("hidden_size", "labels")}


def split_config(kind: str, config: Any) -> tuple[str, dict]:
    """``{"name": N, **params}`` -> (N, params without meta keys such as ``_lr_``)."""
    what = {"encoders": "encoder", "heads": "head", "datasets": "data"}[kind]
    if isinstance(config, dict) and "_target_" in config and not isinstance(config.get("name"), str):
        target = str(config["_target_"])
        guess = target.rsplit(".", 1)[-1].removeprefix("build_")
        raise ConfigError(f"the {what} config names its builder with _target_: {target}; configs name the registered "
                          f"{what} instead: replace `_target_` (and `_partial_`) with `name: {guess}` "
                          f"(`zhnlp plugins` lists the names).")
    if not isinstance(config, dict) or not isinstance(config.get("name"), str):
        raise ConfigError(f"the {what} config must name a registered {what} with `name:` "
                          f"(e.g. {what}=<name> on the command line; `zhnlp plugins` lists them); got {config!r}.")
    params = {k: v for k, v in config.items() if k != "name" and not is_meta_key(k)}
    return config["name"], params


def check_params(kind: str, name: str, build: Callable[..., Any], params: dict, where: str) -> None:
    """A key the builder does not take, or a run-time argument set in the config: one ConfigError."""
    try:
        signature = inspect.signature(build).parameters
    except (TypeError, ValueError):
        return
    runtime = [k for k in RUNTIME_ARGS.get(kind, ()) if k in params]
    if runtime:
        raise ConfigError(f"{where}.{runtime[0]} is set by zhnlp at run time (from the encoder and the training "
                          f"data); remove it from the {where} config.")
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.values()):
        return
    unknown = sorted(set(params) - set(signature))
    if unknown:
        accepted = [k for k, p in signature.items()
                    if p.kind not in (inspect.Parameter.VAR_POSITIONAL,) and k not in RUNTIME_ARGS.get(kind, ())]
        close = difflib.get_close_matches(unknown[0], accepted, n=1, cutoff=0.6)
        hint = f" Did you mean {where}.{close[0]}?" if close else ""
        raise ConfigError(f"{where}.{unknown[0]}: {kind[:-1]} '{name}' has no such option.{hint} "
                          f"It takes: {', '.join(accepted) or '(nothing)'}.")


def _call(kind: str, name: str, build: Callable[..., Any], kwargs: dict) -> Any:
    """Call a plugin's builder: user errors pass through, a crash becomes one line naming the plugin."""
    try:
        return build(**kwargs)
    except ZhnlpError:
        raise
    except Exception as exc:
        dist = plugins(kind)[name].distribution if name in plugins(kind) else "?"
        raise PluginError(f"{kind[:-1]} '{name}' from {dist} failed to build: {type(exc).__name__}: {exc}") from exc


def _check_component(kind: str, name: str, obj: Any) -> None:
    import torch

    what = kind[:-1]
    if not isinstance(obj, torch.nn.Module):
        raise PluginError(f"{what} '{name}' built a {type(obj).__name__}, not a torch.nn.Module (see zhnlp.types.{what.title()}).")
    lacking = missing(obj, what)
    if lacking:
        raise PluginError(f"{what} '{name}' ({type(obj).__name__}) lacks {', '.join(lacking)}, which "
                          f"zhnlp.types.{what.title()} requires (see docs/plugins.md).")


def build_encoder(config: dict, **overrides: Any) -> Any:
    """Build the encoder a config names (``{"name": "char", ...}``); ``overrides`` win over it.

    Returns:
        An ``nn.Module`` with everything ``zhnlp.types.Encoder`` requires.
    """
    name, params = split_config("encoders", config)
    spec = get("encoders", name)
    params.update(overrides)
    check_params("encoders", name, spec.build, params, "encoder")
    encoder = _call("encoders", name, spec.build, params)
    _check_component("encoders", name, encoder)
    return encoder


def build_head(config: dict, hidden_size: int, labels: list[str]) -> Any:
    """Build the head a config names for an encoder of width ``hidden_size`` and ``labels``.

    Returns:
        An ``nn.Module`` with everything ``zhnlp.types.Head`` requires.
    """
    name, params = split_config("heads", config)
    spec = get("heads", name)
    check_params("heads", name, spec.build, params, "head")
    head = _call("heads", name, spec.build, {"hidden_size": int(hidden_size), "labels": list(labels), **params})
    _check_component("heads", name, head)
    return head


def build_reader(data: dict) -> Callable[..., list]:
    """The dataset reader of a ``data`` config (``{"name": "sample_ner", "reader": {...}, ...}``)."""
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str):
        raise ConfigError(f"the data config must name a registered dataset with `name:`; got {data!r}.")
    spec = get("datasets", name)
    params = dict(data.get("reader") or {})
    check_params("datasets", name, spec.build, params, "data.reader")
    reader = _call("datasets", name, spec.build, params)
    if not callable(reader):
        raise PluginError(f"dataset '{name}' built a {type(reader).__name__}, not a reader callable (path, key) -> examples.")
    return reader


def head_spec(config: dict) -> HeadSpec:
    """The HeadSpec a head config names."""
    return get("heads", split_config("heads", config)[0])


def check_combination(cfg: dict) -> None:
    """Task, head and data must fit together; names and parameters must exist. Raises one
    ConfigError / PluginError line that names the working combinations.

    Args:
        cfg: the resolved run config with ``encoder``, ``head``, ``data`` and optional ``task``.
    """
    head_name, head_params = split_config("heads", cfg["head"])
    head = get("heads", head_name)
    check_params("heads", head_name, head.build, head_params, "head")
    data_name = (cfg.get("data") or {}).get("name")
    dataset = get("datasets", data_name) if isinstance(data_name, str) else None
    if dataset is not None:
        check_params("datasets", data_name, dataset.build, dict(cfg["data"].get("reader") or {}), "data.reader")
    task = cfg.get("task")
    if task and head.task != task:
        heads = _names("heads", lambda s: s.task == task)
        raise ConfigError(f"task={task} does not train head={head_name} (a {head.task} head). Heads for task "
                          f"{task}: {', '.join(heads) or '(none installed)'}; or drop task={task}.")
    if dataset is not None and dataset.label_kind is not None and dataset.label_kind != head.label_kind:
        heads = _names("heads", lambda s: s.label_kind == dataset.label_kind)
        datasets = _names("datasets", lambda s: s.label_kind == head.label_kind)
        raise ConfigError(f"head={head_name} learns from {head.label_kind}, but data={data_name} gives examples "
                          f"with {dataset.label_kind}. For data={data_name} use head={' | '.join(heads) or '?'}; "
                          f"head={head_name} trains on data={' | '.join(datasets) or '?'}.")
    # last: an encoder's spec usually imports torch, the head and dataset specs need not
    enc_name, enc_params = split_config("encoders", cfg["encoder"])
    check_params("encoders", enc_name, get("encoders", enc_name).build, enc_params, "encoder")


def _names(kind: str, keep: Callable[[Any], bool]) -> list[str]:
    out = []
    for name in sorted(plugins(kind)):
        try:
            if keep(get(kind, name)):
                out.append(name)
        except PluginError:
            continue
    return out
