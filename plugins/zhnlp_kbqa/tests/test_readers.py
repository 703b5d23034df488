"""The NLPCC reader: blocks, derived mentions, bad input with file:line, the real data when present."""
from __future__ import annotations

import warnings
from collections import Counter

import pytest

from zhnlp import registry
from zhnlp.errors import DataError
from zhnlp.types import DatasetSpec
from zhnlp_kbqa.nlpcc import parse_triple, read_questions
from zhnlp_kbqa.readers import build_nlpcc_reader, nlpcc, read_nlpcc

SEP = "=" * 50
GOOD = (
    "<question id=1>\t《机械设计基础》这本书的作者是谁？\n<triple id=1>\t机械设计基础 ||| 作者 ||| 杨可桢\n"
    f"<answer id=1>\t杨可桢\n{SEP}\n"
    "<question id=7>\t李娜的生日？\n<triple id=7>\t李娜（网球运动员） ||| 出生日期 ||| 1982年\n"
    f"<answer id=7>\t1982年\n{SEP}\n"
    "<question id=9>\t海地人是什么种族的？\n<triple id=9>\t海底人 ||| 种族 ||| 未知\n<answer id=9>\t未知\n"
)


def write(tmp_path, text, name="q.txt", newline="\n"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_reader_examples(tmp_path, newline):
    path = write(tmp_path, "\ufeff" + GOOD, newline=newline)
    with pytest.warns(UserWarning, match=r"1 question\(s\) whose subject could not be found.*q.txt:9"):
        examples = build_nlpcc_reader()(str(path))
    assert [ex["id"] for ex in examples] == ["1", "7", "9"]
    first = examples[0]
    assert first["text"] == "《机械设计基础》这本书的作者是谁？" and first["answer"] == "杨可桢"
    assert (first["subject"], first["predicate"]) == ("机械设计基础", "作者")
    assert first["entities"] == [{"type": "SUBJ", "start": 1, "end": 7, "text": "机械设计基础"}]
    assert first["_line"] == 1 and examples[1]["_line"] == 5
    assert examples[1]["entities"][0]["text"] == "李娜" and examples[1]["mention_method"] == "alias"
    assert examples[2]["entities"] == [] and examples[2]["mention_method"] is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert [ex["id"] for ex in build_nlpcc_reader(skip_unmatched=True)(str(path))] == ["1", "7"]


def test_unlabelled_and_unusable_blocks(tmp_path):
    text = ("<question id=1>\t谁写的机械设计基础？\n" + SEP + "\n"
            "<question id=2>\t白藤江之战的伤亡与损失？\n<triple id=2>\t白藤江之战 ||| 伤亡与损失 ||| \n<answer id=2>\t\n")
    stats = Counter()
    with pytest.warns(UserWarning, match=r"empty subject, predicate or object.*q.txt:4"):
        examples = read_nlpcc(str(write(tmp_path, text)), stats=stats)
    assert examples[0]["_gold"] is False and "subject" not in examples[0]
    assert "subject" not in examples[1] and examples[1]["entities"] == [] and "_gold" not in examples[1]
    assert stats == Counter(unlabelled=1, unusable=1)


@pytest.mark.parametrize("text, line, needle", [
    ("<question id=1>\tq\nrandom junk\n", 2, "expected '<question id=N>'"),
    ("<question id=1>\tq\n<triple id=2>\ta ||| b ||| c\n", 2, "does not belong"),
    ("<triple id=1>\ta ||| b ||| c\n", 1, "no question before it"),
    ("<question id=1>\tq\n<triple id=1>\ta ||| b\n", 2, "malformed triple"),
    ("<question id=1>\t  \n", 1, "empty"),
])
def test_bad_input_names_file_and_line(tmp_path, text, line, needle):
    path = write(tmp_path, text)
    with pytest.raises(DataError, match=needle) as info:
        read_questions(str(path))
    assert info.value.line == line and str(path) in str(info.value)


def test_not_utf8_and_missing_file(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes("<question id=1>\t机械设计基础\n".encode("gbk"))
    with pytest.raises(DataError, match="not valid UTF-8.*iconv -f GB18030") as info:
        read_questions(str(path))
    assert info.value.line == 1
    with pytest.raises(DataError, match=r"file not found\. Fix data\.dev_path"):
        build_nlpcc_reader()(str(tmp_path / "nope.txt"), "data.dev_path")


def test_dataset_spec(tmp_path):
    spec = registry.get("datasets", "nlpcc2016_kbqa")
    assert spec is nlpcc and isinstance(spec, DatasetSpec) and spec.label_kind == "entities"
    reader = registry.build_reader({"name": "nlpcc2016_kbqa", "reader": {"skip_unmatched": True, "mention_type": "E"}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        examples = reader(str(write(tmp_path, GOOD)), "data.train_path")
    assert [ex["id"] for ex in examples] == ["1", "7"] and examples[0]["entities"][0]["type"] == "E"


def test_parse_triple():
    assert parse_triple("a ||| b ||| c ||| d") == ("a", "b", "c ||| d")
    assert parse_triple(" 民 族 |||汉族|||x ") == ("民 族", "汉族", "x")
    assert parse_triple("a ||| b |||") is None and parse_triple("||| b ||| c") is None and parse_triple("a b") is None


def test_bundled_sample(kbdata):
    examples = build_nlpcc_reader()(str(kbdata.DATA / "train.txt"))
    assert len(examples) > 100 and all(ex["entities"] for ex in examples)
    assert {ex["mention_method"] for ex in examples} == {"exact", "normalized", "alias"}


def test_real_data(shared):
    folder = shared("datasets", "nlpcc2016_kbqa")
    stats = Counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        examples = read_nlpcc(str(folder / "nlpcc-iccpol-2016.kbqa.dev-data"), stats=stats)
    assert len(examples) == 1460
    assert stats["none"] <= 10 and stats["exact"] > 1400
    for ex in examples:
        for ent in ex["entities"]:
            assert ex["text"][ent["start"] : ent["end"]] == ent["text"]
