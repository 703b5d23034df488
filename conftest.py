"""Fixtures shared by the core tests and every plugin's tests."""
from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parent.parent / "shared"  # ../shared beside the checkout


@pytest.fixture
def shared():
    """``shared("datasets", "x", ...)`` -> that path under ../shared, or skip when it is absent."""
    def need(*parts: str) -> Path:
        path = SHARED.joinpath(*parts)
        if not path.exists():
            pytest.skip(f"{path} not available (../shared is absent)")
        return path

    return need
