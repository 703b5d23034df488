"""Fixtures shared by the core tests and every plugin's tests."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

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


@pytest.fixture(autouse=True)
def single_thread():
    """Test tensors are tiny: intra-op threads only add sync overhead (badly so on a busy CPU)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
