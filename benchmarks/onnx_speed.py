"""CPU inference speed: the ONNX export (onnxruntime) against PyTorch eager, same run, same texts.

    python benchmarks/onnx_speed.py [--preset char_crf|bert_crf|bert_tiny_crf|textcnn_cls | --run RUN]
        [--texts 200 --batch-size 32 --repeats 7 --threads 1] [--plain] [--quantize int8]

Without ``--run`` a preset model is trained for two steps on the bundled sample data (its weights
do not matter for speed) in a temporary folder and exported:
    char_crf     the default job: char + bigram + word-boundary embeddings, BiLSTM-CRF (default sizes)
    bert_crf     a base-size BERT (hidden 768, 12 layers, random weights) + CRF, no BiLSTM
    bert_tiny_crf  the tiny BERT-CRF of ner_speed.py (2 layers, hidden 128, the shared 21,128-entry
                 vocab when ../shared is there) + CRF, no BiLSTM
    textcnn_cls  TextCNN + classification head on sample_cls

The export applies its default export-time rewrites (``zhnlp.onnx_optimize``: TextCNN as MatMuls,
BERT on real tokens only; ``--plain`` exports the modules as they are). Both sides are fp32 and
use ``--threads`` cores: PyTorch as intra-op threads, the ONNX predictor as that many batches run
concurrently with one onnxruntime thread each (``zhnlp.export.load_onnx(threads=N)``).
``--quantize int8`` times the optional dynamic-int8 graph instead (not equal to eager: its agreement with the fp32 graph is printed). Each repeat times the
two alternately (so both see the same machine load); the medians are reported:
    end_to_end   ``predict(texts)``: tokenization + model + decoding (what a service sees)
    model        the tensor part alone on pre-collated batches (encoder + head, CRF decoding included)
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

PRESETS = {
    "char_crf": [],
    "bert_crf": ["encoder=bert_wwm", "head.lstm_layers=0", "data.batch_size=8"],
    "bert_tiny_crf": ["encoder=bert_wwm", "head.lstm_layers=0", "data.batch_size=8"],
    "textcnn_cls": ["task=classify", "data=sample_cls", "encoder=textcnn"],
}


def train_preset(name: str, tmp: Path) -> Path:
    """Two training steps of a preset (defaults sizes) into ``tmp/run``."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_contracts import compose_config

    from zhnlp.config import to_plain
    from zhnlp.train import train

    overrides = list(PRESETS[name])
    if name == "bert_crf":
        from zhnlp_transformers.tiny import base_kwargs

        kwargs = base_kwargs("bert_wwm", tmp)
        overrides += [f"encoder.pretrained={kwargs['pretrained']}", "encoder.weights=false"]
    if name == "bert_tiny_crf":
        from ner_speed import SHARED_VOCAB, SIZE
        from zhnlp_transformers.tiny import write_checkpoint

        vocab = SHARED_VOCAB if SHARED_VOCAB.is_file() else None
        directory = write_checkpoint(tmp / "tiny-bert", "bert", vocab, size=SIZE, with_head=False)
        overrides += [f"encoder.pretrained={directory}"]
    cfg = to_plain(compose_config([*overrides, "trainer.max_steps=2", "trainer.limit_val_batches=1",
                                   "data.test_path=null", "trainer.enable_progress_bar=false",
                                   "trainer.accelerator=cpu", "early_stopping.patience=0"]))
    train(cfg, tmp / "run")
    return tmp / "run"


def sample_texts(predictor, n: int) -> list[str]:
    """``n`` texts: the run's dev texts, repeated as often as needed."""
    from zhnlp.export import dev_texts

    texts = dev_texts(predictor, limit=n)
    return (texts * (n // len(texts) + 1))[:n]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(run: Path, out: Path, n_texts: int, batch_size: int, repeats: int, threads: int,
            optimize: bool = True, quantize: str | None = None) -> dict:
    from zhnlp.data.collate import collate
    from zhnlp.data.datamodule import make_features
    from zhnlp.export import ADAPTERS, ExportWrapper, adapter_name, export_onnx, load_onnx
    from zhnlp.predict import Predictor

    torch.set_num_threads(threads)
    export_onnx(run, out, optimize=optimize, quantize=quantize)
    eager = Predictor.from_path(run)
    onnx = load_onnx(out, threads=threads)
    texts = sample_texts(eager, n_texts)
    assert quantize or eager.predict(texts[:50]) == onnx.predict(texts[:50]) or adapter_name(eager.head) == "probs"
    examples = [{"text": t, "_gold": False} for t in texts]
    feats = make_features(examples, eager.encoder.tokenizer, eager.head, eager.max_length)
    feats.sort(key=lambda f: len(f["inputs"]["input_ids"]))
    batches = [collate(feats[i : i + batch_size]) for i in range(0, len(feats), batch_size)]
    wrapper = ExportWrapper(eager.encoder, ADAPTERS[adapter_name(eager.head)][0](eager.head), onnx.keys).eval()

    def eager_model():
        with torch.inference_mode():
            for b in batches:
                wrapper(*(b[k] for k in onnx.keys))

    def onnx_model():  # as predict runs them: concurrent batches, one core each, when threads > 1
        with ThreadPoolExecutor(onnx.workers) as pool:
            list(pool.map(onnx.run_graph, batches))

    eager_model(), onnx_model(), eager.predict(texts[:batch_size]), onnx.predict(texts[:batch_size])  # warm-up
    rows = {"end_to_end": ([], []), "model": ([], [])}
    for _ in range(repeats):
        rows["end_to_end"][0].append(timed(lambda: eager.predict(texts, batch_size)))
        rows["end_to_end"][1].append(timed(lambda: onnx.predict(texts, batch_size)))
        rows["model"][0].append(timed(eager_model))
        rows["model"][1].append(timed(onnx_model))
    result = {"texts": n_texts, "batch_size": batch_size, "repeats": repeats, "threads": threads,
              "encoder": onnx.meta["encoder"], "adapter": onnx.meta["adapter"],
              "rewrites": onnx.meta.get("rewrites", []), "quantize": onnx.meta.get("quantize"),
              "torch": torch.__version__,
              "machine": platform.processor() or platform.machine()}
    for key, (eager_times, onnx_times) in rows.items():
        e, o = statistics.median(eager_times), statistics.median(onnx_times)
        result[key] = {"eager_texts_per_s": round(n_texts / e, 1), "onnx_texts_per_s": round(n_texts / o, 1),
                       "speedup": round(e / o, 2)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", help="a trained run folder (default: train --preset for two steps)")
    parser.add_argument("--preset", default="char_crf", choices=sorted(PRESETS))
    parser.add_argument("--texts", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--plain", action="store_true", help="export without the export-time rewrites")
    parser.add_argument("--quantize", choices=["int8"], help="time the dynamic-int8 graph (an approximation)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(args.run) if args.run else train_preset(args.preset, Path(tmp))
        result = measure(run, Path(tmp) / "onnx", args.texts, args.batch_size, args.repeats, args.threads,
                         optimize=not args.plain, quantize=args.quantize)
    result["preset"] = None if args.run else args.preset
    print(json.dumps(result, indent=2))
    if result["quantize"]:
        q = result["quantize"]
        print(f"INT8 graph (approximation): agrees with fp32 on {q['agreement']:.2%} of {q['texts']} dev texts' "
              f"predictions; speedups below are int8 ONNX vs fp32 eager")
    for key in ("end_to_end", "model"):
        r = result[key]
        print(f"{key:>10}: eager {r['eager_texts_per_s']:8.1f} texts/s   onnx {r['onnx_texts_per_s']:8.1f} texts/s"
              f"   speedup x{r['speedup']:.2f}")


if __name__ == "__main__":
    main()
