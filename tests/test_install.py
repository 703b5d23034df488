"""The install works from any working directory: a folder named ``zhnlp`` in the current directory
(the clone, seen from its parent folder) must not shadow the installed package."""
from __future__ import annotations

import subprocess
import sys


def test_import_from_the_clones_parent_folder(tmp_path):
    (tmp_path / "zhnlp" / "zhnlp").mkdir(parents=True)  # what a clone named zhnlp looks like from its parent
    proc = subprocess.run([sys.executable, "-c", "import zhnlp, zhnlp_ner; print(zhnlp.load.__name__, zhnlp.__file__)"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("load ") and str(tmp_path) not in proc.stdout
