"""The ``zhnlp`` command: train | eval | predict | plugins.

``train`` runs under Hydra (overrides, ``-m`` multirun, run folders); the others are plain
commands that need neither Hydra nor the network.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from pathlib import Path

from zhnlp.errors import ZhnlpError

SUBCOMMANDS = ("train", "eval", "predict", "plugins")
# Lightning's DDP launcher re-runs this program without the subcommand; remember it.
_SUBCOMMAND_ENV = "ZHNLP_SUBCOMMAND"


def fail(error: Exception) -> None:
    """Print a user error without a traceback and exit with status 2."""
    print(f"zhnlp: error: {error}", file=sys.stderr)
    sys.exit(2)


def run_train(overrides: list[str]) -> None:
    """Hand the overrides to Hydra and train."""
    import hydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import DictConfig

    from zhnlp.config import check_overrides, register_resolvers, to_plain
    from zhnlp.searchpath import register

    register()
    register_resolvers()
    if not any(o in ("-m", "--multirun", "--help", "-h", "--hydra-help", "--info") or o.startswith(("--cfg", "-c", "hydra."))
               for o in overrides):
        try:
            check_overrides(overrides)  # a typo: one line with the closest key, before Hydra's long report
        except ZhnlpError as error:
            fail(error)

    @hydra.main(version_base="1.3", config_path="pkg://zhnlp_conf", config_name="train")
    def _train(cfg: DictConfig) -> float | None:
        from zhnlp.builders import locate

        run_dir = Path(HydraConfig.get().runtime.output_dir)
        try:
            plain = to_plain(cfg)
            runner = locate(plain.get("runner") or "zhnlp.train.train")
            metrics = runner(plain, run_dir)
        except ZhnlpError as error:
            remove_unstarted(run_dir)
            fail(error)
        main = cfg.get("report_metric")
        return metrics.get(main) if main else None

    os.environ[_SUBCOMMAND_ENV] = "train"
    sys.argv = [sys.argv[0], *overrides]
    _train()


def remove_unstarted(run_dir: Path) -> None:
    """Delete the folder of a run that stopped before training wrote anything (no checkpoint, no
    metrics): it would hold only the composed config, and the error already says what to fix."""
    import shutil

    if not run_dir.is_dir() or any(run_dir.rglob("*.ckpt")) or (run_dir / "metrics.json").exists():
        return
    shutil.rmtree(run_dir, ignore_errors=True)
    parent = run_dir.parent
    if parent.name.startswith("multirun_") and not any(parent.iterdir()):
        parent.rmdir()


def run_plugins(argv: list[str]) -> None:
    """Print every registered plugin: group, name, distribution and version (from the installed
    metadata, without importing anything); ``--check`` imports each one and adds what it declares
    (a head's task and gold, a dataset's gold, descriptions) or IMPORT FAILED."""
    from zhnlp import registry

    parser = argparse.ArgumentParser(prog="zhnlp plugins", description="List the installed zhnlp plugins.")
    parser.add_argument("--check", action="store_true", help="import every plugin and show what it declares")
    args = parser.parse_args(argv)
    rows = []
    for kind in ("encoders", "heads", "datasets", "commands", "keyword_methods", "conf"):
        for name, plugin in sorted(registry.plugins(kind).items()):
            rows.append((plugin.group, name, f"{plugin.distribution} {plugin.version}",
                         declared(kind, name) if args.check else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    print(f"{'group'.ljust(widths[0])}  {'name'.ljust(widths[1])}  {'distribution'.ljust(widths[2])}"
          + ("  declares" if args.check else ""))
    for row in rows:
        print(f"{row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  {row[2].ljust(widths[2])}  {row[3]}".rstrip())
    if not args.check:
        print("(zhnlp plugins --check imports each plugin and shows what it declares)", file=sys.stderr)


def declared(kind: str, name: str) -> str:
    """What one plugin declares, for ``zhnlp plugins --check`` (IMPORT FAILED when it does not load)."""
    from zhnlp import registry
    from zhnlp.errors import PluginError

    if kind == "conf":
        return ""
    try:
        value = registry.get(kind, name)
    except PluginError as error:
        return f"IMPORT FAILED: {error}"
    if kind == "heads":
        return f"task {value.task}, learns from {value.label_kind}; {value.description}".rstrip("; ")
    if kind == "datasets":
        return f"gives {value.label_kind or 'any'} examples; {value.description}".rstrip("; ")
    return getattr(value, "description", "") or ""


def run_predict(argv: list[str]) -> None:
    """``zhnlp predict RUN --input FILE [--output FILE] [--format jsonl|cluener]``."""
    from zhnlp.predict import predict_file

    parser = argparse.ArgumentParser(prog="zhnlp predict", description="Predict with a trained run.")
    parser.add_argument("run", help="run folder or .ckpt file")
    parser.add_argument("--input", "-i", required=True, help="UTF-8 file: one text per line, or JSON lines with 'text'")
    parser.add_argument("--output", "-o", default="-", help="output file (default: stdout)")
    parser.add_argument("--format", default="jsonl", help="jsonl (default) or a format the head offers, e.g. cluener")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    predict_file(args.run, args.input, args.output, args.format, args.batch_size, args.device)


def run_eval(argv: list[str]) -> None:
    """``zhnlp eval RUN --data FILE``: score a trained run on a labelled file."""
    from zhnlp.predict import evaluate_file

    parser = argparse.ArgumentParser(prog="zhnlp eval", description="Evaluate a trained run on labelled data.")
    parser.add_argument("run", help="run folder or .ckpt file")
    parser.add_argument("--data", required=True, help="labelled file in the run's dataset format")
    parser.add_argument("--output", "-o", default=None, help="write metrics JSON here")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    evaluate_file(args.run, args.data, args.output, args.batch_size, args.device)


def quiet_warnings() -> None:
    """One short line per warning; drop Lightning's advice that does not apply to us."""
    for pattern in (".*does not have many workers.*", ".*isinstance.treespec, LeafSpec.*", ".*LeafSpec.*",
                    ".*Checkpoint directory .* exists and is not empty.*"):
        warnings.filterwarnings("ignore", message=pattern)

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"zhnlp: warning: {message}", file=sys.stderr)

    warnings.showwarning = show
    logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(drop_lightning_chatter)


LIGHTNING_CHATTER = ("` was configured so ", "to estimate number of stepping batches", "For seamless cloud logging",
                     "TPU available:", "Restoring states from the checkpoint", "Loaded model weights from the checkpoint")


def drop_lightning_chatter(record: logging.LogRecord) -> bool:
    """Logging filter: False for Lightning info lines that tell a zhnlp user nothing."""
    return not any(text in record.getMessage() for text in LIGHTNING_CHATTER)


COMMANDS = {"train": run_train, "plugins": run_plugins, "predict": run_predict, "eval": run_eval}


def plugin_commands() -> dict:
    """Subcommands added by plugins (entry point group ``zhnlp.commands``: name -> fn(argv))."""
    from zhnlp import registry

    return {name: p for name, p in registry.plugins("commands").items() if name not in COMMANDS}


# OpenMP workers that wait for work spin before they sleep; by default they spin so long that a
# few trainings side by side spend the cores spinning against each other (the default job: 21 s
# alone, 177 s beside two copies of itself on 2 cores). A short spin keeps the idle speed (whole
# process, median of 5: 1.04x) and bounds the busy case (2.8x). benchmarks/busy_machine.py measures
# it. Set before torch loads OpenMP; a value of the user's own (or OMP_WAIT_POLICY) wins.
SPIN = "4000"


def tune_threads() -> None:
    """Short OpenMP spin-waits unless the environment already chose a wait policy."""
    if "GOMP_SPINCOUNT" not in os.environ and "OMP_WAIT_POLICY" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = SPIN


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``zhnlp`` console script."""
    tune_threads()
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = plugin_commands()
    if argv and argv[0] in extra:
        from zhnlp.registry import get

        quiet_warnings()
        try:
            get("commands", argv[0])(argv[1:])
        except ZhnlpError as error:
            fail(error)
        return
    if argv and argv[0] in COMMANDS:
        command, rest = argv[0], argv[1:]
    elif os.environ.get(_SUBCOMMAND_ENV) == "train":
        command, rest = "train", argv
    else:
        print("usage: zhnlp {train,eval,predict,plugins} ...\n"
              "  zhnlp train [key=value ...] [-m]   train (Hydra overrides; --help shows the config)\n"
              "  zhnlp eval RUN --data FILE          evaluate a trained run on labelled data\n"
              "  zhnlp predict RUN --input FILE      predict with a trained run\n"
              "  zhnlp plugins                       list installed encoders, heads and datasets"
              + "".join(f"\n  zhnlp {name} ...  (from {p.distribution})" for name, p in sorted(extra.items())),
              file=sys.stderr)
        sys.exit(0 if argv and argv[0] in ("-h", "--help") else 2)
    quiet_warnings()
    try:
        COMMANDS[command](rest)
    except ZhnlpError as error:
        fail(error)
