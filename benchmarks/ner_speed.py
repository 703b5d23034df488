"""NER speed, side by side on the same data, tiny BERT-CRF config and CPU (issue: speed targets).

Compares, in one process on the same CLUENER sentences:
  (a) a plain hand-written loop: transformers BertModel + pytorch-crf, one token per character,
      every batch padded to a fixed max length (the way most public Chinese NER repos do it);
  (b) transformers ``pipeline("token-classification")`` for inference;
  zhnlp: the same encoder/CRF through zhnlp's TaskModule + Lightning (length buckets, dynamic
      padding) for training, and ``TaskModel.predict`` (inference_mode, batched Viterbi) for inference.
Prints medians over --repeats runs and the ratios.

    python benchmarks/ner_speed.py --data ../shared/datasets/cluener/train.json
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

SHARED_VOCAB = Path(__file__).resolve().parents[2] / "shared" / "vocab" / "bert-base-chinese-vocab.txt"
SIZE = {"hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 256,
        "max_position_embeddings": 512}


def read_cluener(path: str, limit: int) -> list[dict]:
    """CLUENER lines -> {"text", "entities"} (end exclusive) via zhnlp's own reader."""
    from zhnlp import registry

    return registry.build_reader({"name": "cluener"})(path, key="--data")[:limit]


def bio_tags(example: dict, index: dict[str, int]) -> list[int]:
    tags = ["O"] * len(example["text"])
    for ent in example["entities"]:
        tags[ent["start"]] = f"B-{ent['type']}"
        for i in range(ent["start"] + 1, ent["end"]):
            tags[i] = f"I-{ent['type']}"
    return [index[t] for t in tags]


class PlainBertCrf(nn.Module):
    """(a): BertModel -> Linear -> CRF, as in typical public repos."""

    def __init__(self, directory: str, num_tags: int):
        from torchcrf import CRF
        from transformers import BertModel

        super().__init__()
        self.bert = BertModel.from_pretrained(directory, add_pooling_layer=False)
        self.proj = nn.Linear(self.bert.config.hidden_size, num_tags)
        self.crf = CRF(num_tags, batch_first=True)

    def emissions(self, ids, mask):
        return self.proj(self.bert(input_ids=ids, attention_mask=mask).last_hidden_state)  # (B, T, K)


def plain_batches(examples, vocab, tag_index, max_len, batch_size):
    """Fixed-length padded tensors: [CLS] + one id per char + [SEP]."""
    unk, cls, sep = vocab["[UNK]"], vocab["[CLS]"], vocab["[SEP]"]
    out = []
    for start in range(0, len(examples), batch_size):
        rows = examples[start : start + batch_size]
        ids = torch.zeros(len(rows), max_len, dtype=torch.long)
        mask = torch.zeros_like(ids)
        tags = torch.zeros_like(ids)
        for r, ex in enumerate(rows):
            chars = [vocab.get(c, vocab.get(c.lower(), unk)) for c in ex["text"]][: max_len - 2]
            seq = [cls, *chars, sep]
            ids[r, : len(seq)] = torch.tensor(seq)
            mask[r, : len(seq)] = 1
            t = bio_tags(ex, tag_index)[: max_len - 2]
            tags[r, 1 : 1 + len(t)] = torch.tensor(t)
        out.append((ids, mask, tags))
    return out


def time_plain_train(model, batches) -> float:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()
    start = time.perf_counter()
    for ids, mask, tags in batches:
        loss = -model.crf(model.emissions(ids, mask), tags, mask=mask.bool(), reduction="mean")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def time_plain_infer(model, batches) -> float:
    model.eval()
    start = time.perf_counter()
    with torch.no_grad():
        for ids, mask, _ in batches:
            model.crf.decode(model.emissions(ids, mask), mask=mask.bool())
    return time.perf_counter() - start


def shipped_optim() -> dict:
    """zhnlp's default optimizer settings (conf/optim/adamw.yaml, e.g. the fused AdamW kernel)."""
    from omegaconf import OmegaConf

    conf = OmegaConf.load(Path(__file__).resolve().parents[1] / "conf" / "optim" / "adamw.yaml")
    return {"optimizer": OmegaConf.to_container(conf.optimizer)}


def time_zhnlp_train(directory, train, labels, batch_size) -> float:
    import lightning as L

    from zhnlp.data import DataModule
    from zhnlp.model import TaskModel
    from zhnlp.module import TaskModule

    model = TaskModel.build({"name": "bert_wwm", "pretrained": directory}, {"name": "crf", "lstm_layers": 0}, labels)
    data = DataModule("bench", reader=lambda path, key: train, train_path=__file__, dev_path=__file__,
                      batch_size=batch_size)
    data.prepare(model)
    cfg = {"optim": {**shipped_optim(), "lr": 1e-4, "weight_decay": 0.0, "scheduler": "constant"}}
    module = TaskModule(model, cfg)
    trainer = L.Trainer(accelerator="cpu", max_epochs=1, limit_val_batches=0, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    start = time.perf_counter()
    trainer.fit(module, datamodule=data)
    return time.perf_counter() - start


def time_zhnlp_infer(predictor, texts, batch_size) -> float:
    start = time.perf_counter()
    predictor.predict(texts, batch_size=batch_size)
    return time.perf_counter() - start


def time_pipeline_infer(directory, texts, labels, batch_size) -> float:
    from transformers import BertForTokenClassification, BertTokenizer, pipeline

    tags = ["O"] + [f"{p}-{t}" for t in labels for p in "BI"]
    with tempfile.TemporaryDirectory() as tmp:
        model = BertForTokenClassification.from_pretrained(directory, num_labels=len(tags))
        model.config.id2label = dict(enumerate(tags))
        model.save_pretrained(tmp)
        tok = BertTokenizer.from_pretrained(directory)
        pipe = pipeline("token-classification", model=tmp, tokenizer=tok, device=-1, aggregation_strategy="simple")
        start = time.perf_counter()
        pipe(texts, batch_size=batch_size)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(SHARED_VOCAB.parents[1] / "datasets" / "cluener" / "train.json"))
    parser.add_argument("--train-samples", type=int, default=2048)
    parser.add_argument("--infer-samples", type=int, default=2048)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-len", type=int, default=128, help="fixed padding length of (a)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from zhnlp.model import TaskModel
    from zhnlp_transformers.tiny import write_checkpoint

    examples = read_cluener(args.data, max(args.train_samples, args.infer_samples))
    train, texts = examples[: args.train_samples], [ex["text"] for ex in examples[: args.infer_samples]]
    labels = sorted({e["type"] for ex in examples for e in ex["entities"]})
    tag_index = {"O": 0, **{f"{p}-{t}": 1 + 2 * i + j for i, t in enumerate(labels) for j, p in enumerate("BI")}}
    with tempfile.TemporaryDirectory() as tmp:
        vocab_src = SHARED_VOCAB if SHARED_VOCAB.is_file() else None
        directory = str(write_checkpoint(Path(tmp) / "tiny-bert", "bert", vocab_src, size=SIZE, with_head=False))
        vocab = {t: i for i, t in enumerate(Path(directory, "vocab.txt").read_text(encoding="utf-8").splitlines())}
        plain = PlainBertCrf(directory, len(tag_index))
        train_batches = plain_batches(train, vocab, tag_index, args.max_len, args.batch_size)
        infer_batches = plain_batches(examples[: args.infer_samples], vocab, tag_index, args.max_len, args.batch_size)
        predictor = TaskModel.build({"name": "bert_wwm", "pretrained": directory}, {"name": "crf", "lstm_layers": 0},
                                    labels).eval()

        # warm-up (first-call allocations, lazy imports) so every timed repeat measures steady state
        time_plain_infer(plain, infer_batches[:2])
        time_zhnlp_infer(predictor, texts[: 2 * args.batch_size], args.batch_size)
        runs: dict[str, list[float]] = {k: [] for k in ("train_a", "train_zhnlp", "infer_a", "infer_b", "infer_zhnlp")}
        for _ in range(args.repeats):
            runs["train_a"].append(args.train_samples / time_plain_train(plain, train_batches))
            runs["train_zhnlp"].append(args.train_samples / time_zhnlp_train(directory, train, labels, args.batch_size))
            runs["infer_a"].append(args.infer_samples / time_plain_infer(plain, infer_batches))
            runs["infer_b"].append(args.infer_samples / time_pipeline_infer(directory, texts, labels, args.batch_size))
            runs["infer_zhnlp"].append(args.infer_samples / time_zhnlp_infer(predictor, texts, args.batch_size))
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"CLUENER, {args.train_samples} train / {args.infer_samples} inference texts, tiny BERT-CRF "
          f"({SIZE['num_hidden_layers']}x{SIZE['hidden_size']}), batch {args.batch_size}, {args.threads} threads, "
          f"median of {args.repeats}")
    print(f"  training samples/s:  (a) plain loop {med['train_a']:8.1f}   zhnlp {med['train_zhnlp']:8.1f}   "
          f"ratio {med['train_zhnlp'] / med['train_a']:.2f}x")
    print(f"  inference texts/s:   (a) plain loop {med['infer_a']:8.1f}   (b) pipeline {med['infer_b']:8.1f}   "
          f"zhnlp {med['infer_zhnlp']:8.1f}   ratios {med['infer_zhnlp'] / med['infer_a']:.2f}x (a), "
          f"{med['infer_zhnlp'] / med['infer_b']:.2f}x (b)")
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": runs, "median": med, "args": vars(args)}, indent=2))


if __name__ == "__main__":
    main()
