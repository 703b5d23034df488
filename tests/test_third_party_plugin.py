"""A separately installed distribution plugs in an encoder, a head, a dataset reader and their configs.

The example plugin (plugins/examples/zhnlp-plugin-example) is pip-installed into a folder of its
own, put on PYTHONPATH for the subprocesses that should see it, and used exactly as a user would:
``zhnlp plugins``, ``zhnlp train`` by name, its experiment preset, and zhnlp's shipped contract
tests (``pytest --pyargs zhnlp.testing`` restricted to its distribution).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from cli_helpers import explain, metrics, zhnlp

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "plugins" / "examples" / "zhnlp-plugin-example"
GUIDE = ROOT / "docs" / "plugins.md"
DIST = "zhnlp-plugin-example"
FAST = ["trainer.max_epochs=1", "trainer.enable_progress_bar=false", "torch_threads=1"]
THREADS = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """The example plugin installed (no dependencies) into a folder of its own.

    Built from a clean copy, so no stale ``build/`` of an earlier install leaks into the wheel and
    nothing is written into the repository.
    """
    base = tmp_path_factory.mktemp("example_plugin")
    source = base / "src"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = base / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return target


def with_plugin(site: Path) -> dict:
    return {"PYTHONPATH": str(site), **THREADS}


def test_example_plugin_installs_lists_and_trains(plugin_site, tmp_path):
    env = with_plugin(plugin_site)
    listed = zhnlp("plugins", "--check", cwd=tmp_path, env=env)
    assert listed.returncode == 0, explain(listed)
    rows = {tuple(line.split()[:2]) for line in listed.stdout.splitlines() if f"{DIST} 0.1.0" in line}
    assert rows == {("zhnlp.encoders", "hashed_char"), ("zhnlp.heads", "mlp_tagger"),
                    ("zhnlp.datasets", "tsv_entities"), ("zhnlp.conf", "zhnlp_plugin_example")}, listed.stdout
    ours = [line for line in listed.stdout.splitlines() if DIST in line]
    assert "IMPORT FAILED" not in "".join(ours)
    assert any("mlp_tagger" in line and "task ner, learns from entities" in line for line in ours), ours

    run_dir = tmp_path / "run"
    proc = zhnlp("train", "encoder=hashed_char", "head=mlp_tagger", *FAST, f"hydra.run.dir={run_dir}",
                 cwd=tmp_path, env=env)
    assert proc.returncode == 0, explain(proc)
    scores = metrics(run_dir)
    assert 0.0 <= scores["test/f1"] <= 1.0 and {"test/precision", "test/recall", "val/f1"} <= set(scores)

    # the configs name the components by their registered names, with only the builders' parameters
    config = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    assert config.encoder.name == "hashed_char" and config.head.name == "mlp_tagger"
    assert set(config.head) == {"name", "inner", "dropout", "window_overlap"}
    assert "_target_" not in config.encoder and "_target_" not in config.head
    stored = json.loads((run_dir / "model" / "zhnlp.json").read_text(encoding="utf-8"))
    assert stored["encoder"]["name"] == "hashed_char" and stored["head"]["name"] == "mlp_tagger"

    # the saved model loads by name; a text longer than max_length goes through the head's windows
    script = (
        "import json, sys, zhnlp\n"
        "model = zhnlp.load(sys.argv[1])\n"
        "text = '张伟在北京大学读书。' * 120\n"  # 1200 chars > max_length 512
        "pred = model.predict([text, 'ＡＢＣ银行😀'])\n"
        "assert all(0 <= e['start'] < e['end'] <= len(t) and t[e['start']:e['end']] == e['text']\n"
        "           for t, p in zip([text, 'ＡＢＣ银行😀'], pred) for e in p), pred\n"
        "print(json.dumps({'n': len(pred), 'type': type(model).__name__, 'head': type(model.head).__name__}))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script, str(run_dir)], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path, env={**os.environ, "PYTHONWARNINGS": "ignore", **env})
    assert loaded.returncode == 0, explain(loaded)
    assert json.loads(loaded.stdout.strip().splitlines()[-1]) == {"n": 2, "type": "TaskModel", "head": "MlpTagger"}


def test_without_the_plugin_its_names_are_unknown_with_a_helpful_message(tmp_path):
    by_option = zhnlp("train", "encoder=hashed_char", f"hydra.run.dir={tmp_path / 'x'}", cwd=tmp_path)
    output = by_option.stdout + by_option.stderr
    assert by_option.returncode != 0
    assert "Could not find 'encoder/hashed_char'" in output and "Available options in 'encoder'" in output
    assert re.search(r"^\s+char$", output, re.M), output  # the installed encoders are listed

    by_name = zhnlp("train", "encoder.name=hashed_char", f"hydra.run.dir={tmp_path / 'y'}", cwd=tmp_path)
    assert by_name.returncode == 2, explain(by_name)
    assert "Unknown encoder 'hashed_char'. Did you mean 'char'? Available: " in by_name.stderr, by_name.stderr
    assert not (tmp_path / "y" / "metrics.json").exists()


def test_experiment_preset_trains_an_ensemble_on_the_bundled_sample(plugin_site, tmp_path):
    run_dir = tmp_path / "run"
    proc = zhnlp("train", "experiment=example_ner", "members=2", *FAST, f"hydra.run.dir={run_dir}",
                 cwd=tmp_path, env=with_plugin(plugin_site))
    assert proc.returncode == 0, explain(proc)
    assert 0.0 <= metrics(run_dir)["test/f1"] <= 1.0
    stored = json.loads((run_dir / "model" / "zhnlp.json").read_text(encoding="utf-8"))
    assert (stored["encoder"]["name"], stored["head"]["name"], stored["members"]) == ("hashed_char", "mlp_tagger", 2)
    assert stored["encoder"]["dim"] == 48 and stored["head"]["inner"] == 64  # the preset's settings
    assert stored["data"]["name"] == "tsv_entities"
    sample = plugin_site / "zhnlp_plugin_example" / "samples" / "train.tsv"  # resolved by the plugin's resolver
    assert Path(stored["data"]["train_path"]) == sample
    lines = (run_dir / "predictions" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(sample.with_name("test.tsv").read_text(encoding="utf-8").splitlines())


def test_reader_errors_name_file_and_line(plugin_site, tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("张伟在北京。\tPER:0:2\n李娜去了上海。\tLOC:4:9\n", encoding="utf-8")
    proc = zhnlp("train", "experiment=example_ner", f"data.train_path={bad}", f"hydra.run.dir={tmp_path / 'x'}",
                 cwd=tmp_path, env=with_plugin(plugin_site))
    assert proc.returncode == 2, explain(proc)
    assert f"zhnlp: error: {bad}:2: entity 'LOC:4:9': need 0 <= START < END <= 7" in proc.stderr, proc.stderr


def test_shipped_contract_tests_pass_against_the_plugin(plugin_site, tmp_path):
    """``ZHNLP_PLUGIN_DIST=zhnlp-plugin-example pytest --pyargs zhnlp.testing``, from a folder of its own
    (no repository config, no cache), must collect the plugin's tests and pass them all."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {**os.environ, "ZHNLP_PLUGIN_DIST": DIST, "PYTHONWARNINGS": "ignore", **with_plugin(plugin_site)}
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
                           "--pyargs", "zhnlp.testing"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=1200)
    tail = proc.stdout[-6000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, tail
    summary = proc.stdout.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) > 0 and not re.search(r"failed|error", summary), summary
    ran = set(re.findall(r"^PASSED \S+::(test_\w+\[[^\]]+\])", proc.stdout, re.M))
    for test_id in ("test_encoder_spec_and_protocol[hashed_char]", "test_encoder_config_composes[hashed_char]",
                    "test_encoder_offsets_specials_and_padding[hashed_char]", "test_head_spec[mlp_tagger]",
                    "test_head_protocol_on_its_example_data[mlp_tagger]", "test_dataset_spec[tsv_entities]",
                    "test_every_encoder_trains_under_every_head[hashed_char-mlp_tagger]",
                    "test_every_encoder_trains_under_every_head[char-mlp_tagger]",
                    "test_every_encoder_trains_under_every_head[hashed_char-crf]"):
        assert test_id in ran, f"{test_id} did not run and pass:\n{tail}"
    assert not any("[char-crf]" in t for t in ran), "ZHNLP_PLUGIN_DIST must restrict the tests to the plugin"


def test_example_plugin_import_contract_holds():
    """The example's own import-linter contract (in its pyproject.toml): no other zhnlp plugin is imported."""
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.skip("lint-imports is not installed (pip install import-linter)")
    proc = subprocess.run([str(lint), "--config", "pyproject.toml", "--no-cache"], cwd=EXAMPLE, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(EXAMPLE)})
    assert proc.returncode == 0 and "1 kept, 0 broken" in proc.stdout, proc.stdout + proc.stderr


def test_guide_code_blocks_are_copies_of_the_example():
    """Every block of docs/plugins.md marked ``<!-- from: PATH -->`` appears verbatim in PATH."""
    guide = GUIDE.read_text(encoding="utf-8")
    blocks = re.findall(r"<!-- from: (\S+) -->\n```\w*\n(.*?)```", guide, re.S)
    assert len(blocks) >= 15, "the guide's code comes from the example plugin"
    for path, block in blocks:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert block in source, f"docs/plugins.md: a block marked as from {path} is not in that file:\n{block}"
    assert "plugins/examples/zhnlp-plugin-example" in guide
