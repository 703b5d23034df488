"""TaskModule: the one generic LightningModule; it trains and evaluates a :class:`~zhnlp.model.TaskModel`."""
from __future__ import annotations

from typing import Any

import lightning as L
import torch
import torch.distributed as dist
from torch.optim.lr_scheduler import LambdaLR

from zhnlp.data.features import merge_windows
from zhnlp.model import TaskModel
from zhnlp.optim import build_optimizer, schedule_factor


def rng_states() -> dict:
    """The Python, NumPy and torch random states (saved in every checkpoint)."""
    import random

    import numpy as np

    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    states = {"python": random.getstate(), "numpy": [kind, keys.tolist(), int(pos), int(has_gauss), float(gauss)],
              "torch": torch.get_rng_state()}  # plain lists and tensors: loadable with weights_only=True
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    """Restore what :func:`rng_states` returned."""
    import random

    import numpy as np

    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


class TaskModule(L.LightningModule):
    """Loss, predictions and the head's metrics of ``model``; the optimizer from ``cfg["optim"]``.

    Args:
        model: the TaskModel to train (its weights are this module's ``model.*``).
        cfg: the resolved run config (plain dict); stored in the checkpoint with ``model.config``.
    """

    def __init__(self, model: TaskModel, cfg: dict):
        super().__init__()
        self.model = model
        self.save_hyperparameters({"cfg": cfg, "model": model.config})
        self._stash: list[tuple[int, dict, Any]] = []
        self.last_eval: dict[str, Any] = {}

    # ---- resume: what decides the rest of the run travels in the checkpoint --------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["zhnlp_rng"] = rng_states()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self._resume_rng = checkpoint.get("zhnlp_rng")

    def on_train_start(self) -> None:
        if getattr(self, "_resume_rng", None):
            set_rng_states(self._resume_rng)  # resumed: continue the random streams where they were
            self._resume_rng = None

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        loss = self.model(batch).loss
        self.log("train/loss", loss, prog_bar=True, batch_size=len(batch["examples"]))
        return loss

    # ---- evaluation -------------------------------------------------------------------
    def _eval_step(self, batch: dict, stage: str) -> None:
        if stage == "val":
            loss = self.model(batch).loss
            if loss is not None:
                self.log("val/loss", loss, batch_size=len(batch["examples"]), sync_dist=True)
        preds = self.model.predict_batch(batch)
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
        head = self.model.head
        examples, preds = merge_windows(head, self.trainer.datamodule.eval_examples(stage), stash)
        metrics = {f"{stage}/{k}": float(v) for k, v in head.evaluate(preds, examples).items()}
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
        optimizer = build_optimizer(optim_cfg, self.model)
        total = int(self.trainer.estimated_stepping_batches)
        warmup = int(float(optim_cfg.get("warmup", 0.0)) * total)
        kind = optim_cfg.get("scheduler", "constant")
        scheduler = LambdaLR(optimizer, lambda step: schedule_factor(step, total, warmup, kind))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
