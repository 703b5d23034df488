"""Shared fixtures: fake distributions on sys.path, paths to the repo and to ../shared."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from zhnlp import registry

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def needs_shared(*parts: str) -> Path:
    """Path under ../shared, or skip when it is absent (as on a user's machine)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not available (../shared is absent)")
    return path


@pytest.fixture
def fake_dist(tmp_path, monkeypatch):
    """Create an installed-looking distribution with entry points and modules on sys.path.

    Usage: ``fake_dist("acme-nlp", {"zhnlp.encoders": {"x": "acme_mod:build"}}, {"acme_mod": "code"})``.
    """

    def make(name: str, entry_points: dict[str, dict[str, str]], modules: dict[str, str] | None = None) -> Path:
        root = tmp_path / f"site_{name}"
        info = root / f"{name.replace('-', '_')}-1.2.3.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2.3\n")
        lines = []
        for group, items in entry_points.items():
            lines.append(f"[{group}]")
            lines += [f"{k} = {v}" for k, v in items.items()]
        (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
        for module, code in (modules or {}).items():
            (root / f"{module}.py").write_text(textwrap.dedent(code))
        monkeypatch.syspath_prepend(str(root))
        registry.refresh()
        return root

    yield make
    registry.refresh()


@pytest.fixture(autouse=True)
def _fresh_registry():
    registry.refresh()
    yield
    registry.refresh()
    sys.modules.pop("broken_plugin_mod", None)
