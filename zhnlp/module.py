"""TaskModule: the one generic LightningModule (encoder -> head), for every task."""
from __future__ import annotations

from typing import Any

import lightning as L
import torch
import torch.distributed as dist
from torch.optim.lr_scheduler import LambdaLR

from zhnlp.optim import build_optimizer, schedule_factor
from zhnlp.types import last_hidden


def merge_windows(head, examples: list[dict], stash: list[tuple[int, dict, Any]]) -> tuple[list[dict], list]:
    """Group window predictions by example and merge them (``head.merge``).

    Args:
        head: the task head.
        examples: all examples of the split, indexable by example index.
        stash: (example_index, window_example, prediction) triples, in any order, maybe duplicated.

    Returns:
        (examples, predictions) for every example that has predictions, in index order.
    """
    parts: dict[int, dict[int, tuple[dict, Any]]] = {}
    for index, window, pred in stash:
        start = window.get("_window", (0, 0))[0]
        parts.setdefault(index, {})[start] = (window, pred)
    out_examples, out_preds = [], []
    for index in sorted(parts):
        windows = [parts[index][s] for s in sorted(parts[index])]
        example = examples[index]
        if len(windows) == 1 and "_window" not in windows[0][0]:
            pred = windows[0][1]
        else:
            pred = head.merge(example, windows)
        out_examples.append(example)
        out_preds.append(pred)
    return out_examples, out_preds


class TaskModule(L.LightningModule):
    """Runs ``encoder`` then ``head``; computes loss, predictions and the head's metrics.

    Args:
        encoder: an Encoder (see ``zhnlp.types``).
        head: a Head built for ``labels``.
        cfg: the resolved run config (plain dict); stored in the checkpoint to rebuild the model.
        labels: the label set the head was built with.
        encoder_assets: builder kwargs that rebuild the encoder from files saved in the run.
    """

    def __init__(self, encoder, head, cfg: dict, labels: list[str], encoder_assets: dict | None = None):
        super().__init__()
        self.encoder, self.head = encoder, head
        self.save_hyperparameters({"cfg": cfg, "labels": labels, "encoder_assets": encoder_assets or {}})
        self._stash: list[tuple[int, dict, Any]] = []
        self.last_eval: dict[str, Any] = {}

    def hidden(self, batch: dict) -> torch.Tensor:
        inputs = {key: batch[key] for key in batch["encoder_keys"]}
        return last_hidden(self.encoder(**inputs))  # (B, T, H)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        loss = self.head(self.hidden(batch), batch)["loss"]
        self.log("train/loss", loss, prog_bar=True, batch_size=len(batch["examples"]))
        return loss

    # ---- evaluation -------------------------------------------------------------------
    def _eval_step(self, batch: dict, stage: str) -> None:
        hidden = self.hidden(batch)
        if stage == "val":
            loss = self.head(hidden, batch)["loss"]
            self.log("val/loss", loss, batch_size=len(batch["examples"]), sync_dist=True)
        preds = self.head.predict(hidden, batch)
        for index, example, pred in zip(batch["index"].tolist(), batch["examples"], preds):
            self._stash.append((index, example, pred))

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def test_step(self, batch: dict, batch_idx: int) -> None:
        self._eval_step(batch, "test")

    def on_validation_epoch_start(self) -> None:
        self._stash = []

    on_test_epoch_start = on_validation_epoch_start

    def _eval_end(self, stage: str) -> None:
        stash = self._stash
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            gathered: list = [None] * dist.get_world_size()
            dist.all_gather_object(gathered, stash)
            stash = [item for part in gathered for item in part]
        examples, preds = merge_windows(self.head, self.trainer.datamodule.eval_examples(stage), stash)
        metrics = {f"{stage}/{k}": float(v) for k, v in self.head.evaluate(preds, examples).items()}
        self.log_dict(metrics, sync_dist=False)
        self.last_eval = {"stage": stage, "metrics": metrics, "examples": examples, "predictions": preds}
        self._stash = []

    def on_validation_epoch_end(self) -> None:
        self._eval_end("val")

    def on_test_epoch_end(self) -> None:
        self._eval_end("test")

    # ---- optimisation -----------------------------------------------------------------
    def configure_optimizers(self):
        optim_cfg = self.hparams["cfg"]["optim"]
        optimizer = build_optimizer(optim_cfg, self.encoder, self.head)
        total = int(self.trainer.estimated_stepping_batches)
        warmup = int(float(optim_cfg.get("warmup", 0.0)) * total)
        kind = optim_cfg.get("scheduler", "constant")
        scheduler = LambdaLR(optimizer, lambda step: schedule_factor(step, total, warmup, kind))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
