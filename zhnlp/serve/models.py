"""The models a server holds: load each one named on the command line and describe it."""
from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zhnlp.errors import ZhnlpError

WARM_UP = "张伟在北京大学读书。"


@dataclass
class ServedModel:
    """One loaded predictor and what ``GET /models`` says about it.

    Attributes:
        name: the URL name (``/models/{name}/predict``): the folder name, made unique.
        source: the path it was loaded from (absolute).
        predictor: what ``zhnlp.load(source)`` returns (anything with ``predict(texts)``).
        task: ``ner``, ``classify``, ``keywords``, ... (the head's declared task), or the
            predictor's own ``task`` attribute, else ``"unknown"``.
        labels: the label set (entity types, classes ...); empty when the predictor has none.
        encoder: the registered encoder name, or None.
    """

    name: str
    source: str
    predictor: Any
    task: str
    labels: list[str]
    encoder: str | None

    def info(self) -> dict:
        """The JSON of ``GET /models`` for this model."""
        return {"name": self.name, "task": self.task, "labels": self.labels, "encoder": self.encoder,
                "source": self.source, "predictor": type(self.predictor).__name__}


def load_models(paths: list[str], threads: int | None = None) -> list[ServedModel]:
    """Load every path (run folder, ``model/`` folder, ``.ckpt``, export / ensemble / pipeline folder).

    Args:
        paths: what ``zhnlp serve`` was given, in order; the first is served at ``/predict``.
        threads: intra-op threads, passed to loaders that take ``threads`` (ONNX exports).

    Returns:
        One :class:`ServedModel` per path, names unique (``run``, ``run-2``, ...).

    Raises:
        ZhnlpError: naming the first path that does not load and why.
    """
    served, taken = [], set()
    for path in paths:
        predictor = load_one(path, threads)
        name = unique_name(model_name(path), taken)
        taken.add(name)
        served.append(describe(name, path, predictor))
    return served


def load_one(path: str, threads: int | None) -> Any:
    """``zhnlp.load(path)``, with ``threads`` for a ``predictor.json`` loader that takes it, warmed
    up with one prediction; any failure (loading or that prediction) becomes one ZhnlpError line
    naming the path."""
    import zhnlp
    from zhnlp.builders import build, locate
    from zhnlp.predict import PIPELINE_FILE

    p = Path(path)
    try:
        if not p.exists():
            raise ZhnlpError("no such file or folder")
        spec_file = p / PIPELINE_FILE
        spec = json.loads(spec_file.read_text(encoding="utf-8")) if p.is_dir() and spec_file.is_file() else None
        if threads and spec and "threads" in inspect.signature(locate(spec["_target_"])).parameters:
            predictor = build({**spec, "threads": threads}, path=str(p), device="cpu")
        else:
            predictor = zhnlp.load(str(p))
        predictor.predict([WARM_UP])  # first-call costs (dictionaries, allocations) before /health says ready
        return predictor
    except ZhnlpError as error:
        reason = " ".join(str(error).split())
        raise ZhnlpError(reason if reason.startswith(str(p)) else f"{p}: cannot load: {reason}") from None
    except Exception as error:  # noqa: BLE001 - a broken folder can fail in many ways; say which, in one line
        raise ZhnlpError(f"{p}: cannot load: {type(error).__name__}: {' '.join(str(error).split())}") from None


def model_name(path: str) -> str:
    """The folder name of a model path (a checkpoint file: its run folder's name)."""
    p = Path(path).resolve()
    if p.is_file():
        p = p.parent.parent if p.parent.name == "checkpoints" else p.parent
    return p.name or "model"


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3`` ... when it is taken."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def describe(name: str, path: str, predictor: Any) -> ServedModel:
    """A :class:`ServedModel`: task from the head's registered spec (``cfg["head"]["name"]``)."""
    from zhnlp import registry
    from zhnlp.errors import PluginError

    cfg = getattr(predictor, "cfg", None) or {}
    task = getattr(predictor, "task", None)
    head = (cfg.get("head") or {}).get("name")
    if task is None and head:
        try:
            task = registry.get("heads", head).task
        except PluginError:
            task = None
    return ServedModel(name=name, source=str(Path(path).resolve()), predictor=predictor, task=task or "unknown",
                       labels=list(getattr(predictor, "labels", None) or []),
                       encoder=(cfg.get("encoder") or {}).get("name"))
