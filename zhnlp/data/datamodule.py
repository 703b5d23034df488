"""The generic DataModule: read with the dataset's reader plugin, tokenise and build targets with the
model (:meth:`zhnlp.model.TaskModel.features`), batch with dynamic padding and length buckets."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import lightning as L
import torch
from torch.utils.data import DataLoader

from zhnlp import registry
from zhnlp.data.collate import collate
from zhnlp.data.sampler import BucketBatchSampler
from zhnlp.errors import DataError

SPLITS = ("train", "dev", "test")


def read_split(reader: Callable, path: str | None, key: str) -> list[dict] | None:
    """Read one split; None when ``path`` is None. Missing or empty files are DataErrors.

    The reader gets ``key`` (e.g. ``"data.dev_path"``), for messages that name the override to
    fix, or to tell which split of a shared file to return."""
    if path is None:
        return None
    if not Path(path).is_file():
        raise DataError(path, None, f"file not found. Set {key}=/path/to/file (or fix data_root).")
    examples = reader(str(path), key=key)
    if not examples:
        raise DataError(path, None, f"no examples found (empty dataset). Check the file and {key}.")
    return examples


class DataModule(L.LightningDataModule):
    """Reads the splits once, then turns examples into features for a given encoder + head.

    Args:
        name: the registered dataset name (builds the reader, with ``reader`` as its options).
        reader: the reader's options, or a ready reader callable.
        train_path, dev_path, test_path: split files; ``test_path`` may be None.
        batch_size, eval_batch_size: rows per batch.
        num_workers: DataLoader workers.
        max_length: cap on tokens per row; defaults to the encoder's ``max_length``.
    """

    def __init__(
        self,
        name: str,
        train_path: str,
        dev_path: str,
        reader: Any = None,
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
        self.reader = reader if callable(reader) else registry.build_reader({"name": name, "reader": reader or {}})
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
    def prepare(self, model) -> None:
        """Tokenise every split and build the head's targets (``model.features``)."""
        for split in SPLITS:
            if self.examples[split] is not None:
                self.features[split] = model.features(self.examples[split])

    # ---- loaders ------------------------------------------------------------------------
    def _loader(self, split: str, train: bool) -> DataLoader:
        feats = self.features[split]
        size = self.batch_size if train else self.eval_batch_size
        # Loaders draw their worker seeds from a generator of their own, never from torch's global
        # random state: the model's dropout stream then does not depend on how often Lightning
        # creates loader iterators, which differs between a fresh and a resumed run.
        generator = torch.Generator().manual_seed(self.seed)
        distributed = self.trainer is not None and self.trainer.world_size > 1
        if distributed:  # Lightning adds its DistributedSampler
            return DataLoader(feats, batch_size=size, shuffle=train, collate_fn=collate, num_workers=self.num_workers,
                              generator=generator)
        lengths = [len(f["inputs"]["input_ids"]) for f in feats]
        epoch = self.trainer.current_epoch if train and self.trainer is not None else 0  # resumed: where it stopped
        sampler = BucketBatchSampler(lengths, size, shuffle=train, seed=self.seed, epoch=epoch)
        return DataLoader(feats, batch_sampler=sampler, collate_fn=collate, num_workers=self.num_workers,
                          generator=generator)

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
