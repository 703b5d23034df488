"""A separately installed distribution plugs in an encoder, a head and their configs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cli_helpers import explain, metrics, zhnlp

EXAMPLE = Path(__file__).resolve().parents[1] / "plugins" / "examples" / "zhnlp-plugin-example"


def test_example_plugin_installs_lists_and_trains(tmp_path):
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(site), str(EXAMPLE)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr
    env = {"PYTHONPATH": str(site)}

    listed = zhnlp("plugins", cwd=tmp_path, env=env)
    assert listed.returncode == 0, explain(listed)
    lines = listed.stdout.splitlines()
    assert any("hashed_char" in line and "zhnlp-plugin-example 0.1.0" in line for line in lines), listed.stdout
    assert any("mlp_tagger" in line and "zhnlp-plugin-example 0.1.0" in line for line in lines), listed.stdout

    run_dir = tmp_path / "run"
    proc = zhnlp("train", "encoder=hashed_char", "head=mlp_tagger", "trainer.max_epochs=1",
                 "trainer.enable_progress_bar=false", f"hydra.run.dir={run_dir}", cwd=tmp_path, env=env)
    assert proc.returncode == 0, explain(proc)
    assert 0.0 <= metrics(run_dir)["test/f1"] <= 1.0
    config = (run_dir / ".hydra" / "config.yaml").read_text(encoding="utf-8")
    assert "zhnlp_plugin_example.encoder.build_hashed_char" in config
    assert "zhnlp_plugin_example.head.build_mlp_tagger" in config

    # without the plugin on the path the same names are unknown, with a helpful message
    missing = zhnlp("train", "encoder=hashed_char", f"hydra.run.dir={tmp_path / 'x'}", cwd=tmp_path)
    assert missing.returncode != 0 and "hashed_char" in missing.stderr
