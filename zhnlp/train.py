"""``zhnlp train``: a flat list of steps — data, encoder, head, module, trainer; fit; test; write."""
from __future__ import annotations

import importlib.util
import inspect
import time
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from zhnlp import registry
from zhnlp.builders import build
from zhnlp.data import DataModule
from zhnlp.errors import ConfigError
from zhnlp.model import TaskModel
from zhnlp.module import TaskModule
from zhnlp.outputs import metrics_table, write_metrics, write_predictions
from zhnlp.plots import plot_curves
from zhnlp.types import has


class SaveOnCrash(Callback):
    """On any exception during fit, save what was learnt so far as ``checkpoints/crash.ckpt``."""

    def __init__(self, directory: Path):
        self.directory = directory

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        if trainer.state.fn == "fit" and trainer.global_step > 0:
            trainer.save_checkpoint(self.directory / "crash.ckpt")
            print(f"\nTraining stopped by {type(exception).__name__}; saved {self.directory / 'crash.ckpt'}")


def resolve_ckpt(path: str | None) -> str | None:
    """``ckpt_path=RUN_DIR`` means that run's ``checkpoints/last.ckpt``."""
    if not path:
        return None
    p = Path(path)
    if p.is_dir():
        p = p / "checkpoints" / "last.ckpt"
    if not p.is_file():
        raise ConfigError(f"ckpt_path={path}: no checkpoint there. Pass a .ckpt file or a run folder with checkpoints/last.ckpt.")
    return str(p)


def build_trainer(cfg: dict, run_dir: Path, main_metric: str) -> tuple[L.Trainer, ModelCheckpoint | None]:
    """The Lightning Trainer from ``cfg['trainer']`` plus checkpointing, early stopping, loggers."""
    monitor = f"val/{main_metric}"
    checkpoint = ModelCheckpoint(
        dirpath=run_dir / "checkpoints", filename="best", monitor=monitor, mode="max",
        save_last=True, save_top_k=1, auto_insert_metric_name=False,
    )
    callbacks: list[Callback] = [checkpoint, SaveOnCrash(run_dir / "checkpoints")]
    stopping = cfg.get("early_stopping") or {}
    if stopping.get("patience"):
        # checked after each validation only; strict=False: a run that max_steps/max_time ends before
        # its first validation finishes normally instead of failing on the missing metric
        callbacks.append(EarlyStopping(monitor=monitor, mode="max", patience=int(stopping["patience"]),
                                       min_delta=float(stopping.get("min_delta", 0.0)),
                                       check_on_train_epoch_end=False, strict=False))
    callbacks += [build(spec) for spec in (cfg.get("callbacks") or {}).values() if spec]
    loggers = [CSVLogger(run_dir, name="logs", version="")]
    if importlib.util.find_spec("tensorboard"):
        from lightning.pytorch.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(run_dir, name="tensorboard", version=""))
    unknown = sorted(set(cfg["trainer"]) - set(inspect.signature(L.Trainer).parameters))
    if unknown:
        raise ConfigError(f"trainer.{unknown[0]} is not a Lightning Trainer argument "
                          f"(see https://lightning.ai/docs/pytorch/stable/common/trainer.html).")
    options = dict(cfg["trainer"])
    # a fresh train loader each epoch, built after a resumed run's state is restored: its batch
    # order then depends on the epoch only (see BucketBatchSampler), as in an uninterrupted run
    options.setdefault("reload_dataloaders_every_n_epochs", 1)
    trainer = L.Trainer(**options, callbacks=callbacks, logger=loggers, default_root_dir=run_dir)
    return trainer, checkpoint


def train(cfg: dict, run_dir: Path) -> dict[str, float]:
    """Train, evaluate and write a run folder. ``cfg`` is the resolved config as a plain dict.

    Returns:
        The flat metrics written to ``metrics.json``.
    """
    started = time.time()
    if cfg.get("torch_threads"):
        torch.set_num_threads(int(cfg["torch_threads"]))
    registry.check_combination(cfg)
    L.seed_everything(cfg["seed"], workers=True, verbose=False)
    data = DataModule(**cfg["data"], seed=cfg["seed"])
    collect = registry.head_spec(cfg["head"]).collect_labels
    labels = collect(data.examples["train"])
    data.check_labels(labels, collect)
    model = TaskModel.build(cfg["encoder"], cfg["head"], labels, data.examples["train"],
                            members=int(cfg.get("members") or 1), max_length=cfg["data"].get("max_length"),
                            data=cfg["data"], assets_dir=run_dir / "model")
    data.prepare(model)
    module = TaskModule(model, cfg)
    head = model.head

    trainer, checkpoint = build_trainer(cfg, run_dir, head.main_metric)
    trainer.fit(module, datamodule=data, ckpt_path=resolve_ckpt(cfg.get("ckpt_path")))
    best = checkpoint.best_model_path or None
    metrics: dict[str, float] = {}
    trainer.validate(module, datamodule=data, ckpt_path=best, verbose=False)
    metrics.update(module.last_eval["metrics"])
    final = module.last_eval
    if data.examples["test"] is not None:
        trainer.test(module, datamodule=data, ckpt_path=best, verbose=False)
        metrics.update(module.last_eval["metrics"])
        final = module.last_eval
    if has(head, "data_counts"):  # e.g. gold entities the tokenizer's pieces cut
        metrics.update({f"data/{k}": float(v) for k, v in head.data_counts().items()})
    metrics["train/epochs"] = float(trainer.current_epoch)
    metrics["train/seconds"] = round(time.time() - started, 1)
    if trainer.is_global_zero:
        model.save_pretrained(run_dir / "model")  # the weights just evaluated: best checkpoint, EMA applied
        write_outputs(run_dir, metrics, final, head)
    return metrics


def write_outputs(run_dir: Path, metrics: dict[str, float], final: dict, head) -> None:
    """metrics.json, predictions on the last evaluated split, and a printed summary."""
    write_metrics(run_dir, metrics)
    split = "test" if final["stage"] == "test" else "dev"
    pred_path = write_predictions(run_dir / "predictions" / f"{split}.jsonl", final["examples"], final["predictions"])
    extra = head.artifacts(final["predictions"], final["examples"], run_dir) if has(head, "artifacts") else []
    curves = plot_curves(run_dir / "logs" / "metrics.csv", run_dir / "curves.png", head.main_metric)
    extra = [*extra, *([curves] if curves else [])]
    print("\nMetrics:\n" + metrics_table({k: v for k, v in metrics.items() if "/" in k and k.count("/") == 1}))
    if has(head, "report"):
        unprefixed = {k.split("/", 1)[1]: v for k, v in final["metrics"].items()}
        print(f"\n{split} set:\n" + head.report(unprefixed))
    print(f"\nRun folder: {run_dir}\n  metrics:     {run_dir / 'metrics.json'}\n  predictions: {pred_path}"
          f"\n  model:       {run_dir / 'model'}  (zhnlp.load)\n  checkpoints: {run_dir / 'checkpoints'}" + "".join(f"\n  also:        {path}" for path in extra))
