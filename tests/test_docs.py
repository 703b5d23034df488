"""The docs match the code: every ``zhnlp train ...`` example in README.md and the docs composes (and
passes the task / head / data check), and the bundled samples' READMEs state the real counts."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from zhnlp import registry
from zhnlp.config import compose_train_config

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "plugins").glob("*/README.md")),
        ROOT / "benchmarks" / "README.md", ROOT / "datasets" / "README.md"]
# the example plugin is not installed in the test environment: its commands run in test_third_party_plugin
NOT_INSTALLED = ("hashed_char", "mlp_tagger", "example_ner", "tsv_entities")
COMMAND = re.compile(r"zhnlp train((?:[^\n`|#\\]|\\\n)*)")


def examples() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for line_no, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("$"):  # shell transcripts of mistakes, on purpose
                continue
            for match in COMMAND.finditer(line):
                found.append((f"{doc.relative_to(ROOT)}:{line_no}", match.group(1)))
    return found


def overrides_of(args: str) -> list[str] | None:
    """The Hydra overrides of one example (sweeps: the first value), None when it is not runnable as is."""
    out = []
    for token in shlex.split(args.replace("\\\n", " ")):
        if token in ("-m", "--multirun") or token.startswith(("--cfg", "--help", "-c")):
            continue
        if "=" not in token or any(mark in token for mark in ("<", "...", "[data.")):
            if "=" in token or token.startswith("["):
                continue  # a placeholder such as ckpt_path=runs/<run-folder> or [data.test_path=...]
            return None  # prose, not a command
        key, value = token.split("=", 1)
        if value.isupper():  # experiment=NAME, ckpt_path=RUN: a placeholder
            continue
        if "," in value and not value.startswith(("[", "{", "'")) and "{" not in value:
            value = value.split(",")[0]
        out.append(f"{key}={value}")
    if any(name in o for o in out for name in NOT_INSTALLED):
        return None
    return out


CASES = [(where, o) for where, args in examples() if (o := overrides_of(args)) is not None]


def test_the_docs_have_examples():
    assert len(CASES) >= 25, CASES


@pytest.mark.parametrize("where,overrides", CASES, ids=[w for w, _ in CASES])
def test_documented_train_command_composes(where, overrides):
    cfg = compose_train_config(overrides)
    registry.check_combination(cfg)


def test_sample_readme_counts_match_the_files():
    reader = registry.build_reader({"name": "sample_ner", "reader": {"scheme": "auto"}})
    text = (ROOT / "datasets" / "sample_ner" / "README.md").read_text(encoding="utf-8")
    for split in ("train", "dev", "test"):
        examples = reader(str(ROOT / "datasets" / "sample_ner" / f"{split}.txt"), key=f"data.{split}_path")
        row = re.search(rf"^\| {split} \| (\d+) \| ([\d,]+) \|", text, re.M)
        assert row, f"no {split} row in datasets/sample_ner/README.md"
        assert int(row.group(1)) == len(examples)
        assert int(row.group(2).replace(",", "")) == sum(len(ex["text"]) for ex in examples)
    index = (ROOT / "datasets" / "README.md").read_text(encoding="utf-8")
    assert "600 / 100 / 100" in index
