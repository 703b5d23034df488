"""Readers: each format on tmp files, each bad-input case, the bundled sample and the real sets."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from zhnlp import registry
from zhnlp.data import DataModule
from zhnlp.errors import ConfigError, DataError
from zhnlp.types import DatasetSpec
from zhnlp_classify import readers
from zhnlp_classify.heads import build_classification, collect_labels
from zhnlp_classify.readers import build_clue_json_reader, build_table_reader, build_thucnews_reader

SAMPLE = Path(__file__).parents[3] / "datasets" / "sample_cls"


def write(path: Path, text: str | bytes) -> str:
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return str(path)


# ---- THUCNews -----------------------------------------------------------------------------------
def test_thucnews_maps_ids_to_class_names_in_class_file_order(tmp_path):
    write(tmp_path / "class.txt", "finance\nrealty\nstocks")  # no trailing newline, as upstream
    path = write(tmp_path / "train.txt", "央行降准\t0\n楼市回暖　成交上升\t1\n\n大盘收涨\t2\n")
    exs = build_thucnews_reader()(path)
    assert [(e["text"], e["label"], e["_line"]) for e in exs] == [
        ("央行降准", "finance", 1), ("楼市回暖　成交上升", "realty", 2), ("大盘收涨", "stocks", 4)]
    assert collect_labels(exs) == ["finance", "realty", "stocks"]
    assert collect_labels(exs[1:]) == ["finance", "realty", "stocks"]  # class order, even if unseen


def test_thucnews_explicit_classes_path_and_raw_ids(tmp_path):
    classes = write(tmp_path / "names.txt", "甲\n乙\n")
    (tmp_path / "data").mkdir()
    path = write(tmp_path / "data" / "dev.txt", "标题一\t1\n标题二\t甲\n")
    assert [e["label"] for e in build_thucnews_reader(classes_path=classes)(path)] == ["乙", "甲"]
    raw = build_thucnews_reader()(path)  # no class.txt beside the file: ids stay as strings
    assert [e["label"] for e in raw] == ["1", "甲"] and "_classes" not in raw[0]


@pytest.mark.parametrize("content, line, message", [
    ("好标题\t0\n坏标题\t7\n", 2, "label '7' is not in"),
    ("好标题\t0\n多\t了\t1\n", 2, "expected 2 columns"),
    ("好标题\t0\n只有标题\n", 2, "expected 2 columns"),
    ("\t1\n", 1, "empty text"),
    ("   \t1\n", 1, "empty text"),
    ("标题\t \n", 1, "empty label"),
])
def test_thucnews_bad_lines(tmp_path, content, line, message):
    write(tmp_path / "class.txt", "a\nb\n")
    path = write(tmp_path / "train.txt", content)
    with pytest.raises(DataError, match=message) as err:
        build_thucnews_reader()(path)
    assert err.value.path == path and err.value.line == line


def thucnews_folders(tmp_path):
    """Issue 18: train/dev beside a class.txt, the test file in another folder without one."""
    (tmp_path / "data").mkdir()
    (tmp_path / "elsewhere").mkdir()
    classes = write(tmp_path / "data" / "class.txt", "finance\nrealty\nstocks\neducation\n")
    train = write(tmp_path / "data" / "train.txt", "央行降准\t0\n楼市回暖\t1\n大盘收涨\t2\n高考放榜\t3\n")
    test = write(tmp_path / "elsewhere" / "test.txt", "标题甲\t3\n标题乙\t0\n")
    return classes, train, test


def test_issue18_a_split_without_class_file_names_classes_path(tmp_path):
    classes, train, test = thucnews_folders(tmp_path)
    reader = build_thucnews_reader()
    assert [e["label"] for e in reader(train, "data.train_path")] == ["finance", "realty", "stocks", "education"]
    with pytest.raises(DataError, match=rf"numeric label ids but no class file maps them: .*data\.test_path.*"
                                        rf"Set data\.reader\.classes_path={re.escape(classes)} ") as err:
        reader(test, "data.test_path")
    assert (err.value.path, err.value.line) == (test, 1)
    # the fix the message names: one class list for every split
    fixed = build_thucnews_reader(classes_path=classes)
    assert [e["label"] for e in fixed(test, "data.test_path")] == ["education", "finance"]
    # the other order: raw ids read first, then a split with a class file
    reader = build_thucnews_reader()
    reader(test, "data.train_path")
    with pytest.raises(DataError, match=rf"numeric label ids kept raw .*"
                                        rf"Set data\.reader\.classes_path={re.escape(classes)} ") as err:
        reader(train, "data.dev_path")
    assert (err.value.path, err.value.line) == (test, 1)


def test_issue18_through_the_data_module(tmp_path):
    _, train, test = thucnews_folders(tmp_path)
    with pytest.raises(DataError, match=r"data\.reader\.classes_path") as err:
        DataModule(name="thucnews", reader={"classes_path": None}, train_path=train, dev_path=train, test_path=test)
    assert "never seen" not in str(err.value)


def test_issue18_raw_ids_against_a_head_with_class_names_hint_classes_path():
    head = build_classification(4, ["education", "finance"])
    enc = {"input_ids": [1, 2], "attention_mask": [1, 1], "offset_mapping": [(0, 1), (1, 2)]}
    with pytest.raises(DataError, match=r"t\.txt:2: label\(s\) \['3'\] .*raw class ids.*data\.reader\.classes_path"):
        head.targets({"text": "ab", "label": "3", "_file": "t.txt", "_line": 2}, enc)
    with pytest.raises(DataError, match=r"data\.reader\.classes_path"):  # zhnlp eval --data: gold is not tokenized
        head.evaluate([{"label": "finance"}], [{"text": "ab", "label": "3", "_file": "t.txt", "_line": 2}])
    with pytest.raises(DataError, match=r"label\(s\) \['sports'\] are not in") as err:
        head.targets({"text": "ab", "label": "sports", "_file": "t.txt", "_line": 2}, enc)
    assert "classes_path" not in str(err.value)
    # other unknown gold: an error for training targets, counted as wrong by evaluate (as before)
    assert head.evaluate([{"label": "finance"}], [{"text": "ab", "label": "sports"}])["acc"] == 0.0


# ---- tables -------------------------------------------------------------------------------------
def test_tsv_with_header_bom_crlf_and_quotes(tmp_path):
    path = write(tmp_path / "t.tsv", b"\xef\xbb\xbflabel\ttext_a\r\n1\t\xe5\xa5\xbd\"\xe7\x9a\x84\r\n0\t  bad  \r\n")
    exs = build_table_reader()(path)
    assert [(e["label"], e["text"], e["_line"]) for e in exs] == [("1", '好"的', 2), ("0", "  bad  ", 3)]


def test_table_pairs_ids_multilabel_and_column_order(tmp_path):
    path = write(tmp_path / "p.tsv", "id\tq1\tq2\ttags\n7\t今天\t明天\t天气|时间|天气\n")
    reader = build_table_reader(text_column="q1", text_b_column="q2", label_column="tags", id_column="id",
                                label_separator="|")
    assert reader(path) == [{"text": "今天", "label": ["天气", "时间"], "text_b": "明天", "id": "7",
                             "_file": path, "_line": 2}]


def test_table_without_header_uses_column_indexes(tmp_path):
    path = write(tmp_path / "n.tsv", "正面的评论\tpos\n负面的评论\tneg\n")
    exs = build_table_reader(text_column=0, label_column=1, header=False)(path)
    assert [(e["text"], e["label"]) for e in exs] == [("正面的评论", "pos"), ("负面的评论", "neg")]
    with pytest.raises(ConfigError, match="column index"):
        build_table_reader(header=False)


def test_quoted_csv_keeps_commas_and_newlines_and_counts_lines(tmp_path):
    path = write(tmp_path / "c.csv", 'text,label\n"一，二, three",a\n"多行\n文本",b\nplain,a\n')
    exs = build_table_reader(text_column="text", delimiter=",")(path)
    assert [(e["text"], e["label"], e["_line"]) for e in exs] == [
        ("一，二, three", "a", 2), ("多行\n文本", "b", 3), ("plain", "a", 5)]


def test_unicode_line_separators_stay_inside_the_text(tmp_path):
    path = write(tmp_path / "u.tsv", "label\ttext_a\n1\t前\u2028后\x85尾\n0\t第二行\n")
    exs = build_table_reader()(path)
    assert exs[0]["text"] == "前\u2028后\x85尾" and exs[1]["_line"] == 3


@pytest.mark.parametrize("content, line, message", [
    ("label\ttext_a\n1\t好\n0\t坏\t多余\n", 3, "expected 2 columns"),
    ("label\ttext_a\n1\t好\n0\n", 3, "expected 2 columns"),
    ("label\ttext_a\n1\t\n", 2, "empty text"),
    ("label\ttext_a\n\t好\n", 2, "empty or missing label"),
    ("label\tsentence\n1\t好\n", 1, "no column 'text_a'"),
])
def test_table_bad_lines(tmp_path, content, line, message):
    path = write(tmp_path / "bad.tsv", content)
    with pytest.raises(DataError, match=message) as err:
        build_table_reader()(path)
    assert err.value.line == line


# ---- CLUE JSON lines -------------------------------------------------------------------------------
def test_clue_json_label_desc_pairs_and_lists(tmp_path):
    path = write(tmp_path / "tnews.json", '{"label": "102", "label_desc": "news_entertainment", "sentence": "新片", "id": 5}\n'
                                          '\n{"label": 103, "sentence": "球赛"}\n')
    exs = build_clue_json_reader()(path)
    assert [(e["text"], e["label"], e["_line"]) for e in exs] == [("新片", "news_entertainment", 1), ("球赛", "103", 3)]
    assert exs[0]["id"] == 5
    assert build_clue_json_reader(label_desc_key=None)(path)[0]["label"] == "102"
    pairs = write(tmp_path / "afqmc.json", '{"sentence1": "怎么还款", "sentence2": "如何还钱", "label": ["0", "1"]}\n')
    ex = build_clue_json_reader(text_key="sentence1", text_b_key="sentence2")(pairs)[0]
    assert (ex["text"], ex["text_b"], ex["label"]) == ("怎么还款", "如何还钱", ["0", "1"])


@pytest.mark.parametrize("content, line, message", [
    ('{"sentence": "好", "label": "1"}\n{"sentence": "坏", "label": "0"\n', 2, "invalid JSON"),
    ('["好", "1"]\n', 1, "JSON object"),
    ('{"text": "好", "label": "1"}\n', 1, "no 'sentence' field"),
    ('{"sentence": "", "label": "1"}\n', 1, "empty text"),
    ('{"sentence": "好"}\n', 1, "no 'label' field"),
    ('{"sentence": 3, "label": "1"}\n', 1, "must be a string"),
])
def test_clue_json_bad_lines(tmp_path, content, line, message):
    path = write(tmp_path / "bad.json", content)
    with pytest.raises(DataError, match=message) as err:
        build_clue_json_reader()(path)
    assert err.value.line == line


# ---- encoding and missing files (every reader) -----------------------------------------------------
READERS = {
    "thucnews": (build_thucnews_reader(), "好标题\t0\n".encode(), "坏标题\t0\n".encode("gbk")),
    "table": (build_table_reader(), "label\ttext_a\n1\t好\n".encode(), "0\t坏评论\n".encode("gbk")),
    "clue_json": (build_clue_json_reader(), '{"sentence": "好", "label": "1"}\n'.encode(),
                  '{"sentence": "坏", "label": "0"}\n'.encode("gbk")),
}


@pytest.mark.parametrize("name", READERS)
def test_non_utf8_names_line_byte_and_iconv_hint(tmp_path, name):
    reader, good, gbk = READERS[name]
    path = write(tmp_path / "data.txt", good + gbk)
    with pytest.raises(DataError, match=r"not valid UTF-8: byte 0x([0-9a-f]{2}) .*GB18030.*"
                                        r"`iconv -f GB18030 -t UTF-8 data\.txt > data\.utf8\.txt`") as err:
        reader(path, "data.train_path")
    assert err.value.path == path and err.value.line == good.count(b"\n") + 1
    with pytest.raises(UnicodeDecodeError) as bad:
        (good + gbk).decode("utf-8")
    assert f"byte 0x{(good + gbk)[bad.value.start]:02x}" in str(err.value)  # the first byte that is not UTF-8


@pytest.mark.parametrize("name", READERS)
def test_missing_file_names_the_key_and_bom(tmp_path, name):
    reader, good, _ = READERS[name]
    with pytest.raises(DataError, match=r"file not found\. Fix data\.dev_path"):
        reader(str(tmp_path / "nope.txt"), "data.dev_path")
    assert reader(write(tmp_path / "bom.txt", b"\xef\xbb\xbf" + good)) == reader(write(tmp_path / "bom.txt", good))


# ---- the bundled sample and the real data sets ------------------------------------------------------
def test_dataset_specs():
    for name, spec in (("thucnews", readers.thucnews), ("sample_cls", readers.table), ("chnsenticorp", readers.table),
                       ("clue_json", readers.clue_json)):
        assert registry.get("datasets", name) is spec and isinstance(spec, DatasetSpec) and spec.label_kind == "label"
    assert readers.thucnews.build is build_thucnews_reader and readers.clue_json.build is build_clue_json_reader
    with pytest.raises(ConfigError, match="data.reader.text_colum: dataset 'sample_cls' has no such option. "
                                          "Did you mean data.reader.text_column"):
        registry.build_reader({"name": "sample_cls", "reader": {"text_colum": "text_a"}})


def test_sample_cls_through_the_entry_point():
    reader = registry.build_reader({"name": "sample_cls", "reader": {"text_column": "text_a", "label_column": "label"}})
    counts = {split: Counter(e["label"] for e in reader(str(SAMPLE / f"{split}.tsv"), f"data.{split}_path"))
              for split in ("train", "dev", "test")}
    assert {s: sum(c.values()) for s, c in counts.items()} == {"train": 300, "dev": 80, "test": 80}
    assert set(counts["train"]) == {"sports", "finance", "tech", "entertainment"}


def test_real_thucnews(shared):
    folder = shared("datasets", "thucnews")
    reader = build_thucnews_reader()
    train, dev = reader(str(folder / "train.txt")), reader(str(folder / "dev.txt"))
    classes = ["finance", "realty", "stocks", "education", "science", "society", "politics", "sports", "game",
               "entertainment"]
    assert len(train) == 33590 and len(dev) == 10000
    assert collect_labels(train) == classes
    per_class = Counter(e["label"] for e in train)
    assert [per_class[c] for c in classes] == [3311, 3370, 3371, 3304, 3349, 3353, 3328, 3339, 3420, 3445]
    assert set(Counter(e["label"] for e in dev).values()) == {1000}
    assert train[0]["text"] == "中华女子学院：本科层次仅1专业招男生" and train[0]["label"] == "education"


def test_real_chnsenticorp(shared):
    folder = shared("datasets", "chnsenticorp")
    reader = build_table_reader(text_column="text_a", label_column="label")
    train, dev = reader(str(folder / "train.tsv")), reader(str(folder / "dev.tsv"))
    assert Counter(e["label"] for e in train) == {"0": 4801, "1": 4799}
    assert Counter(e["label"] for e in dev) == {"0": 607, "1": 593}
    assert train[1]["text"].startswith("15.4寸笔记本的键盘确实爽") and train[1]["_line"] == 3
