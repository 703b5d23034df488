"""Build what is not a plugin from plain config dicts: ``{"_target_": "pkg.mod.fn", ...}``.

For optimizers (``optim.optimizer``), extra callbacks (``callbacks.*``, the tricks) and the loaders
that a ``predictor.json`` names: a tiny, Hydra-free ``hydra.utils.instantiate``. Encoders, heads
and datasets are plugins: the registry (:mod:`zhnlp.registry`) builds them by name.
"""
from __future__ import annotations

import functools
import importlib
import inspect
from typing import Any, Callable

from zhnlp.errors import ConfigError


def locate(path: str) -> Callable[..., Any]:
    """Import ``"package.module.attr"`` and return the attribute."""
    module_name, _, attr = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"_target_ '{path}' cannot be imported ({exc}). Is the plugin that provides it installed? "
            f"Run `zhnlp plugins` to see what is available."
        ) from exc


def is_meta_key(key: str) -> bool:
    """``_target_``, ``_partial_`` and other ``_name_`` keys describe a spec; they are not arguments.

    Encoder configs use ``_lr_`` to suggest their learning rate to ``optim.lr``.
    """
    return len(key) > 2 and key.startswith("_") and key.endswith("_")


def build(spec: Any, **extra: Any) -> Any:
    """Build what ``spec`` describes; nested specs with ``_target_`` are built first.

    Args:
        spec: a dict with ``_target_`` (and optional ``_partial_``), or any other value.
        **extra: call arguments known only at run time (e.g. ``hidden_size``).

    Returns:
        The built object, a ``functools.partial`` when ``_partial_`` is true, or ``spec`` itself.
    """
    if isinstance(spec, list):
        return [build(item) for item in spec]
    if not isinstance(spec, dict) or "_target_" not in spec:
        if isinstance(spec, dict):
            return {key: build(value) for key, value in spec.items()}
        return spec
    target = locate(spec["_target_"])
    kwargs = {k: build(v) for k, v in spec.items() if not is_meta_key(k)}
    kwargs.update(extra)
    if spec.get("_partial_"):
        check_arguments(target, kwargs, spec["_target_"])
        return functools.partial(target, **kwargs)
    check_arguments(target, kwargs, spec["_target_"])
    return target(**kwargs)


def check_arguments(target: Callable[..., Any], kwargs: dict, name: str) -> None:
    """A config key the builder does not take is a ConfigError naming the key (not a TypeError)."""
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        accepted = ", ".join(k for k, p in params.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL)
        raise ConfigError(f"{name} does not take {', '.join(unknown)}. It accepts: {accepted}.")
