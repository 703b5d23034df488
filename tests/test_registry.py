"""Entry-point registry: discovery, unknown names, duplicates, broken plugins."""
from __future__ import annotations

import pytest

import zhnlp
from zhnlp import registry
from zhnlp.errors import PluginError

GOOD = """
import torch
class Enc(torch.nn.Module):
    hidden_size = 4
    def __init__(self, width=4):
        super().__init__(); self.hidden_size = width; self.tokenizer = None
def build(width=4):
    return Enc(width)
"""


def test_builtin_plugins_are_discovered_through_entry_points():
    found = zhnlp.available()
    assert {"char", "bert_wwm", "nezha"} <= set(found["encoders"])
    assert "crf" in found["heads"]
    assert "cluener" in found["datasets"]
    assert registry.plugins("encoders")["char"].distribution == "zhnlp"


def test_third_party_encoder_is_built_by_name(fake_dist):
    fake_dist("acme-nlp", {"zhnlp.encoders": {"acme_enc": "acme_good:build"}}, {"acme_good": GOOD})
    assert "acme_enc" in zhnlp.available()["encoders"]
    enc = zhnlp.build_encoder("acme_enc", width=7)
    assert enc.hidden_size == 7
    assert registry.plugins("encoders")["acme_enc"].distribution == "acme-nlp"
    assert registry.plugins("encoders")["acme_enc"].version == "1.2.3"


def test_unknown_name_lists_available_and_closest():
    with pytest.raises(PluginError) as info:
        zhnlp.build_encoder("bert_wm")
    message = str(info.value)
    assert "Did you mean 'bert_wwm'" in message
    assert "roberta_wwm" in message and "char" in message


def test_duplicate_name_names_both_distributions(fake_dist):
    fake_dist("other-nlp", {"zhnlp.encoders": {"char": "acme_good:build"}}, {"acme_good": GOOD})
    with pytest.raises(PluginError) as info:
        registry.plugins("encoders")
    assert "zhnlp" in str(info.value) and "other-nlp" in str(info.value)


def test_broken_plugin_warns_and_others_keep_working(fake_dist):
    fake_dist("broken-nlp", {"zhnlp.encoders": {"broken_enc": "broken_plugin_mod:build"}},
              {"broken_plugin_mod": "raise RuntimeError('boom at import')\n"})
    with pytest.warns(UserWarning, match=r"broken-nlp.*RuntimeError: boom at import"):
        names = zhnlp.available()["encoders"]
    assert "broken_enc" not in names and "char" in names
    with pytest.raises(PluginError, match="could not be imported"):
        zhnlp.build_encoder("broken_enc")


def test_plugin_command_runs_with_zhnlp_warnings_and_errors(fake_dist, capsys):
    from zhnlp.cli import main

    code = """
    import warnings
    from zhnlp.errors import ConfigError

    def main(argv):
        warnings.warn("3 lines repaired in x.txt")
        if argv == ["--bad"]:
            raise ConfigError("--bad: not an option of acme")
        print("acme ran with", argv)
    """
    fake_dist("acme-cmd", {"zhnlp.commands": {"acme": "acme_cmd:main"}}, {"acme_cmd": code})
    main(["acme", "x"])
    out, err = capsys.readouterr()
    assert "acme ran with ['x']" in out
    assert "zhnlp: warning: 3 lines repaired in x.txt" in err and "warnings.warn" not in err  # one line, no source
    with pytest.raises(SystemExit) as exit_info:
        main(["acme", "--bad"])
    assert exit_info.value.code == 2 and "zhnlp: error: --bad: not an option of acme" in capsys.readouterr().err
