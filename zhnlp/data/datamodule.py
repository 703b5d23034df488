"""The generic DataModule: read with a dataset-reader plugin, tokenise with the encoder's
tokenizer, build targets with the head, batch with dynamic padding and length buckets."""
from __future__ import annotations

import inspect
import warnings
from pathlib import Path
from typing import Any, Callable

import lightning as L
import torch
from torch.utils.data import DataLoader

from zhnlp.builders import build
from zhnlp.data.collate import collate
from zhnlp.data.sampler import BucketBatchSampler
from zhnlp.errors import DataError

SPLITS = ("train", "dev", "test")
TOKENIZE_CHUNK = 2000


def accepts_key(reader: Callable) -> bool:
    """True when ``reader`` takes a ``key`` argument (the config key of the split it reads)."""
    try:
        params = inspect.signature(reader).parameters
    except (TypeError, ValueError):
        return False
    return "key" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def read_split(reader: Callable, path: str | None, key: str) -> list[dict] | None:
    """Read one split; None when ``path`` is None. Missing or empty files are DataErrors.

    Readers that accept ``key`` get it (e.g. ``"data.dev_path"``), for messages that name the
    override to fix, or to tell which split of a shared file to return."""
    if path is None:
        return None
    if not Path(path).is_file():
        raise DataError(path, None, f"file not found. Set {key}=/path/to/file (or fix data_root).")
    examples = reader(str(path), key=key) if accepts_key(reader) else reader(str(path))
    if not examples:
        raise DataError(path, None, f"no examples found (empty dataset). Check the file and {key}.")
    return examples


class DataModule(L.LightningDataModule):
    """Reads the splits once, then turns examples into features for a given encoder + head.

    Args:
        name: dataset name (for run folder names and messages).
        reader: config of the reader builder (``_target_`` + kwargs) or a ready callable.
        train_path, dev_path, test_path: split files; ``test_path`` may be None.
        batch_size, eval_batch_size: rows per batch.
        num_workers: DataLoader workers.
        max_length: cap on tokens per row; defaults to the encoder's ``max_length``.
    """

    def __init__(
        self,
        name: str,
        reader: Any,
        train_path: str,
        dev_path: str,
        test_path: str | None = None,
        batch_size: int = 32,
        eval_batch_size: int = 64,
        num_workers: int = 0,
        max_length: int | None = None,
        seed: int = 0,
        **unused: Any,
    ):
        super().__init__()
        self.name, self.batch_size, self.eval_batch_size = name, batch_size, eval_batch_size
        self.num_workers, self.max_length, self.seed = num_workers, max_length, seed
        self.reader = reader if callable(reader) else build(reader)
        self.paths = {"train": train_path, "dev": dev_path, "test": test_path}
        self.examples: dict[str, list[dict] | None] = {
            split: read_split(self.reader, self.paths[split], f"data.{split}_path") for split in SPLITS
        }
        self.features: dict[str, list[dict]] = {}

    # ---- labels -------------------------------------------------------------------------
    def check_labels(self, labels: list[str], collect: Callable[[list[dict]], list[str]]) -> None:
        """Fail on a dev/test label never seen in train (naming the file and line)."""
        known = set(labels)
        if not known:
            raise DataError(self.paths["train"], None, "no labels found in the training data.")
        for split in ("dev", "test"):
            for ex in self.examples[split] or []:
                unseen = set(collect([ex])) - known
                if unseen:
                    raise DataError(
                        ex.get("_file", self.paths[split]), ex.get("_line"),
                        f"label(s) {sorted(unseen)} never seen in the training data "
                        f"({self.paths['train']}). Known labels: {sorted(known)}. Fix the data "
                        f"or add training examples with these labels.",
                    )

    # ---- features -----------------------------------------------------------------------
    def prepare(self, encoder, head) -> None:
        """Tokenise every split and build the head's targets."""
        limit = self.max_length or getattr(encoder, "max_length", 512)
        for split in SPLITS:
            if self.examples[split] is not None:
                self.features[split] = make_features(self.examples[split], encoder.tokenizer, head, limit)

    def train_texts(self) -> list[str]:
        """Training texts (and second texts of pairs), for vocabulary building."""
        out = []
        for ex in self.examples["train"]:
            out.append(ex["text"])
            if ex.get("text_b"):
                out.append(ex["text_b"])
        return out

    # ---- loaders ------------------------------------------------------------------------
    def _loader(self, split: str, train: bool) -> DataLoader:
        feats = self.features[split]
        size = self.batch_size if train else self.eval_batch_size
        distributed = self.trainer is not None and self.trainer.world_size > 1
        if distributed:  # Lightning adds its DistributedSampler
            return DataLoader(feats, batch_size=size, shuffle=train, collate_fn=collate, num_workers=self.num_workers)
        lengths = [len(f["inputs"]["input_ids"]) for f in feats]
        sampler = BucketBatchSampler(lengths, size, shuffle=train, seed=self.seed)
        return DataLoader(feats, batch_sampler=sampler, collate_fn=collate, num_workers=self.num_workers)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("dev", False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test" if "test" in self.features else "dev", False)

    def transfer_batch_to_device(self, batch: Any, device: Any, dataloader_idx: int) -> Any:
        """Move only the batch's top-level tensors (the ``collate`` layout).

        Lightning's default walks every nested list/dict, including the raw ``examples`` and
        ``offsets`` kept for decoding: about a fifth of a tiny BERT-CRF training step on CPU.
        """
        if not isinstance(batch, dict):
            return super().transfer_batch_to_device(batch, device, dataloader_idx)
        return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}

    def eval_examples(self, stage: str) -> list[dict]:
        """The examples behind the val/test loader, in feature ``example_index`` order."""
        split = "dev" if stage == "val" or "test" not in self.features else "test"
        return self.examples[split]


def split_long(example: dict, head, max_chars: int) -> list[dict]:
    """Windows of a long example if the head supports it, else the example itself."""
    if len(example["text"]) <= max_chars:
        return [example]
    if hasattr(head, "split"):
        return head.split(example, max_chars)
    return [example]


def make_features(examples: list[dict], tokenizer, head, max_length: int) -> list[dict]:
    """Examples -> features ``{"inputs", "targets", "offsets", "example", "index"}``.

    Texts longer than the encoder allows are split into windows by the head (``head.split``) when
    it can merge them back, else truncated to ``max_length`` tokens with a counted warning.
    """
    rows: list[tuple[int, dict]] = []
    max_chars = max(8, max_length - 2)
    for index, ex in enumerate(examples):
        rows += [(index, window) for window in split_long(ex, head, max_chars)]
    features, truncated = [], 0
    for start in range(0, len(rows), TOKENIZE_CHUNK):
        chunk = rows[start : start + TOKENIZE_CHUNK]
        texts = [ex["text"] for _, ex in chunk]
        pairs = [ex.get("text_b") for _, ex in chunk]
        kwargs = dict(return_offsets_mapping=True, add_special_tokens=True, truncation=False)
        enc = tokenizer(texts, pairs, **kwargs) if any(p is not None for p in pairs) else tokenizer(texts, **kwargs)
        columns = list(dict(enc).items())  # a plain list: BatchEncoding.items() is slow per call
        for j, (index, ex) in enumerate(chunk):
            encoding = {key: values[j] for key, values in columns}
            if len(encoding["input_ids"]) > max_length:
                truncated += 1
                encoding = getattr(head, "truncate", truncate)(encoding, max_length)
            offsets = [tuple(o) for o in encoding.pop("offset_mapping")]
            targets = head.targets(ex, {**encoding, "offset_mapping": offsets}) if _has_gold(ex) else {}
            inputs = {k: list(v) for k, v in encoding.items() if k != "special_tokens_mask"}
            features.append({"inputs": inputs, "targets": targets, "offsets": offsets, "example": ex, "index": index})
    if truncated:
        warnings.warn(f"{truncated} text(s) longer than {max_length} tokens were truncated (the head cannot split them).")
    return features


def _has_gold(example: dict) -> bool:
    return example.get("_gold", True)


def truncate(encoding: dict, max_length: int) -> dict:
    """Keep the first ``max_length - 1`` tokens and the last one (the closing special token)."""
    keep = list(range(max_length - 1)) + [len(encoding["input_ids"]) - 1]
    return {key: [values[i] for i in keep] for key, values in encoding.items()}
