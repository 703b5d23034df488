"""Plugin discovery through Python entry points.

Entry points discover; they never build. Groups:
    zhnlp.encoders / zhnlp.heads / zhnlp.datasets   name -> public builder function
    zhnlp.conf                                       name -> importable package holding YAML groups
A builder is imported only when first used. A name registered by two distributions is an error
naming both; a plugin that fails to import is a warning naming its distribution, and everything
else keeps working.
"""
from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Callable

from zhnlp.errors import PluginError

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


def get(kind: str, name: str) -> Callable[..., Any]:
    """The builder registered under ``name``; PluginError if unknown or broken."""
    found = plugins(kind)
    if name not in found:
        raise PluginError(unknown_name_message(kind, name, list(found)))
    builder = _load(found[name].group, name)
    if builder is None:
        p = found[name]
        raise PluginError(f"{kind[:-1]} '{name}' from {p.distribution} could not be imported (see warning above).")
    return builder


def available() -> dict[str, list[str]]:
    """Names per kind, for plugins that import cleanly (broken ones are warned about and left out)."""
    out: dict[str, list[str]] = {}
    for kind, group in GROUPS.items():
        out[kind] = sorted(n for n in _discover(group) if _load(group, n) is not None)
    return out
