"""``zhnlp export RUN --format onnx [--output DIR]``: the tensor part of a run as an ONNX graph.

The graph takes the encoder's inputs (``input_ids``, ``attention_mask`` and whatever else its
tokenizer returns: ``token_type_ids``, ``bigram_ids``, ``seg_ids`` ...), all (batch, seq) int64
with dynamic batch and sequence axes, and returns what the head's ``export_part`` computes: a
:class:`~zhnlp.types.GraphPart` naming its output and axes (a CRF head: ``tags`` (batch, seq),
decoded inside the graph; a classification head: ``probs`` (batch, labels)). The head's
``predict_from_export(output, batch)`` does the rest of its ``predict``.

Tokenization and post-processing stay in Python and are exactly those of the run: the export
folder holds ``model/`` (the run's TaskModel saved without its parameters: config, encoder files,
vocabularies and other non-weight state) and ``zhnlp.load(EXPORT_DIR)`` rebuilds tokenizer and
head from it and runs the graph with onnxruntime (``predictor.json`` names :func:`load_onnx`).
Export uses the TorchScript-based exporter (``torch.onnx.export(..., dynamo=False)``); the result
is checked against PyTorch on inputs of a different batch size and length than the ones traced.

What is traced is a copy of the encoder with the export-time rewrites of :mod:`zhnlp.onnx_optimize`
(equivalent modules onnxruntime runs faster: TextCNN as MatMuls, BERT on real tokens only; listed
in ``export.json`` as ``rewrites``; ``--plain`` skips them); the check compares the graph with the
run's original modules. ``--quantize int8`` additionally writes a dynamically quantized graph, an
approximation recorded with its agreement rate, never the default.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch
from torch import nn

from zhnlp.data.collate import collate, nonempty
from zhnlp.data.features import merge_windows
from zhnlp.errors import ConfigError, ZhnlpError
from zhnlp.model import TaskModel
from zhnlp.onnx_optimize import export_modules
from zhnlp.predict import PIPELINE_FILE, load_model
from zhnlp.types import has

MODEL_FILE = "model.onnx"
META_FILE = "export.json"
MODEL_DIR = "model"
TRACE_TEXTS = ["张伟在北京大学读书。", "华为Mate60手机于2023年8月在深圳发布，售价5999元😀"]
CHECK_TEXTS = ["李娜", "ＡＢＣ银行的王小明去了上海浦东机场，然后到杭州西湖边散步。", "2024年", "中国"]


class ExportWrapper(nn.Module):
    """Encoder + the head's tensor part, positional inputs in ``keys`` order (what the graph takes)."""

    def __init__(self, encoder: nn.Module, part: nn.Module, keys: list[str]):
        super().__init__()
        self.encoder, self.part, self.keys = encoder, part, list(keys)

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        inputs = dict(zip(self.keys, tensors))
        hidden = self.encoder(**inputs)  # (B, T, H)
        return self.part(hidden, inputs["attention_mask"])


def check_exportable(model: TaskModel) -> None:
    """A ConfigError naming what is missing when the model cannot become one graph."""
    head = model.head
    if not (has(head, "export_part") and has(head, "predict_from_export")):
        raise ConfigError(f"the head {type(head).__name__} cannot be exported to ONNX: it declares no export_part() / "
                          f"predict_from_export() (see zhnlp.types.Head).")
    if len(model.members) > 1:
        raise ConfigError(f"this run is an ensemble of {len(model.members)} members (members={len(model.members)}); "
                          f"export one graph per member is not supported: train with members=1 to export.")


# ---- export ---------------------------------------------------------------------------------------
def sample_batch(model: TaskModel, texts: list[str]) -> dict:
    """A collated batch of ``texts`` without gold, as prediction sees it."""
    return collate(model.features([{"text": t, "_gold": False} for t in texts]))


def _session(path: Path, threads: int | None = None):
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ZhnlpError("onnxruntime is not installed: pip install onnxruntime (or zhnlp[dev]).") from exc
    options = ort.SessionOptions()
    # Idle intra-op workers sleep instead of spinning: spinning ones take the CPU from the torch
    # post-processing right after each run (2.3x slower end to end for TextCNN on 2 cores).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _feed(batch: dict, keys: list[str]) -> dict:
    return {k: batch[k].cpu().numpy() for k in keys}


def export_onnx(run: str | Path, output: str | Path | None = None, opset: int = 17, optimize: bool = True,
                quantize: str | None = None) -> Path:
    """Export a run's encoder + head tensor part to ``output/model.onnx`` with its assets.

    Args:
        run: a run folder or ``.ckpt`` file.
        output: export folder (default ``<run>/onnx``).
        opset: ONNX opset version.
        optimize: trace the encoder with the export-time rewrites of :mod:`zhnlp.onnx_optimize`
            (equivalent modules that onnxruntime runs faster); False traces it as it is.
        quantize: ``"int8"``: after the fp32 graph is verified (kept as ``model.fp32.onnx``),
            ``model.onnx`` becomes its dynamic int8 quantization (MatMul weights int8, activations
            quantized per batch). Not equal to PyTorch: ``export.json`` records how often its
            predictions agree with the fp32 graph's (:func:`quantize_int8`). None: fp32 only.

    Returns:
        The export folder (load it with ``zhnlp.load``).

    Raises:
        ConfigError: the head cannot be exported.
        ZhnlpError: the encoder cannot be traced/exported, or the graph disagrees with PyTorch.
    """
    source = Path(run)
    run_dir = source if source.is_dir() else (source.parent.parent if source.parent.name == "checkpoints"
                                              else source.parent)
    out = Path(output) if output else run_dir / "onnx"
    model = load_model(run).eval()
    check_exportable(model)
    encoder, head = model.encoder, model.head
    batch = sample_batch(model, TRACE_TEXTS)
    graph = head.export_part(batch)
    keys = list(batch["encoder_keys"])
    reference = ExportWrapper(encoder, graph.module, keys).eval()  # what the graph must equal
    rewritten, replaced = export_modules(encoder) if optimize else (encoder, [])
    wrapper = ExportWrapper(rewritten.eval(), graph.module, keys).eval()  # what is traced
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / MODEL_FILE
    axes = {k: {0: "batch", 1: "seq"} for k in keys}
    axes[graph.output] = dict(graph.axes)
    name = model.config["encoder"].get("name", "?")
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # trace first (keeps a scripted decoder loop), then convert the traced module
            traced = torch.jit.trace(wrapper, tuple(batch[k] for k in keys), check_trace=False, strict=False)
            torch.onnx.export(traced, tuple(batch[k] for k in keys), str(model_path), input_names=keys,
                              output_names=[graph.output], dynamic_axes=axes, opset_version=opset, dynamo=False)
    except Exception as exc:  # the exporter raises many types; all mean "cannot export this model"
        reason = (str(exc).strip().splitlines() or [""])[0][:400].rstrip(".")
        raise ZhnlpError(f"cannot export encoder '{name}' ({type(encoder).__name__}) with head "
                         f"{type(head).__name__} to ONNX: {type(exc).__name__}: {reason}. The TorchScript exporter "
                         f"must trace the encoder's forward; ops without an ONNX equivalent or Python-side "
                         f"data-dependent logic prevent that.") from exc
    check = sample_batch(model, CHECK_TEXTS)
    session = _session(model_path)  # the fp32 graph; verified here, the reference for --quantize
    verify(reference, session, check, keys, graph.output, name, replaced)
    meta = {"inputs": keys, "output": graph.output, "opset": opset, "encoder": name,
            "rewrites": replaced, "source": str(run)}
    if quantize:
        meta["quantize"] = quantize_int8(model_path, model, keys, graph.output, quantize, fp32_session=session)
    write_assets(out, model, meta)
    return out


def quantize_int8(model_path: Path, model: TaskModel, keys: list[str], output_name: str,
                  kind: str = "int8", fp32_session=None) -> dict:
    """Replace ``model_path`` by its dynamic int8 quantization; the fp32 graph stays as ``*.fp32.onnx``.

    ``fp32_session``: an onnxruntime session already open on the fp32 graph (opened when None).

    Returns:
        ``{"type": "int8", "fp32_model": name, "agreement": share, "texts": n}``: the share of real
        tokens (tags) or texts (argmax of probs) where the int8 graph predicts what the fp32 graph
        does, on the run's dev texts (or the export's check texts when those cannot be read).
    """
    if kind != "int8":
        raise ConfigError(f"quantize={kind!r} is not supported; use int8 (or leave it out for fp32).")
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ZhnlpError("onnxruntime.quantization is not available in this onnxruntime build.") from exc
    fp32 = model_path.with_name(model_path.stem + ".fp32.onnx")
    model_path.replace(fp32)
    quantize_dynamic(str(fp32), str(model_path), weight_type=QuantType.QInt8)
    texts = dev_texts(model)
    a, b = fp32_session or _session(fp32), _session(model_path)
    same = total = 0
    for start in range(0, len(texts), 32):
        batch = sample_batch(model, texts[start : start + 32])
        want = a.run([output_name], _feed(batch, keys))[0]
        got = b.run([output_name], _feed(batch, keys))[0]
        if want.dtype.kind == "f":  # scores: compare the argmax over the last axis
            want, got = want.argmax(-1), got.argmax(-1)
        else:
            real = want >= 0  # ids: -1 on padding
            want, got = want[real], got[real]
        same, total = same + int((want == got).sum()), total + int(want.size)
    return {"type": kind, "fp32_model": fp32.name, "agreement": round(same / max(total, 1), 4), "texts": len(texts)}


def dev_texts(model: TaskModel, limit: int = 200) -> list[str]:
    """Up to ``limit`` texts of the run's dev split, or the check texts when it cannot be read."""
    from zhnlp import registry

    data = model.config.get("data") or {}
    try:
        texts = [ex["text"] for ex in registry.build_reader(data)(data["dev_path"], key="data.dev_path")][:limit]
    except (KeyError, TypeError, OSError, ZhnlpError):  # no / unreadable dev split: the fixed texts
        texts = []
    return [t for t in texts if isinstance(t, str) and t] or list(CHECK_TEXTS)


def verify(wrapper: nn.Module, session, batch: dict, keys: list[str], output_name: str, name: str,
           rewrites: list[str] | tuple = ()) -> None:
    """The graph must agree with the run's PyTorch modules on a batch shaped unlike the traced one."""
    with torch.no_grad():
        want = wrapper(*(batch[k] for k in keys))
    got = torch.from_numpy(session.run([output_name], _feed(batch, keys))[0])
    if got.shape != want.shape:
        raise ZhnlpError(f"the ONNX graph of encoder '{name}' gives shape {tuple(got.shape)} where PyTorch gives "
                         f"{tuple(want.shape)}: a size was frozen while tracing (Python-side shape logic).")
    ok = torch.equal(got, want) if not want.is_floating_point() else torch.allclose(got, want, atol=1e-4, rtol=1e-4)
    if not ok:
        hint = (f" (or the export-time rewrite of {', '.join(rewrites)} is not equivalent: export with --plain "
                f"to trace the modules as they are)" if rewrites else "")
        raise ZhnlpError(f"the ONNX graph of encoder '{name}' disagrees with PyTorch on new input lengths: "
                         f"data-dependent control flow was frozen while tracing{hint}.")


def write_assets(out: Path, model: TaskModel, meta: dict) -> None:
    """export.json, predictor.json and ``model/`` (the TaskModel without its parameters)."""
    model.save_pretrained(out / MODEL_DIR, parameters=False)
    (out / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / PIPELINE_FILE).write_text(json.dumps({"_target_": "zhnlp.export.load_onnx"}, indent=2) + "\n",
                                     encoding="utf-8")


# ---- prediction with onnxruntime --------------------------------------------------------------------
class OnnxPredictor:
    """A TaskModel's tokenization and post-processing around its graph run by onnxruntime.

    The same interface as a TaskModel for prediction (``predict``, ``predict_examples``,
    ``evaluate``, ``head``, ``labels``, ``cfg``). With ``workers`` > 1 the batches of one call run
    concurrently, one core each: onnxruntime releases the GIL for a whole graph run, so this
    scales where intra-op threads on small ops do not.
    """

    def __init__(self, model: TaskModel, session, meta: dict, workers: int = 1):
        self.model, self.session, self.meta, self.workers = model.eval(), session, meta, max(1, int(workers))
        self.head, self.labels, self.cfg = model.head, model.labels, model.config
        self.keys, self.output_name = list(meta["inputs"]), meta["output"]

    def run_graph(self, batch: dict) -> torch.Tensor:
        """The graph's output for a collated batch."""
        return torch.from_numpy(self.session.run([self.output_name], _feed(batch, self.keys))[0])

    def _predict_chunk(self, features: list[dict], chunk: list[int]) -> list[tuple]:
        """(index, example, prediction) for the features at ``chunk`` (one batch)."""
        batch = nonempty(collate([features[i] for i in chunk]))  # only empty texts: one masked position
        preds = self.head.predict_from_export(self.run_graph(batch), batch)
        return list(zip(batch["index"].tolist(), batch["examples"], preds))

    def predict_examples(self, examples: list[dict], batch_size: int = 64) -> list[Any]:
        """Predictions for example dicts, in input order."""
        if not examples:
            return []
        features, order = self.model.sorted_features(examples)
        size = min(batch_size, -(-len(order) // self.workers))  # enough batches to give every worker one
        chunks = [order[start : start + size] for start in range(0, len(order), size)]
        if self.workers > 1 and len(chunks) > 1:
            with ThreadPoolExecutor(min(self.workers, len(chunks))) as pool:
                parts = list(pool.map(lambda chunk: self._predict_chunk(features, chunk), chunks))
        else:
            parts = [self._predict_chunk(features, chunk) for chunk in chunks]
        _, predictions = merge_windows(self.head, examples, [row for part in parts for row in part])
        return predictions

    def predict(self, texts, batch_size: int = 64) -> list[Any]:
        """Predict for each text (the run's output format)."""
        from zhnlp.model import as_examples

        return self.predict_examples(as_examples(texts), batch_size)

    def evaluate(self, examples: list[dict], batch_size: int = 64) -> tuple[dict[str, float], list[Any]]:
        """The head's metrics on labelled examples, and the predictions."""
        predictions = self.predict_examples([{**ex, "_gold": False} for ex in examples], batch_size)
        return self.head.evaluate(predictions, examples), predictions


def load_onnx(path: str | Path, device: str = "cpu", threads: int | None = None, **_: Any) -> OnnxPredictor:
    """Load an export folder written by :func:`export_onnx` (``predictor.json`` names this).

    Args:
        path: the export folder.
        device: ignored (onnxruntime runs on the CPU).
        threads: cores to use (None: all of them). With several, the batches of a call run
            concurrently, one onnxruntime intra-op thread each; 1: one batch at a time on one core.

    Returns:
        An :class:`OnnxPredictor`.
    """
    out = Path(path)
    meta = json.loads((out / META_FILE).read_text(encoding="utf-8"))
    model = TaskModel.from_pretrained(out / MODEL_DIR)
    workers = int(threads) if threads else (os.cpu_count() or 1)
    return OnnxPredictor(model, _session(out / MODEL_FILE, 1), meta, workers)


def main(argv: list[str]) -> None:
    """``zhnlp export RUN --format onnx [--output DIR] [--opset N] [--plain] [--quantize int8]``."""
    parser = argparse.ArgumentParser(prog="zhnlp export", description="Export a trained run for deployment.")
    parser.add_argument("run", help="run folder or .ckpt file")
    parser.add_argument("--format", default="onnx", choices=["onnx"], help="export format (onnx)")
    parser.add_argument("--output", "-o", help="export folder (default: RUN/onnx)")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset version (default 17)")
    parser.add_argument("--plain", action="store_true",
                        help="trace the encoder as it is, without the export-time rewrites (zhnlp.onnx_optimize)")
    parser.add_argument("--quantize", choices=["int8"],
                        help="also quantize the graph (dynamic int8; not equal to PyTorch: export.json "
                             "records its agreement with the fp32 graph, kept as model.fp32.onnx)")
    args = parser.parse_args(argv)
    out = export_onnx(args.run, args.output, args.opset, optimize=not args.plain, quantize=args.quantize)
    print(f"Exported {out / MODEL_FILE}\nzhnlp.load('{out}') predicts with onnxruntime.", file=sys.stderr)
    if args.quantize:
        q = json.loads((out / META_FILE).read_text(encoding="utf-8"))["quantize"]
        print(f"int8 graph: predictions agree with fp32 on {q['agreement']:.2%} ({q['texts']} texts); "
              f"the fp32 graph is {out / q['fp32_model']}.", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
