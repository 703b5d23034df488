"""Resume is exact: a run killed with SIGKILL after a checkpoint and resumed with ``ckpt_path=`` ends
with exactly the metrics of a run that was never interrupted (random states and the batch order
travel in the checkpoint)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import torch

from cli_helpers import TINY, explain, metrics, train

JOB = ["trainer.max_epochs=4", "seed=3", "torch_threads=1", "early_stopping.patience=0"]


def checkpoint_epoch(path) -> int | None:
    try:
        return int(torch.load(path, map_location="cpu", weights_only=True)["epoch"])
    except Exception:  # being written
        return None


def test_killed_and_resumed_run_equals_the_uninterrupted_one(tmp_path):
    whole, whole_dir = train(tmp_path, *JOB, run="whole")
    assert whole.returncode == 0, explain(whole)

    killed_dir = tmp_path / "killed"
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    env.pop("ZHNLP_SUBCOMMAND", None)
    proc = subprocess.Popen([sys.executable, "-m", "zhnlp", "train", *TINY, *JOB, f"hydra.run.dir={killed_dir}"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last = killed_dir / "checkpoints" / "last.ckpt"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if last.is_file() and (checkpoint_epoch(last) or 0) >= 1:  # the second epoch is done
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (killed_dir / "metrics.json").exists()

    resumed, resumed_dir = train(tmp_path, *JOB, f"ckpt_path={killed_dir}", run="resumed")
    assert resumed.returncode == 0, explain(resumed)
    want, got = metrics(whole_dir), metrics(resumed_dir)
    for key in ("val/f1", "val/precision", "val/recall", "test/f1", "test/precision", "test/recall"):
        assert got[key] == want[key], (key, got[key], want[key])
