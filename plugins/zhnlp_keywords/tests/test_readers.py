"""The keyword TSV reader: parsing, errors, and deterministic disjoint train/dev carving."""
from pathlib import Path

import pytest

from zhnlp.errors import ConfigError, DataError
from zhnlp_keywords.readers import build_csl_reader, carve, read_rows

REPO = Path(__file__).parents[3]
SAMPLE = REPO / "datasets" / "sample_keywords"
CSL = REPO.parent / "shared" / "datasets" / "csl_kg" / "dev.tsv"


def write(tmp_path, lines, name="kw.tsv"):
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def make_file(tmp_path, n=50):
    return write(tmp_path, [f"to keywords\t第{i}篇摘要讨论图像分类{i}\t图像分类_摘要{i}" for i in range(n)])


def test_rows_keywords_and_entities(tmp_path):
    p = write(tmp_path, ["to keywords\t采用ＧＰＵ加速,GPU集群. 标题\tGPU_集群_缺席", "", "文本二\t二"])
    rows = read_rows(str(p))
    assert len(rows) == 2 and rows[0]["keywords"] == ["GPU", "集群", "缺席"]
    assert [(e["start"], e["end"], e["text"]) for e in rows[0]["entities"]] == [(2, 5, "ＧＰＵ"), (8, 11, "GPU"), (11, 13, "集群")]
    assert rows[1]["_line"] == 3 and rows[1]["text"] == "文本二"


@pytest.mark.parametrize("line,msg", [("a\tb\tc\td", "columns"), ("to keywords\t  \tkw", "empty text")])
def test_bad_lines_name_file_and_line(tmp_path, line, msg):
    p = write(tmp_path, ["to keywords\t好的文本\t文本", line])
    with pytest.raises(DataError, match=rf"kw.tsv:2: .*{msg}"):
        read_rows(str(p))


def test_bom_crlf_and_bad_utf8(tmp_path):
    p = tmp_path / "kw.tsv"
    p.write_bytes(b"\xef\xbb\xbfto keywords\t\xe5\x9b\xbe\xe5\x83\x8f\xe5\x88\x86\xe7\xb1\xbb\t\xe5\x9b\xbe\xe5\x83\x8f\r\n")
    rows = read_rows(str(p))
    assert rows[0]["text"] == "图像分类" and rows[0]["keywords"] == ["图像"]
    p.write_bytes("to keywords\t图像\t图像\n".encode() + "to keywords\t分类\t分类\n".encode("gbk"))
    with pytest.raises(DataError, match=r"kw.tsv:2: not valid UTF-8"):
        read_rows(str(p))


def test_missing_file_and_bad_options(tmp_path):
    with pytest.raises(DataError, match="not found. Fix data.dev_path"):
        build_csl_reader(split="all")(str(tmp_path / "none.tsv"), key="data.dev_path")
    with pytest.raises(ConfigError):
        build_csl_reader(split="test")
    with pytest.raises(ConfigError):
        build_csl_reader(dev_fraction=1.5)


def test_carving_is_deterministic_disjoint_and_complete(tmp_path):
    p = make_file(tmp_path)
    train = build_csl_reader(split="train", dev_fraction=0.2, seed=13)(str(p), key="data.train_path")
    dev = build_csl_reader(split="dev", dev_fraction=0.2, seed=13)(str(p), key="data.dev_path")
    assert len(dev) == 10 and len(train) == 40
    assert {ex["_line"] for ex in train}.isdisjoint(ex["_line"] for ex in dev)
    assert {ex["_line"] for ex in train} | {ex["_line"] for ex in dev} == set(range(1, 51))
    again = build_csl_reader(split="dev", dev_fraction=0.2, seed=13)(str(p), key="--data")
    assert [ex["_line"] for ex in again] == [ex["_line"] for ex in dev]
    other = build_csl_reader(split="dev", dev_fraction=0.2, seed=14)(str(p), key="--data")
    assert [ex["_line"] for ex in other] != [ex["_line"] for ex in dev]
    # the carve follows the texts, not their line order
    lines = p.read_text(encoding="utf-8").splitlines()[::-1]
    q = write(tmp_path, lines, "reversed.tsv")
    dev_rev = build_csl_reader(split="dev", dev_fraction=0.2, seed=13)(str(q), key="--data")
    assert sorted(ex["text"] for ex in dev_rev) == sorted(ex["text"] for ex in dev)


def test_auto_split_follows_the_split_being_read(tmp_path):
    p = str(make_file(tmp_path))
    reader = build_csl_reader(split="auto", dev_fraction=0.2, seed=13, train_path=p, dev_path=p)
    assert len(reader(p, key="data.train_path")) == 40
    assert len(reader(p, key="data.dev_path")) == 10
    assert len(reader(p, key="data.test_path")) == 10  # the same file as test: its dev part, no leak
    assert len(reader(p, key="--data")) == 10  # a read from outside the core (zhnlp eval): the dev part
    assert len(reader(p, key="data.train_path", split="all")) == 50
    separate = build_csl_reader(split="auto", train_path=str(SAMPLE / "train.tsv"), dev_path=str(SAMPLE / "dev.tsv"))
    assert len(separate(str(SAMPLE / "train.tsv"), key="data.train_path")) == 28  # different files: read whole


def test_core_datamodule_gets_disjoint_train_and_dev(tmp_path):
    from zhnlp.data import DataModule

    p = str(make_file(tmp_path))
    reader = {"split": "auto", "dev_fraction": 0.2, "seed": 13, "train_path": p, "dev_path": p}
    data = DataModule(name="csl_kg", reader=reader, train_path=p, dev_path=p, test_path=p)
    train, dev, test = (data.examples[s] for s in ("train", "dev", "test"))
    assert (len(train), len(dev), len(test)) == (40, 10, 10)  # test_path == dev file: read as the carve would
    assert {ex["_line"] for ex in train}.isdisjoint(ex["_line"] for ex in dev)


def test_carve_helper_all():
    rows = [{"text": str(i)} for i in range(5)]
    assert carve(rows, "all", 0.2, 1) == rows


@pytest.mark.skipif(not CSL.is_file(), reason="shared csl_kg data not present")
def test_csl_800_200():
    dev = build_csl_reader(split="dev")(str(CSL), key="--data")
    train = build_csl_reader(split="train")(str(CSL), key="--data")
    assert (len(train), len(dev)) == (800, 200)
    assert sum(len(ex["keywords"]) for ex in dev) > 900
