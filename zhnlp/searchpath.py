"""Hydra search-path plugin: every ``zhnlp.conf`` entry point adds ``pkg://<package>``.

Registered explicitly (``register()``) before ``@hydra.main`` runs, because Hydra's namespace scan
for ``hydra_plugins`` does not see editable installs reliably.
"""
from __future__ import annotations

from hydra.core.config_search_path import ConfigSearchPath
from hydra.core.plugins import Plugins
from hydra.plugins.search_path_plugin import SearchPathPlugin

from zhnlp import registry


class ZhnlpSearchPathPlugin(SearchPathPlugin):
    """Appends each installed plugin's config package to Hydra's search path."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        for plugin in registry.plugins("conf").values():
            search_path.append(provider=f"zhnlp-plugin:{plugin.distribution}", path=f"pkg://{plugin.value}")


def register() -> None:
    """Make Hydra use :class:`ZhnlpSearchPathPlugin` (idempotent)."""
    Plugins.instance().register(ZhnlpSearchPathPlugin)
