"""Dependencies point one way: the core imports no plugin, plugins do not import each other, and the
example third-party plugin imports only ``zhnlp`` (import-linter contracts, and the plugins' tests)."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "plugins" / "examples" / "zhnlp-plugin-example"
PLUGINS = ["zhnlp_classic", "zhnlp_transformers", "zhnlp_nezha", "zhnlp_ner", "zhnlp_classify", "zhnlp_kbqa",
           "zhnlp_keywords", "zhnlp_e5"]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(config: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), str(config)], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def linter():
    if not LINT.exists():
        pytest.fail("lint-imports is not installed: pip install -e '.[dev]' (import-linter is a dev dependency)")
    return lint


def test_pyproject_contracts_hold(linter):
    proc = linter(ROOT / "pyproject.toml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 kept, 0 broken" in proc.stdout


def test_a_forbidden_import_breaks_the_contract(linter, tmp_path):
    """The contract is real: a core module importing a plugin makes lint-imports fail."""
    pkg = tmp_path / "corepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "bad.py").write_text("import zhnlp_ner\n")
    config = tmp_path / "lint.ini"
    config.write_text("[importlinter]\nroot_packages =\n    corepkg\n    zhnlp_ner\n\n"
                      "[importlinter:contract:core]\nname = core imports no plugin\ntype = forbidden\n"
                      "source_modules =\n    corepkg\nforbidden_modules =\n    zhnlp_ner\n")
    proc = linter(config, {"PYTHONPATH": str(tmp_path)})
    assert proc.returncode != 0 and "corepkg.bad -> zhnlp_ner" in proc.stdout


def test_example_plugin_imports_only_zhnlp(linter, tmp_path):
    config = tmp_path / "lint.ini"
    forbidden = "\n".join(f"    {p}" for p in PLUGINS)
    config.write_text("[importlinter]\nroot_packages =\n    zhnlp_plugin_example\n" + forbidden + "\n\n"
                      "[importlinter:contract:example]\nname = the example plugin imports only zhnlp\n"
                      "type = forbidden\nsource_modules =\n    zhnlp_plugin_example\nforbidden_modules =\n"
                      + forbidden + "\n")
    proc = linter(config, {"PYTHONPATH": str(EXAMPLE)})
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("plugin", PLUGINS)
def test_plugin_tests_import_no_other_plugin(plugin):
    """import-linter sees packages only; the plugins' own test folders are checked here."""
    others = set(PLUGINS) - {plugin}
    bad = []
    for path in sorted((ROOT / "plugins" / plugin).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            bad += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names if n.split(".")[0] in others]
    assert not bad, bad
