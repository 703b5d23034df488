"""``zhnlp export RUN --format onnx [--output DIR]``: the tensor part of a run as an ONNX graph.

The graph takes the encoder's inputs (``input_ids``, ``attention_mask`` and whatever else its
tokenizer returns: ``token_type_ids``, ``bigram_ids``, ``seg_ids`` ...), all (batch, seq) int64
with dynamic batch and sequence axes, and returns

    tags   (batch, seq) int64, -1 on padding   tagging heads; a CRF decodes inside the graph
                                               (the head's ``export_decoder()``, scripted, so the
                                               Viterbi loop stays a loop for any length)
    probs  (batch, labels) float32            classification heads (softmax, or sigmoid for
                                               multi-label)

Tokenization and post-processing stay in Python and are exactly those of the run: the export
folder keeps the run's config, labels, encoder asset files and the non-weight state (vocabularies,
tuned thresholds) in ``assets.ckpt``; ``zhnlp.load(EXPORT_DIR)`` rebuilds tokenizer and head from
them and runs the graph with onnxruntime (``predictor.json`` names :func:`load_onnx`).

Heads take part through two optional methods (used when present):
    export_forward(hidden (B,T,H), attention_mask (B,T)) -> Tensor    traceable tensor part
    predict_from_export(output: Tensor, batch) -> list                 the rest of ``predict``
and otherwise through built-in adapters found by duck typing: a CRF head (``export_decoder``,
``emissions``, ``decode``), a per-token softmax tagger (``proj``, ``tags``) and a sequence
classifier (``logits``, ``mode``; joint inputs only). Export uses the TorchScript-based exporter
(``torch.onnx.export(..., dynamo=False)``); the result is checked against PyTorch on inputs of a
different batch size and length than the ones traced.

What is traced is a copy of the encoder with the export-time rewrites of :mod:`zhnlp.onnx_optimize`
(equivalent modules onnxruntime runs faster: TextCNN as MatMuls, BERT on real tokens only; listed
in ``export.json`` as ``rewrites``; ``--plain`` skips them); the check compares the graph with the
run's original modules. ``--quantize int8`` additionally writes a dynamically quantized graph, an
approximation recorded with its agreement rate, never the default.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn
from torch.nn import functional as F

from zhnlp.data.collate import collate
from zhnlp.data.datamodule import make_features
from zhnlp.errors import ConfigError, ZhnlpError
from zhnlp.module import merge_windows
from zhnlp.onnx_optimize import export_modules
from zhnlp.predict import Predictor, absolute_assets, find_checkpoint, read_checkpoint
from zhnlp.types import last_hidden

MODEL_FILE = "model.onnx"
META_FILE = "export.json"
ASSETS_FILE = "assets.ckpt"
TRACE_TEXTS = ["张伟在北京大学读书。", "华为Mate60手机于2023年8月在深圳发布，售价5999元😀"]
CHECK_TEXTS = ["李娜", "ＡＢＣ银行的王小明去了上海浦东机场，然后到杭州西湖边散步。", "2024年", "中国"]


# ---- head adapters: tensor part (exported) + python part (kept) ------------------------------------
class CrfPart(nn.Module):
    """Emissions + scripted constrained Viterbi: (B,T,H), (B,T) -> tags (B,T)."""

    def __init__(self, head: nn.Module):
        super().__init__()
        self.head = head
        self.decoder = torch.jit.script(head.export_decoder())

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.bool()
        return self.decoder(self.head.emissions(hidden, mask), mask)  # (B, T)


class ArgmaxPart(nn.Module):
    """Per-token argmax of the head's projection: (B,T,H) -> tags (B,T), -1 on padding."""

    def __init__(self, head: nn.Module):
        super().__init__()
        self.head = head

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        tags = self.head.proj(hidden).argmax(-1)  # (B, T)
        return tags.masked_fill(attention_mask == 0, -1)


class ProbsPart(nn.Module):
    """Pooled class probabilities: (B,T,H) -> (B,K)."""

    def __init__(self, head: nn.Module):
        super().__init__()
        self.head = head

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        logits = self.head.logits(hidden, {"attention_mask": attention_mask})  # (B, K)
        return torch.sigmoid(logits) if self.head.mode == "multi" else torch.softmax(logits, dim=-1)


class HookPart(nn.Module):
    """A head's own ``export_forward``."""

    def __init__(self, head: nn.Module):
        super().__init__()
        self.head = head

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head.export_forward(hidden, attention_mask)


def _shadow(head: nn.Module, **methods: Callable) -> nn.Module:
    """A shallow copy of ``head`` whose named methods / submodules are replaced (for ``predict``)."""
    twin = copy.copy(head)
    for name, fn in methods.items():
        object.__setattr__(twin, name, fn)
    return twin


def _crf_python(head: nn.Module, tags: torch.Tensor, batch: dict) -> list:
    twin = _shadow(head, emissions=lambda hidden, mask: hidden, decode=lambda emissions, mask: emissions)
    return twin.predict(tags, batch)


def _argmax_python(head: nn.Module, tags: torch.Tensor, batch: dict) -> list:
    k = len(head.tags)
    twin = _shadow(head, proj=lambda hidden: F.one_hot(hidden.clamp(min=0), k).float())
    return twin.predict(tags, batch)


def _probs_python(head: nn.Module, probs: torch.Tensor, batch: dict) -> list:
    to_logits = torch.logit if head.mode == "multi" else torch.log
    twin = _shadow(head, logits=lambda hidden, b: to_logits(hidden.float()))
    return twin.predict(probs, batch)


def _hook_python(head: nn.Module, output: torch.Tensor, batch: dict) -> list:
    return head.predict_from_export(output, batch)


ADAPTERS: dict[str, tuple[type[nn.Module], Callable, str]] = {
    "hook": (HookPart, _hook_python, "output"),
    "crf": (CrfPart, _crf_python, "tags"),
    "argmax": (ArgmaxPart, _argmax_python, "tags"),
    "probs": (ProbsPart, _probs_python, "probs"),
}


def adapter_name(head: nn.Module) -> str:
    """Which adapter exports ``head``; ConfigError naming what is missing otherwise."""
    if hasattr(head, "export_forward") and hasattr(head, "predict_from_export"):
        return "hook"
    if all(hasattr(head, a) for a in ("export_decoder", "emissions", "decode")):
        return "crf"
    if hasattr(head, "proj") and hasattr(head, "tags") and not hasattr(head, "crf"):
        return "argmax"
    if hasattr(head, "logits") and getattr(head, "mode", None) in ("single", "multi"):
        if getattr(head, "pair_mode", "joint") != "joint":
            raise ConfigError(f"head.pair_mode={head.pair_mode} pools each text by its special-token positions, which "
                              f"the exported graph cannot see; export a run trained with head.pair_mode=joint.")
        return "probs"
    raise ConfigError(f"the head {type(head).__name__} cannot be exported: it has neither export_forward/"
                      f"predict_from_export nor a CRF decoder, a per-token projection or class logits "
                      f"(span heads such as global_pointer are not supported).")


class ExportWrapper(nn.Module):
    """Encoder + head tensor part, positional inputs in ``keys`` order (what the graph takes)."""

    def __init__(self, encoder: nn.Module, part: nn.Module, keys: list[str]):
        super().__init__()
        self.encoder, self.part, self.keys = encoder, part, list(keys)

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        inputs = dict(zip(self.keys, tensors))
        hidden = last_hidden(self.encoder(**inputs))  # (B, T, H)
        return self.part(hidden, inputs["attention_mask"])


# ---- export ---------------------------------------------------------------------------------------
def sample_batch(predictor: Predictor, texts: list[str]) -> dict:
    examples = [{"text": t, "_gold": False} for t in texts]
    return collate(make_features(examples, predictor.encoder.tokenizer, predictor.head, predictor.max_length))


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


def _encoder_name(cfg: dict) -> str:
    return str(cfg.get("encoder", {}).get("_target_", "?")).rsplit(".", 1)[-1].removeprefix("build_")


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
    ckpt_path = find_checkpoint(run)
    run_dir = ckpt_path.parent.parent if ckpt_path.parent.name == "checkpoints" else ckpt_path.parent
    out = Path(output) if output else run_dir / "onnx"
    predictor = Predictor.from_path(ckpt_path)
    encoder, head = predictor.encoder.eval(), predictor.head.eval()
    kind = adapter_name(head)
    part_cls, _, output_name = ADAPTERS[kind]
    batch = sample_batch(predictor, TRACE_TEXTS)
    if kind == "probs" and hasattr(head, "pooling_kind"):
        head.pooling_kind(batch)  # resolve pooling=auto from the offsets before tracing
    keys = list(batch["encoder_keys"])
    reference = ExportWrapper(encoder, part_cls(head), keys).eval()  # what the graph must equal
    rewritten, replaced = export_modules(encoder) if optimize else (encoder, [])
    wrapper = ExportWrapper(rewritten.eval(), part_cls(head), keys).eval()  # what is traced
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / MODEL_FILE
    axes = {k: {0: "batch", 1: "seq"} for k in keys}
    axes[output_name] = {0: "batch", 1: "seq"} if output_name == "tags" else {0: "batch"}
    name = _encoder_name(predictor.cfg)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # trace first (keeps the scripted CRF loop), then convert the traced module
            traced = torch.jit.trace(wrapper, tuple(batch[k] for k in keys), check_trace=False, strict=False)
            torch.onnx.export(traced, tuple(batch[k] for k in keys), str(model_path), input_names=keys,
                              output_names=[output_name], dynamic_axes=axes, opset_version=opset, dynamo=False)
    except Exception as exc:  # the exporter raises many types; all mean "cannot export this model"
        reason = (str(exc).strip().splitlines() or [""])[0][:400].rstrip(".")
        raise ZhnlpError(f"cannot export encoder '{name}' ({type(encoder).__name__}) with head "
                         f"{type(head).__name__} to ONNX: {type(exc).__name__}: {reason}. The TorchScript exporter "
                         f"must trace the encoder's forward; ops without an ONNX equivalent or Python-side "
                         f"data-dependent logic prevent that.") from exc
    check = sample_batch(predictor, CHECK_TEXTS)
    session = _session(model_path)  # the fp32 graph; verified here, the reference for --quantize
    verify(reference, session, check, keys, output_name, name, replaced)
    meta = {"adapter": kind, "inputs": keys, "output": output_name, "opset": opset, "encoder": name,
            "rewrites": replaced, "source": str(ckpt_path)}
    if quantize:
        meta["quantize"] = quantize_int8(model_path, predictor, keys, output_name, quantize, fp32_session=session)
    write_assets(out, ckpt_path, run_dir, predictor, meta)
    return out


def quantize_int8(model_path: Path, predictor: Predictor, keys: list[str], output_name: str,
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
    texts = dev_texts(predictor)
    a, b = fp32_session or _session(fp32), _session(model_path)
    same = total = 0
    for start in range(0, len(texts), 32):
        batch = sample_batch(predictor, texts[start : start + 32])
        want = a.run([output_name], _feed(batch, keys))[0]
        got = b.run([output_name], _feed(batch, keys))[0]
        if output_name == "probs":
            want, got = want.argmax(-1), got.argmax(-1)  # (B,)
        else:
            real = want >= 0  # tags: -1 on padding
            want, got = want[real], got[real]
        same, total = same + int((want == got).sum()), total + int(want.size)
    return {"type": kind, "fp32_model": fp32.name, "agreement": round(same / max(total, 1), 4), "texts": len(texts)}


def dev_texts(predictor: Predictor, limit: int = 200) -> list[str]:
    """Up to ``limit`` texts of the run's dev split, or the check texts when it cannot be read."""
    from zhnlp.builders import build

    data = predictor.cfg.get("data", {})
    try:
        texts = [ex["text"] for ex in build(data["reader"])(data["dev_path"])][:limit]
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


def write_assets(out: Path, ckpt_path: Path, run_dir: Path, predictor: Predictor, meta: dict) -> None:
    """export.json, predictor.json, assets.ckpt (config, labels, non-weight state), encoder files."""
    ckpt = read_checkpoint(ckpt_path)
    hp = ckpt["hyper_parameters"]
    weights = {f"encoder.{n}" for n, _ in predictor.encoder.named_parameters(remove_duplicate=False)}
    weights |= {f"head.{n}" for n, _ in predictor.head.named_parameters(remove_duplicate=False)}
    state = {k: v for k, v in ckpt["state_dict"].items() if k not in weights}
    assets = hp.get("encoder_assets") or {}
    for key in assets.get("_relative", []):
        src, dst = run_dir / assets[key], out / assets[key]
        if src.is_dir() and src.resolve() != dst.resolve():
            shutil.copytree(src, dst, dirs_exist_ok=True)
    torch.save({"hyper_parameters": {"cfg": hp["cfg"], "labels": hp["labels"], "encoder_assets": assets},
                "state_dict": state}, out / ASSETS_FILE)
    (out / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    from zhnlp.predict import PIPELINE_FILE

    (out / PIPELINE_FILE).write_text(json.dumps({"_target_": "zhnlp.export.load_onnx"}, indent=2) + "\n", encoding="utf-8")


# ---- prediction with onnxruntime --------------------------------------------------------------------
class OnnxPredictor(Predictor):
    """A :class:`~zhnlp.predict.Predictor` whose encoder + head tensor part runs in onnxruntime.

    Tokenization, windows and post-processing are the run's own (rebuilt from the export folder).
    With ``workers`` > 1 the batches of one call run concurrently, one core each: onnxruntime
    releases the GIL for a whole graph run, so this scales where intra-op threads on small ops do not.
    """

    def __init__(self, encoder, head, cfg: dict, labels: list[str], session, meta: dict, workers: int = 1):
        super().__init__(encoder, head, cfg, labels, device="cpu")
        self.session, self.meta, self.workers = session, meta, max(1, int(workers))
        self.keys, self.output_name = list(meta["inputs"]), meta["output"]
        self._python = ADAPTERS[meta["adapter"]][1]

    def run_graph(self, batch: dict) -> torch.Tensor:
        """The graph's output for a collated batch."""
        return torch.from_numpy(self.session.run([self.output_name], _feed(batch, self.keys))[0])

    def _predict_chunk(self, features: list[dict], chunk: list[int]) -> list[tuple]:
        """(index, example, prediction) for the features at ``chunk`` (one batch)."""
        batch = collate([features[i] for i in chunk])
        if batch["input_ids"].size(1) == 0:  # only empty texts: nothing for the graph to see
            batch = {**batch, **{k: torch.zeros(batch[k].size(0), 1, dtype=torch.long) for k in self.keys}}
            batch["offsets"] = [[(0, 0)] for _ in batch["offsets"]]
        preds = self._python(self.head, self.run_graph(batch), batch)
        return list(zip(batch["index"].tolist(), batch["examples"], preds))

    def predict_examples(self, examples: list[dict], batch_size: int = 64) -> list[Any]:
        if not examples:
            return []
        features, order = self.sorted_features(examples)
        size = min(batch_size, -(-len(order) // self.workers))  # enough batches to give every worker one
        chunks = [order[start : start + size] for start in range(0, len(order), size)]
        if self.workers > 1 and len(chunks) > 1:
            with ThreadPoolExecutor(min(self.workers, len(chunks))) as pool:
                parts = list(pool.map(lambda chunk: self._predict_chunk(features, chunk), chunks))
        else:
            parts = [self._predict_chunk(features, chunk) for chunk in chunks]
        _, predictions = merge_windows(self.head, examples, [row for part in parts for row in part])
        return predictions


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
    from zhnlp.builders import build

    out = Path(path)
    meta = json.loads((out / META_FILE).read_text(encoding="utf-8"))
    assets = read_checkpoint(out / ASSETS_FILE)
    hp = assets["hyper_parameters"]
    cfg, labels = hp["cfg"], list(hp["labels"])
    encoder = build({**cfg["encoder"], **absolute_assets(hp.get("encoder_assets") or {}, out)})
    head = build(cfg["head"])(hidden_size=encoder.hidden_size, labels=labels)
    state = assets["state_dict"]
    encoder.load_state_dict({k[8:]: v for k, v in state.items() if k.startswith("encoder.")}, strict=False)
    head.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("head.")}, strict=False)
    workers = int(threads) if threads else (os.cpu_count() or 1)
    return OnnxPredictor(encoder, head, cfg, labels, _session(out / MODEL_FILE, 1), meta, workers)


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
