"""Export-time rewrites: modules swapped for equivalent ones that onnxruntime runs faster.

``zhnlp export`` traces a copy of the encoder in which every submodule with an ``export_module()``
method is replaced by what that returns (None: keep it and look inside). Plugins offer it for their
own layers: the classic TextCNN computed as MatMuls (``zhnlp_classic.export_graph``), a BERT
encoder computing its matrix products on real tokens only (``zhnlp_transformers.export_graph``).

The run itself is never modified (eager prediction is unchanged) and the export checks the graph
against the original modules, so a rewrite that changed the outputs would fail the export.
"""
from __future__ import annotations

import copy

from torch import nn

from zhnlp.types import has


def export_modules(module: nn.Module) -> tuple[nn.Module, list[str]]:
    """A copy of ``module`` with the export-time rewrites applied, and what was rewritten.

    Args:
        module: the encoder (left as it is).

    Returns:
        The rewritten copy and the class names of the replaced submodules (may be empty).
    """
    twin, replaced = copy.deepcopy(module), []

    def rewrite(sub: nn.Module) -> nn.Module | None:
        return sub.export_module() if has(sub, "export_module") else None

    def swap(parent: nn.Module) -> None:
        for attr, sub in list(parent.named_children()):
            new = rewrite(sub)
            if new is None:
                swap(sub)
            else:
                replaced.append(type(sub).__name__)
                setattr(parent, attr, new)

    top = rewrite(twin)
    if top is not None:
        return top, [type(twin).__name__]
    swap(twin)
    return twin, replaced
