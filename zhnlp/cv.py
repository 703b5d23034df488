"""``zhnlp cv``: k-fold cross-validation, out-of-fold predictions and a fold ensemble.

    zhnlp cv [train overrides ...] cv.folds=5 [cv.use_dev=true] [cv.dir=runs/my_cv]

Steps: compose the same config ``zhnlp train`` would (same overrides); read the training split
(plus the dev split with ``cv.use_dev=true``, the default) with the dataset's reader; split the
examples into ``k`` folds, deterministically (``cv.seed``, default the config's ``seed``) and
stratified by label (each example counts under its rarest label: the class for classification,
the rarest entity type for NER); write each fold's train / dev examples as JSON lines and train
fold ``i`` with ``zhnlp.train.train`` into ``<dir>/fold<i>`` (its config reads those files with the
``jsonl`` dataset: :data:`jsonl`). Then predict every example with the model that did not train on it.

The cv folder holds:
    fold<i>/             a normal run folder (checkpoints, metrics.json, fold data under data/)
    oof.jsonl            one line per example: its fields, ``fold`` and ``prediction``
    metrics.json         ``oof/<m>``: the head's metrics on all out-of-fold predictions;
                         ``cv/<m>``: mean of the folds' ``val/<m>`` (``cv_std/<m>``: their std);
                         ``cv/fold<i>/<m>``; ``test/<m>``: the fold ensemble on the test split
    predictor.json       ``zhnlp.load(<dir>)`` -> the ensemble of the fold models
    cv.json              options and fold sizes; config.yaml: the composed config

Options (``cv.<key>=value``): ``folds`` (5), ``use_dev`` (true), ``seed``, ``stratify`` (true),
``dir`` (default ``runs/cv_<date>_<time>_<data>_<encoder>_<head>``; ``hydra.run.dir=`` works too),
``fold_test`` (false: folds skip the test split), ``ensemble_test`` (true: score the fold ensemble
on the test split).
"""
from __future__ import annotations

import copy
import json
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable

from zhnlp import registry
from zhnlp.config import compose_with_choices
from zhnlp.errors import ConfigError, DataError
from zhnlp.outputs import metrics_table, public_example, write_metrics
from zhnlp.textio import read_jsonl
from zhnlp.types import DatasetSpec

OPTIONS = {"folds": 5, "use_dev": True, "seed": None, "stratify": True, "dir": None, "fold_test": False,
           "ensemble_test": True}


# ---- fold files -----------------------------------------------------------------------------------
def build_jsonl_reader() -> Callable[..., list[dict]]:
    """Reader of example dicts stored verbatim as JSON lines (the fold files of ``zhnlp cv``).

    Returns:
        ``reader(path, key=None) -> list[example]``; each example gets ``_file`` / ``_line`` of
        the JSONL file (the original place is kept in ``_source``).
    """

    def read(path: str, key: str | None = None) -> list[dict]:
        examples = []
        for number, example in read_jsonl(path, key):
            if not isinstance(example.get("text"), str):
                raise DataError(path, number, "expected a JSON object with a string 'text'.")
            examples.append({**example, "_file": str(path), "_line": number})
        return examples

    return read


jsonl = DatasetSpec(build=build_jsonl_reader, label_kind=None,
                    description="examples stored as JSON lines, any gold (zhnlp cv fold files)")


def write_jsonl(path: Path, examples: list[dict]) -> Path:
    """Examples as JSON lines; ``_file``/``_line`` become ``_source`` (``"file:line"``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for ex in examples:
            record = {k: v for k, v in ex.items() if k not in ("_file", "_line")}
            if "_file" in ex:
                record["_source"] = f"{ex['_file']}:{ex.get('_line')}"
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


# ---- splitting ------------------------------------------------------------------------------------
def assign_folds(examples: list[dict], k: int, seed: int, collect: Callable[[list[dict]], list[str]] | None = None) -> list[int]:
    """Fold number of each example: deterministic, sizes within one of each other.

    With ``collect`` (the head's ``collect_labels``), each example is keyed by its rarest label
    (none: its own key) and every key's examples are dealt round-robin over the folds, so each
    label's examples spread as evenly as possible.

    Args:
        examples: the examples to split.
        k: number of folds (2 <= k <= len(examples)).
        seed: shuffling seed.
        collect: labels of a list of examples, or None for a plain shuffled split.

    Returns:
        One fold index in ``range(k)`` per example.
    """
    if not 2 <= k <= len(examples):
        raise ConfigError(f"cv.folds={k}: need 2 <= folds <= number of examples ({len(examples)}).")
    keys = [""] * len(examples)
    if collect is not None:
        per_example = [collect([ex]) for ex in examples]
        counts = Counter(label for labels in per_example for label in set(labels))
        keys = [min(labels, key=lambda lab: (counts[lab], lab)) if labels else "" for labels in per_example]
    groups: dict[str, list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        groups[key].append(index)
    rng = random.Random(seed)
    folds, position = [0] * len(examples), 0
    for key in sorted(groups):
        members = groups[key]
        rng.shuffle(members)
        for index in members:
            folds[index] = position % k
            position += 1
    return folds


def check_folds(examples: list[dict], folds: list[int], k: int, collect: Callable) -> None:
    """Every label of a fold's dev part must occur in its training part."""
    labels = [set(collect([ex])) for ex in examples]
    for fold in range(k):
        train = set().union(*(lab for lab, f in zip(labels, folds) if f != fold))
        dev = set().union(*(lab for lab, f in zip(labels, folds) if f == fold))
        missing = sorted(dev - train)
        if missing:
            counts = Counter(lab for s in labels for lab in s)
            shown = ", ".join(f"{m} ({counts[m]} example{'s' if counts[m] > 1 else ''})" for m in missing)
            raise ConfigError(f"label(s) {shown} occur only in fold {fold}, so its training part never sees them. "
                              f"Give each label at least 2 examples or use fewer folds (cv.folds).")


# ---- the command ------------------------------------------------------------------------------------
def parse_args(argv: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Split ``cv.key=value`` options (and ``hydra.run.dir=``) from the train overrides."""
    import yaml

    options, overrides = dict(OPTIONS), []
    for arg in argv:
        if arg in ("-m", "--multirun"):
            raise ConfigError("zhnlp cv runs one configuration; sweeps (-m) are not supported.")
        key, eq, value = arg.partition("=")
        if key.startswith("cv.") and eq:
            name = key[3:]
            if name not in OPTIONS:
                raise ConfigError(f"unknown option {key}. Options: {', '.join('cv.' + o for o in OPTIONS)}.")
            options[name] = yaml.safe_load(value) if value else None
        elif key == "hydra.run.dir" and eq:
            options["dir"] = value
        else:
            overrides.append(arg)
    return options, overrides


def default_dir(cfg: dict, choices: dict) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"cv_{stamp}_{cfg['data'].get('name', 'data')}_{choices.get('encoder')}_{choices.get('head')}"


def fold_config(cfg: dict, train_path: Path, dev_path: Path, keep_test: bool) -> dict:
    """The run config of one fold: the fold files through the JSONL reader."""
    out = copy.deepcopy(cfg)
    data = out["data"]
    data["name"], data["reader"] = "jsonl", {}
    data["train_path"], data["dev_path"] = str(train_path), str(dev_path)
    if not keep_test:
        data["test_path"] = None
    out["ckpt_path"] = None
    return out


def summarize(fold_metrics: list[dict[str, float]]) -> dict[str, float]:
    """``cv/<m>`` means, ``cv_std/<m>`` and ``cv/fold<i>/<m>`` from each fold's ``val/<m>``."""
    out: dict[str, float] = {}
    names = sorted({k[4:] for m in fold_metrics for k in m if k.startswith("val/")})
    for name in names:
        values = [m[f"val/{name}"] for m in fold_metrics if f"val/{name}" in m]
        out[f"cv/{name}"] = statistics.fmean(values)
        out[f"cv_std/{name}"] = statistics.pstdev(values)
        for i, m in enumerate(fold_metrics):
            if f"val/{name}" in m:
                out[f"cv/fold{i}/{name}"] = m[f"val/{name}"]
    return out


def cross_validate(cfg: dict, run_dir: Path, folds: int = 5, use_dev: bool = True, seed: int | None = None,
                   stratify: bool = True, fold_test: bool = False, ensemble_test: bool = True,
                   runner: Callable | None = None) -> dict[str, float]:
    """Run k-fold cross-validation for ``cfg`` into ``run_dir`` (see the module docstring).

    Args:
        cfg: resolved train config (plain dict).
        run_dir: the cv folder.
        folds: k.
        use_dev: split train + dev (True) or train only.
        seed: fold shuffling seed (None: ``cfg['seed']``).
        stratify: balance labels over the folds.
        fold_test: let every fold also evaluate the test split.
        ensemble_test: score the fold ensemble on the test split (when there is one).
        runner: ``(cfg, run_dir) -> metrics``; default ``zhnlp.train.train``.

    Returns:
        The metrics written to ``metrics.json``.
    """
    from zhnlp.ensemble import Ensemble
    from zhnlp.predict import load_model

    if runner is None:
        if cfg.get("runner") not in (None, "zhnlp.train.train"):
            raise ConfigError(f"zhnlp cv trains with zhnlp.train.train; this config names runner={cfg['runner']}.")
        from zhnlp.train import train as runner
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    data = cfg["data"]
    registry.check_combination(cfg)
    reader = registry.build_reader(data)
    examples = list(reader(str(data["train_path"]), key="data.train_path"))
    if use_dev and data.get("dev_path"):
        examples += reader(str(data["dev_path"]), key="data.dev_path")
    collect = registry.head_spec(cfg["head"]).collect_labels
    seed = cfg.get("seed", 0) if seed is None else seed
    assignment = assign_folds(examples, int(folds), int(seed), collect if stratify else None)
    check_folds(examples, assignment, int(folds), collect)
    (run_dir / "cv.json").write_text(json.dumps({
        "folds": int(folds), "use_dev": use_dev, "seed": seed, "stratify": stratify, "examples": len(examples),
        "fold_sizes": [assignment.count(f) for f in range(int(folds))]}, indent=2) + "\n", encoding="utf-8")
    _write_yaml(run_dir / "config.yaml", cfg)

    fold_metrics, members, oof = [], [], [None] * len(examples)
    for fold in range(int(folds)):
        fold_dir = run_dir / f"fold{fold}"
        dev_index = [i for i, f in enumerate(assignment) if f == fold]
        train_path = write_jsonl(fold_dir / "data" / "train.jsonl", [ex for ex, f in zip(examples, assignment) if f != fold])
        dev_path = write_jsonl(fold_dir / "data" / "dev.jsonl", [examples[i] for i in dev_index])
        print(f"\n=== zhnlp cv: fold {fold + 1}/{folds} ({len(examples) - len(dev_index)} train, "
              f"{len(dev_index)} dev) -> {fold_dir}", flush=True)
        fold_metrics.append(runner(fold_config(cfg, train_path, dev_path, fold_test), fold_dir))
        predictor = load_model(fold_dir)
        predictions = predictor.predict_examples([{**examples[i], "_gold": False} for i in dev_index])
        for i, pred in zip(dev_index, predictions):
            oof[i] = pred
        members.append(predictor)

    head = members[0].head
    metrics = {f"oof/{k}": float(v) for k, v in head.evaluate(oof, examples).items()}
    metrics.update(summarize(fold_metrics))
    with (run_dir / "oof.jsonl").open("w", encoding="utf-8") as out:
        for ex, fold, pred in zip(examples, assignment, oof):
            out.write(json.dumps({**public_example(ex), "fold": fold, "prediction": pred}, ensure_ascii=False) + "\n")
    source = {"name": data["name"], "reader": data.get("reader") or {}}
    spec = {"_target_": "zhnlp.ensemble.load_ensemble", "runs": [f"fold{f}" for f in range(int(folds))],
            "reader": source}
    (run_dir / "predictor.json").write_text(json.dumps(spec, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if ensemble_test and data.get("test_path"):
        test = reader(str(data["test_path"]), key="data.test_path")
        scores, _ = Ensemble(members, reader=source).evaluate(test)
        metrics.update({f"test/{k}": float(v) for k, v in scores.items()})
    write_metrics(run_dir, metrics)
    shown = {k: v for k, v in metrics.items() if k.count("/") == 1 and not k.startswith("cv_std/")}
    print(f"\nCross-validation ({folds} folds):\n" + metrics_table(shown))
    print(f"\nCV folder: {run_dir}\n  metrics: {run_dir / 'metrics.json'}\n  out-of-fold: {run_dir / 'oof.jsonl'}"
          f"\n  ensemble: zhnlp.load('{run_dir}')")
    return metrics


def _write_yaml(path: Path, cfg: dict) -> None:
    from omegaconf import OmegaConf

    path.write_text(OmegaConf.to_yaml(OmegaConf.create(cfg)), encoding="utf-8")


def main(argv: list[str]) -> None:
    """``zhnlp cv [overrides ...] cv.folds=K``."""
    if any(a in ("-h", "--help") for a in argv):
        print(f"usage: zhnlp cv [key=value ...] cv.folds=K\n\n{__doc__}")
        return
    options, overrides = parse_args(argv)
    cfg, choices = compose_with_choices(overrides)
    run_dir = Path(options["dir"]) if options["dir"] else default_dir(cfg, choices)
    for key in ("use_dev", "stratify", "fold_test", "ensemble_test"):
        if not isinstance(options[key], bool):
            raise ConfigError(f"cv.{key}={options[key]!r}: use true or false.")
    if not isinstance(options["folds"], int) or isinstance(options["folds"], bool):
        raise ConfigError(f"cv.folds={options['folds']!r}: give an integer >= 2.")
    cross_validate(cfg, run_dir, folds=options["folds"], use_dev=options["use_dev"], seed=options["seed"],
                   stratify=options["stratify"], fold_test=options["fold_test"],
                   ensemble_test=options["ensemble_test"])


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
