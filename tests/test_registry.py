"""The registry: discovery, building by name, and one clear line for every plugin or config mistake."""
from __future__ import annotations

import pytest

import zhnlp
from zhnlp import registry
from zhnlp.config import compose_train_config
from zhnlp.errors import ConfigError, PluginError

GOOD = """
import torch
import zhnlp

class Enc(torch.nn.Module):
    max_length, num_special_tokens = 64, 0
    def __init__(self, width=4):
        super().__init__(); self.hidden_size = width; self.tokenizer = lambda *a, **k: {}
    def forward(self, input_ids, attention_mask, **_):
        return torch.zeros(*input_ids.shape, self.hidden_size)

class NoMax(Enc):
    max_length = None

def build(width=4):
    return Enc(width)

def build_crash(width=4):
    return {}["width"]

good = zhnlp.EncoderSpec(build=build)
crash = zhnlp.EncoderSpec(build=build_crash)
wrong_type = zhnlp.EncoderSpec(build=lambda: "an encoder")
no_max = zhnlp.EncoderSpec(build=lambda: NoMax())
"""


def test_builtin_plugins_are_discovered_through_entry_points():
    found = zhnlp.available()
    assert {"char", "bert_wwm", "nezha"} <= set(found["encoders"])
    assert "crf" in found["heads"]
    assert "cluener" in found["datasets"]
    assert registry.plugins("encoders")["char"].distribution == "zhnlp"


def test_third_party_encoder_is_built_by_name(fake_dist):
    fake_dist("acme-nlp", {"zhnlp.encoders": {"acme_enc": "acme_good:good"}}, {"acme_good": GOOD})
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
    fake_dist("other-nlp", {"zhnlp.encoders": {"char": "acme_good:good"}}, {"acme_good": GOOD})
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


@pytest.mark.parametrize("entry,message", [
    ("build", "the entry point acme_good:build is a function, not a zhnlp.EncoderSpec"),
    ("crash", "encoder 'acme_x' from acme-nlp failed to build: KeyError: 'width'"),
    ("wrong_type", "encoder 'acme_x' built a str, not a torch.nn.Module"),
    ("no_max", "encoder 'acme_x' (NoMax) lacks max_length, which zhnlp.types.Encoder requires"),
])
def test_a_faulty_plugin_is_one_line_naming_it(fake_dist, entry, message):
    fake_dist("acme-nlp", {"zhnlp.encoders": {"acme_x": f"acme_good:{entry}"}}, {"acme_good": GOOD})
    with pytest.raises(PluginError) as info:
        zhnlp.build_encoder("acme_x")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_an_unknown_option_is_named_with_the_closest_one():
    with pytest.raises(ConfigError, match=r"encoder.char_dims: encoder 'char' has no such option. Did you mean "
                                          r"encoder.char_dim\?"):
        registry.build_encoder({"name": "char", "char_dims": 8})
    with pytest.raises(ConfigError, match="head.labels is set by zhnlp at run time"):
        registry.build_head({"name": "crf", "labels": ["PER"]}, hidden_size=8, labels=["PER"])


@pytest.mark.parametrize("overrides,message", [
    (["task=classify", "head=crf"], "task=classify does not train head=crf (a ner head). Heads for task classify: "),
    (["head=classification"], "head=classification learns from label, but data=sample_ner gives examples with entities. "
                              "For data=sample_ner use head=crf | global_pointer | softmax"),
    (["data=sample_cls"], "head=crf learns from entities, but data=sample_cls gives examples with label"),
    (["encoder=nosuch"], None),
])
def test_task_head_and_data_are_checked_together(overrides, message):
    if message is None:  # an unknown config option is Hydra's to report
        with pytest.raises(ConfigError):
            compose_train_config(overrides)
        return
    with pytest.raises(ConfigError) as info:
        registry.check_combination(compose_train_config(overrides))
    assert message in str(info.value) and "\n" not in str(info.value)
    if "task=classify" in overrides:
        assert "classification" in str(info.value)


def test_a_config_without_a_name_says_how_to_pick_one():
    with pytest.raises(ConfigError, match="the head config must name a registered head with `name:`"):
        registry.build_head({"lstm_layers": 1}, hidden_size=8, labels=["PER"])


def test_plugins_lists_fast_and_check_imports_and_flags(fake_dist, capsys):
    from zhnlp.cli import main

    fake_dist("broken-nlp", {"zhnlp.encoders": {"broken_enc": "broken_plugin_mod:build"}},
              {"broken_plugin_mod": "raise RuntimeError('boom at import')\n"})
    main(["plugins"])  # metadata only: nothing is imported
    out = capsys.readouterr().out
    assert "broken_enc" in out and "IMPORT FAILED" not in out and "broken_plugin_mod" not in __import__("sys").modules
    main(["plugins", "--check"])
    lines = capsys.readouterr().out.splitlines()
    assert any("broken_enc" in line and "IMPORT FAILED" in line for line in lines)
    assert any(line.split()[1:2] == ["crf"] and "task ner, learns from entities" in line for line in lines)


def test_an_old_style_target_config_says_what_replaces_it():
    with pytest.raises(ConfigError, match=r"replace `_target_` \(and `_partial_`\) with `name: crf`"):
        registry.build_head({"_target_": "zhnlp_ner.heads.build_crf", "_partial_": True}, hidden_size=8, labels=["PER"])
