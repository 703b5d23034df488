"""Run the zhnlp command line the way a user does, in a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# Small and fast versions of the default job (char embeddings + BiLSTM-CRF on the sample data).
TINY = [
    "encoder.char_dim=16", "encoder.bigram_dim=16", "encoder.seg_dim=8",
    "head.lstm_hidden=16", "trainer.max_epochs=1", "trainer.enable_progress_bar=false",
]


def zhnlp(*args: str, cwd: Path, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """``python -m zhnlp ARGS`` in ``cwd``; returns the finished process (never raises on failure)."""
    full_env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    full_env.pop("ZHNLP_SUBCOMMAND", None)
    return subprocess.run([sys.executable, "-m", "zhnlp", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def train(tmp: Path, *overrides: str, run: str = "run", env: dict | None = None) -> tuple[subprocess.CompletedProcess, Path]:
    """``zhnlp train`` with TINY settings into ``tmp/run``."""
    run_dir = tmp / run
    proc = zhnlp("train", *TINY, f"hydra.run.dir={run_dir}", *overrides, cwd=tmp, env=env)
    return proc, run_dir


def metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))


def explain(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\nSTDOUT:\n{proc.stdout[-3000:]}\nSTDERR:\n{proc.stderr[-5000:]}"
