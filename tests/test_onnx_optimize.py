"""``zhnlp.onnx_optimize.export_modules``: every submodule offering ``export_module()`` is replaced
in a copy (None: kept and searched inside); the run's own modules are never modified."""
from __future__ import annotations

from torch import nn

from zhnlp.onnx_optimize import export_modules


class Fast(nn.Module):
    def __init__(self, slow: nn.Module):
        super().__init__()
        self.slow_weight = slow.weight


class Rewritable(nn.Linear):
    def export_module(self) -> nn.Module:
        return Fast(self)


class Declines(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Rewritable(2, 2)

    def export_module(self) -> None:
        return None  # not itself, but its children may be rewritten


def test_export_modules_copies_and_names_what_it_replaced():
    encoder = nn.Module()
    encoder.proj = nn.Linear(4, 4)
    encoder.first = Rewritable(3, 3)
    encoder.box = Declines()
    twin, replaced = export_modules(encoder)
    assert sorted(replaced) == ["Rewritable", "Rewritable"]
    assert isinstance(twin.first, Fast) and isinstance(twin.box.inner, Fast)
    assert isinstance(encoder.first, Rewritable) and isinstance(encoder.box.inner, Rewritable)  # untouched
    assert twin.proj is not encoder.proj  # a copy: the run's weights are never shared with the export
    assert export_modules(nn.Sequential(nn.Linear(2, 2)))[1] == []


def test_a_rewritable_top_module_is_replaced_whole():
    twin, replaced = export_modules(Rewritable(2, 2))
    assert isinstance(twin, Fast) and replaced == ["Rewritable"]
