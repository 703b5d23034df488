"""The install and the process environment: a folder named ``zhnlp`` in the current directory (the
clone, seen from its parent folder) must not shadow the package; OpenMP waits are tuned once."""
from __future__ import annotations

import subprocess
import sys


def test_import_from_the_clones_parent_folder(tmp_path):
    (tmp_path / "zhnlp" / "zhnlp").mkdir(parents=True)  # what a clone named zhnlp looks like from its parent
    proc = subprocess.run([sys.executable, "-c", "import zhnlp, zhnlp_ner; print(zhnlp.load.__name__, zhnlp.__file__)"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("load ") and str(tmp_path) not in proc.stdout


def test_openmp_waits_briefly_unless_the_user_chose(monkeypatch):
    from zhnlp.cli import SPIN, tune_threads

    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    tune_threads()
    import os

    assert os.environ["GOMP_SPINCOUNT"] == SPIN
    monkeypatch.setenv("GOMP_SPINCOUNT", "123")
    tune_threads()
    assert os.environ["GOMP_SPINCOUNT"] == "123"
    monkeypatch.delenv("GOMP_SPINCOUNT")
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    tune_threads()
    assert "GOMP_SPINCOUNT" not in os.environ
