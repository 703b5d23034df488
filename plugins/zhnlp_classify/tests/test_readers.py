"""Readers: each format on tmp files, each bad-input case, the bundled sample and the real sets."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from zhnlp import registry
from zhnlp.errors import ConfigError, DataError
from zhnlp_classify.heads import collect_labels
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
def test_non_utf8_names_line_and_byte_offset(tmp_path, name):
    reader, good, gbk = READERS[name]
    path = write(tmp_path / "data.txt", good + gbk)
    with pytest.raises(DataError, match=r"not valid UTF-8: byte 0x[0-9a-f]{2} at byte offset \d+.*GB18030") as err:
        reader(path)
    assert err.value.line == good.count(b"\n") + 1
    offset = int(str(err.value).split("byte offset ")[1].split()[0])
    assert len(good) <= offset < len(good) + len(gbk)


@pytest.mark.parametrize("name", READERS)
def test_missing_file_and_bom(tmp_path, name):
    reader, good, _ = READERS[name]
    with pytest.raises(DataError, match="file not found"):
        reader(str(tmp_path / "nope.txt"))
    assert reader(write(tmp_path / "bom.txt", b"\xef\xbb\xbf" + good)) == reader(write(tmp_path / "bom.txt", good))


# ---- the bundled sample and the real data sets ------------------------------------------------------
def test_sample_cls_through_the_entry_point():
    reader = registry.get("datasets", "sample_cls")(text_column="text_a", label_column="label")
    counts = {split: Counter(e["label"] for e in reader(str(SAMPLE / f"{split}.tsv"))) for split in ("train", "dev", "test")}
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
