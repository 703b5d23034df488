"""The KBQA runner (``runner: zhnlp_kbqa.pipeline.train_kbqa``) and loader (``load_kbqa``).

``train_kbqa(cfg, run_dir)`` trains the whole pipeline in one command and leaves::

    run_dir/kb.sqlite                 the KB (unless data.kb_path names a ready .sqlite file)
    run_dir/mention/                  NER run: topic-entity mention tagger (zhnlp.train.train;
                                      its model in mention/model/)
    run_dir/relation/data/*.jsonl     derived sentence pairs (masked question, predicate, 0/1)
    run_dir/relation/                 classification run: relation matcher (relation/model/)
    run_dir/predictions/{dev,test}.jsonl, run_dir/metrics.json, run_dir/predictor.json

Config keys it reads (see ``conf/experiment/nlpcc_kbqa_scratch.yaml``):
    data.{train,dev,test}_path   NLPCC question files (test optional)
    data.reader                  the NLPCC reader's options (mention_type, min_partial)
    data.kb_path                 triple file(s) (a path or a list) to build the KB from, or one
                                 ready ``.sqlite`` KB; null: the gold triples of the question files
    data.kb_add_gold             also add the gold triples of the question files to the KB
    data.batch_size / eval_batch_size / max_length
    kbqa.mention / kbqa.relation {encoder, head, optim, trainer, early_stopping, batch_size, members}:
                                 the two sub-runs; ``encoder`` / ``head`` name registered components
                                 (``name:``); optim / trainer / early_stopping are merged over the
                                 top-level ones (so trainer.max_epochs=1 limits both); members: K
                                 trains an in-run ensemble of K models for that part (default 1)
    kbqa.negatives {kb, similar, random}, kbqa.link {...}, kbqa.answer {threshold, ...}, kbqa.mask
"""
from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from zhnlp.errors import ConfigError, ZhnlpError
from zhnlp.outputs import metrics_table, write_metrics, write_predictions
from zhnlp_kbqa.linking import EntityLinker
from zhnlp_kbqa.qa import KBQA, LINK_KEYS
from zhnlp_kbqa.readers import read_nlpcc
from zhnlp_kbqa.relation_data import MASK, RELATION_DATA, PredicateInventory, relation_examples, write_jsonl
from zhnlp_kbqa.sqlite_kb import SQLiteKB, build_sqlite_kb

SPLITS = {"train": "train_path", "dev": "dev_path", "test": "test_path"}
LOADER = "zhnlp_kbqa.pipeline.load_kbqa"
MENTION_DATASET = "nlpcc2016_kbqa"  # the registered dataset of the mention tagger's data config
READER_OPTIONS = ("mention_type", "min_partial")  # data.reader options the QA evaluation honours too


def deep_merge(base: dict, over: dict | None) -> dict:
    """``over`` merged into a copy of ``base`` (nested dicts merged, other values replaced)."""
    out = dict(base)
    for k, v in (over or {}).items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def sub_config(cfg: dict, part: str, data: dict) -> dict:
    """The plain config of one sub-run (``part`` = mention | relation) for ``zhnlp.train.train``."""
    spec = (cfg.get("kbqa") or {}).get(part) or {}
    for needed in ("encoder", "head"):
        if not isinstance(spec.get(needed), dict) or not isinstance(spec[needed].get("name"), str):
            raise ConfigError(f"kbqa.{part}.{needed} must be a full config that names a registered {needed} with "
                              f"`name:` (e.g. put '- /{needed}@kbqa.{part}.{needed}: NAME' in the experiment's "
                              f"defaults; `zhnlp plugins` lists the names).")
    return {
        "seed": cfg.get("seed", 42), "data": data, "encoder": spec["encoder"], "head": spec["head"],
        "members": int(spec.get("members") or 1), "torch_threads": cfg.get("torch_threads"),
        "optim": deep_merge(cfg.get("optim") or {}, spec.get("optim")),
        "trainer": deep_merge(cfg.get("trainer") or {}, spec.get("trainer")),
        "early_stopping": deep_merge(cfg.get("early_stopping") or {}, spec.get("early_stopping")),
        "callbacks": cfg.get("callbacks") or {}, "ckpt_path": None,
    }


def _kb_sources(value: Any) -> list[str]:
    if value in (None, "", []):
        return []
    return [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]


def prepare_kb(data: dict, splits: dict[str, list[dict]], run_dir: Path) -> tuple[Path, bool]:
    """The KB file to use and whether it lives in the run folder (built there) or is referenced."""
    sources = _kb_sources(data.get("kb_path"))
    if len(sources) == 1 and sources[0].endswith((".sqlite", ".db")):
        if data.get("kb_add_gold"):
            raise ConfigError("data.kb_add_gold=true needs triple files in data.kb_path, not a ready .sqlite KB.")
        path = Path(sources[0]).resolve()
        SQLiteKB(path).close()  # fail early on a missing or foreign file
        return path, False
    for s in sources:
        if not Path(s).is_file():
            raise ConfigError(f"data.kb_path: {s} not found. Point it at triple file(s), a .sqlite KB, or null "
                              f"(KB from the gold triples of the question files).")
    if not sources or data.get("kb_add_gold"):
        gold = run_dir / "kb_gold_triples.txt"
        with gold.open("w", encoding="utf-8") as out:
            for examples in splits.values():
                for ex in examples or []:
                    if ex.get("subject"):
                        out.write(f"{ex['subject']} ||| {ex['predicate']} ||| {ex['answer']}\n")
        sources.append(str(gold))
    report = build_sqlite_kb(sources, run_dir / "kb.sqlite", overwrite=True, progress=False)
    print(report.summary())
    return run_dir / "kb.sqlite", True


def _mention_stats(name: str, stats: Counter) -> str:
    total = sum(stats.values())
    parts = ", ".join(f"{k} {stats[k]}" for k in ("exact", "normalized", "alias", "partial", "none", "unusable",
                                                         "unlabelled")
                      if stats[k])
    return f"  {name}: {total} questions; mention derived by {parts}"


def train_kbqa(cfg: dict, run_dir: Path) -> dict[str, float]:
    """Build the KB, train the mention tagger and the relation matcher, evaluate end to end.

    Args:
        cfg: the resolved config (plain dict); see the module docstring for the keys.
        run_dir: the run folder.

    Returns:
        flat metrics (also in ``run_dir/metrics.json``): ``val/mention_acc``, ``val/entity_acc``,
        ``val/predicate_acc``, ``val/answer_acc``, ``val/answer_f1``, ... and ``test/...``.
    """
    from zhnlp.train import train

    started = time.time()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    data, kbqa = cfg["data"], cfg.get("kbqa") or {}
    options = {k: v for k, v in (data.get("reader") or {}).items() if k in READER_OPTIONS}
    for key in ("train_path", "dev_path"):
        if not data.get(key):
            raise ConfigError(f"data.{key} is not set. Pass data.{key}=/path/to/nlpcc-file.")
    splits: dict[str, list[dict] | None] = {}
    counts: dict[str, float] = {}
    print("Reading questions:")
    for split, key in SPLITS.items():
        path = data.get(key)
        if path is None:
            splits[split] = None
            continue
        if not Path(path).is_file():
            raise ConfigError(f"data.{key}={path}: file not found.")
        stats: Counter = Counter()
        splits[split] = read_nlpcc(path, stats=stats, key=f"data.{key}", **options)
        if not splits[split]:
            raise ConfigError(f"data.{key}={path}: no questions found.")
        print(_mention_stats(split, stats))
        counts[f"data/{split}_questions"] = float(sum(stats.values()))
        counts[f"data/{split}_no_mention"] = float(stats["none"])

    kb_file, in_run = prepare_kb(data, splits, run_dir)
    kb = SQLiteKB(kb_file)
    link = {k: v for k, v in (kbqa.get("link") or {}).items() if k in LINK_KEYS}
    linker = EntityLinker(kb, **link)
    mask = kbqa.get("mask", MASK)

    # 1. mention tagger: NER on the questions, the derived mention as the one entity type
    part = kbqa.get("mention") or {}
    mention_data = {
        "name": MENTION_DATASET, "reader": {**options, "skip_unmatched": True},
        "train_path": str(Path(data["train_path"]).resolve()), "dev_path": str(Path(data["dev_path"]).resolve()),
        "test_path": str(Path(data["test_path"]).resolve()) if data.get("test_path") else None,
        "batch_size": part.get("batch_size", data.get("batch_size", 32)),
        "eval_batch_size": data.get("eval_batch_size", 64), "max_length": data.get("max_length"),
    }
    print("\n== 1/3 mention tagger ==")
    mention_metrics = train(sub_config(cfg, "mention", mention_data), run_dir / "mention")

    # 2. relation matcher: sentence pairs with sampled negatives
    neg = {"kb_max": 5, "similar": 2, "random_n": 3}
    neg.update({("kb_max" if k == "kb" else "random_n" if k == "random" else k): int(v)
                for k, v in (kbqa.get("negatives") or {}).items()})
    inventory = PredicateInventory(ex["predicate"] for ex in splits["train"] if ex.get("predicate"))
    pair_dir = run_dir / "relation" / "data"
    pair_paths: dict[str, str | None] = {}
    for i, (split, examples) in enumerate(splits.items()):
        if examples is None:
            pair_paths[split] = None
            continue
        rows = relation_examples(examples, kb, linker, inventory, seed=int(cfg.get("seed", 42)) + i, mask=mask, **neg)
        pair_paths[split] = str(write_jsonl(rows, pair_dir / f"{split}.jsonl"))
        print(f"  relation pairs {split}: {len(rows)} ({sum(r['label'] == '1' for r in rows)} positive)")
    part = kbqa.get("relation") or {}
    relation_data = {
        **RELATION_DATA,
        "train_path": pair_paths["train"], "dev_path": pair_paths["dev"], "test_path": pair_paths["test"],
        "batch_size": part.get("batch_size", data.get("batch_size", 32)),
        "eval_batch_size": data.get("eval_batch_size", 64), "max_length": data.get("max_length"),
    }
    print("\n== 2/3 relation matcher ==")
    relation_metrics = train(sub_config(cfg, "relation", relation_data), run_dir / "relation")

    # 3. end to end
    print("\n== 3/3 question answering ==")
    settings = {**(kbqa.get("answer") or {}), **link, "mask": mask}
    kb_ref = "kb.sqlite" if in_run else str(kb_file)
    spec = {"_target_": LOADER, "kb": kb_ref, "mention": "mention", "relation": "relation", "settings": settings}
    (run_dir / "predictor.json").write_text(json.dumps(spec, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    qa = load_kbqa(run_dir, kb=str(kb_file), settings=settings)
    metrics: dict[str, float] = {}
    for split, prefix in (("dev", "val"), ("test", "test")):
        if splits.get(split) is None:
            continue
        t0 = time.time()
        scores, predictions = qa.evaluate(splits[split])
        metrics.update({f"{prefix}/{k}": round(v, 6) for k, v in scores.items()})
        metrics[f"{prefix}/seconds"] = round(time.time() - t0, 1)
        write_predictions(run_dir / "predictions" / f"{split}.jsonl", splits[split], predictions)
        for name, sub in (("mention_f1", mention_metrics.get(f"{prefix}/f1")),
                          ("relation_pair_acc", relation_metrics.get(f"{prefix}/acc"))):
            if sub is not None:
                metrics[f"{prefix}/{name}"] = round(float(sub), 6)
    metrics.update(counts)
    metrics["kb/triples"] = float(kb.count("triples"))
    metrics["kb/entities"] = float(kb.count("entities"))
    metrics["train/seconds"] = round(time.time() - started, 1)
    kb.close()
    write_metrics(run_dir, metrics)
    print("\nMetrics:\n" + metrics_table({k: v for k, v in metrics.items() if k.startswith(("val/", "test/"))}))
    print(f"\nRun folder: {run_dir}\n  load with: zhnlp.load({str(run_dir)!r}).predict([...])"
          f"\n  or:        zhnlp kbqa ask {run_dir} \"问题\"")
    return metrics


def load_kbqa(path: str | Path, device: str = "cpu", kb: str | None = None, mention: str = "mention",
              relation: str = "relation", settings: dict | None = None) -> KBQA:
    """Load a trained KBQA run folder (no Hydra, no network).

    Args:
        path: the run folder written by ``train_kbqa``.
        device: torch device of both models.
        kb: KB file; relative paths are taken inside the run folder.
        mention: sub-folder of the mention-tagger run.
        relation: sub-folder of the relation-matcher run.
        settings: answering settings (``threshold``, ``top_k``, ...), see :class:`~zhnlp_kbqa.qa.KBQA`.

    Returns:
        KBQA with ``.predict(questions)``; its two models are :class:`~zhnlp.model.TaskModel`\ s
        (``zhnlp.predict.load_model`` of each sub-run: its ``model/`` folder).
    """
    from zhnlp.predict import load_model

    run = Path(path)
    if not run.is_dir():
        raise ZhnlpError(f"{run}: no such KBQA run folder.")
    spec_file = run / "predictor.json"
    stored = json.loads(spec_file.read_text(encoding="utf-8")) if spec_file.is_file() else {}
    kb_path = Path(kb or stored.get("kb") or "kb.sqlite")
    if not kb_path.is_absolute():
        kb_path = run / kb_path
    merged = {**(stored.get("settings") or {}), **(settings or {})}
    return KBQA(load_model(run / mention, device=device), load_model(run / relation, device=device),
                SQLiteKB(kb_path), merged)

