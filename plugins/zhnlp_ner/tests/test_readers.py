"""Readers on small files for every format and bad input, and on the real data sets when present."""
from __future__ import annotations

import json
import re
import warnings
from collections import Counter
from pathlib import Path

import pytest

from zhnlp.errors import ConfigError, DataError
from zhnlp_ner.readers import build_cluener_reader, build_conll_reader


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


def spans(example):
    return [(e["type"], e["start"], e["end"], e["text"]) for e in example["entities"]]


def read_quietly(reader, path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = reader(path, "data.train_path")
    return out, [str(w.message) for w in caught]


# ---------------------------------------------------------------- CoNLL formats
def test_bio_space_and_tab_crlf_bom_trailing_whitespace(tmp_path):
    content = "\ufeff张 B-PER\r\n三\tI-PER  \r\n去 O\r\n北 B-LOC\r\n京 I-LOC \r\n\r\n\r\n\r\n好 O\r\n"
    path = write(tmp_path, "a.txt", content)
    exs, msgs = read_quietly(build_conll_reader(), path)
    assert not msgs
    assert [e["text"] for e in exs] == ["张三去北京", "好"]
    assert spans(exs[0]) == [("PER", 0, 2, "张三"), ("LOC", 3, 5, "北京")]
    assert [(e["_file"], e["_line"]) for e in exs] == [(path, 1), (path, 9)]


def test_bioes_bmes_bilou_iob1(tmp_path):
    cases = {
        "BIOES": "中 B-ORG\n国 I-ORG\n队 E-ORG\n李 S-PER\n",
        "BMES": "中 B-ORG\n国 M-ORG\n队 E-ORG\n李 S-PER\n",
        "BILOU": "中 B-ORG\n国 I-ORG\n队 L-ORG\n李 U-PER\n",
    }
    for scheme, content in cases.items():
        path = write(tmp_path, f"{scheme}.txt", content)
        for name in ("auto", scheme):
            exs, msgs = read_quietly(build_conll_reader(scheme=name), path)
            assert spans(exs[0]) == [("ORG", 0, 3, "中国队"), ("PER", 3, 4, "李")] and not msgs
    # IOB1: I- opens entities, B- only separates two adjacent same-type entities: no repair warning
    path = write(tmp_path, "iob1.txt", "张 I-PER\n三 I-PER\n李 B-PER\n四 I-PER\n在 O\n京 I-LOC\n")
    for name in ("auto", "IOB1"):
        exs, msgs = read_quietly(build_conll_reader(scheme=name), path)
        assert spans(exs[0]) == [("PER", 0, 2, "张三"), ("PER", 2, 4, "李四"), ("LOC", 5, 6, "京")] and not msgs


def test_weibo_seg_digits(tmp_path):
    content = "科0\tO\n技1\tO\n李0\tB-PER.NAM\n四1\tI-PER.NAM\n310\tO\n\ufffd\ufffd0\tO\n"
    path = write(tmp_path, "weibo.train", content)
    for option in ("auto", "true", True):
        exs, _ = read_quietly(build_conll_reader(char_with_seg_digit=option), path)
        assert exs[0]["text"] == "科技李四3\ufffd\ufffd"
        assert spans(exs[0]) == [("PER.NAM", 2, 4, "李四")]
    exs, _ = read_quietly(build_conll_reader(char_with_seg_digit=False), path)
    assert exs[0]["text"] == "科0技1李0四1310\ufffd\ufffd0"
    assert spans(exs[0]) == [("PER.NAM", 4, 8, "李0四1")]
    plain = write(tmp_path, "plain.txt", "科 O\n3 O\n")
    exs, _ = read_quietly(build_conll_reader(), plain)  # auto: a lone "3" is no seg-digit token
    assert exs[0]["text"] == "科3"
    with pytest.raises(DataError, match=r"plain\.txt:1: .*char_with_seg_digit=false"):
        build_conll_reader(char_with_seg_digit=True)(plain, "data.train_path")


def test_space_char_in_tab_file_and_extra_columns(tmp_path):
    path = write(tmp_path, "tab.txt", "A\tB-X\n \tI-X\nB\tI-X\n")
    exs, _ = read_quietly(build_conll_reader(), path)
    assert exs[0]["text"] == "A B" and spans(exs[0]) == [("X", 0, 3, "A B")]
    path = write(tmp_path, "cols.txt", "张 NR B-PER\n三 NR I-PER\n")
    assert spans(build_conll_reader()(path, "data.train_path")[0]) == [("PER", 0, 2, "张三")]
    path = write(tmp_path, "cols2.txt", "张 B-PER NR\n三 I-PER NR\n")
    assert spans(build_conll_reader(column=1)(path, "data.train_path")[0]) == [("PER", 0, 2, "张三")]
    path = write(tmp_path, "doc.txt", "-DOCSTART- -X- O\n\n张 B-PER\n")
    assert [e["text"] for e in build_conll_reader()(path, "data.train_path")] == ["张"]


def test_gold_repairs_warn_once_with_count_and_first_place(tmp_path):
    path = write(tmp_path, "r.txt", "a O\nb I-PER\nc I-PER\n\nd B-LOC\ne I-PER\n\nf I-ORG\n")
    exs, msgs = read_quietly(build_conll_reader(scheme="BIO"), path)
    assert [spans(e) for e in exs] == [[("PER", 1, 3, "bc")], [("LOC", 0, 1, "d"), ("PER", 1, 2, "e")], [("ORG", 0, 1, "f")]]
    assert len(msgs) == 1 and msgs[0].startswith("3 tag repairs") and f"first at {path}:2" in msgs[0]


def test_whitespace_only_sentences_are_skipped_and_counted(tmp_path):
    path = write(tmp_path, "w.txt", "\u3000\tO\n\u3000\tO\n\n好 O\n\n \tO\n")
    exs, msgs = read_quietly(build_conll_reader(), path)
    assert [e["text"] for e in exs] == ["好"]
    assert len(msgs) == 1 and msgs[0].startswith("2 sentences of only whitespace skipped") and f"{path}:1" in msgs[0]


@pytest.mark.parametrize("content,line,message", [
    ("张 B-PER\n三\n", 2, "found 1 column"),
    ("张 X-PER\n", 1, "unknown prefix 'X'"),
    ("张 B-\n", 1, "no entity type"),
    ("好 O\n\n张 B-PER\n三 E-PER\n", 4, "not part of the BIO scheme"),
    (b"\xe5\xa5\xbd O\n\xff O\n", 2, "not valid UTF-8"),
])
def test_conll_bad_input(tmp_path, content, line, message):
    path = write(tmp_path, "bad.txt", content)
    with pytest.raises(DataError, match=re.escape(f"{path}:{line}: ") + ".*" + re.escape(message)) as err:
        build_conll_reader(scheme="BIO")(path, "data.train_path")
    assert err.value.path == path and err.value.line == line


def test_missing_file_names_path_and_config_key(tmp_path):
    missing = str(tmp_path / "nope.txt")
    with pytest.raises(DataError, match=re.escape(missing) + ".*data.train_path"):
        build_conll_reader()(missing, key="data.train_path")  # as the core calls it
    with pytest.raises(DataError, match=re.escape(missing) + ".*data.dev_path"):
        build_cluener_reader()(missing, "data.dev_path")
    with pytest.raises(DataError, match="not a file"):
        build_conll_reader()(str(tmp_path), "data.train_path")


def test_bad_options():
    with pytest.raises(ConfigError, match="scheme"):
        build_conll_reader(scheme="XYZ")
    with pytest.raises(ConfigError, match="char_with_seg_digit"):
        build_conll_reader(char_with_seg_digit="maybe")


# ---------------------------------------------------------------- CLUENER
def test_cluener_valid_and_unlabelled(tmp_path):
    lines = [
        json.dumps({"text": "浙商银行叶老桂博士", "label": {"name": {"叶老桂": [[4, 6]]}, "company": {"浙商银行": [[0, 3]]}}}, ensure_ascii=False),
        "",
        json.dumps({"text": "生生不息CSOL", "label": {"game": {"CSOL": [[4, 7]]}}, "id": 7}, ensure_ascii=False),
        json.dumps({"text": "无标签的测试句"}, ensure_ascii=False),
    ]
    path = write(tmp_path, "c.json", "\ufeff" + "\r\n".join(lines) + "\r\n")
    exs, msgs = read_quietly(build_cluener_reader(), path)
    assert not msgs
    assert spans(exs[0]) == [("company", 0, 4, "浙商银行"), ("name", 4, 7, "叶老桂")]
    assert exs[1]["id"] == 7 and exs[1]["_line"] == 3 and spans(exs[1]) == [("game", 4, 8, "CSOL")]
    assert exs[2]["entities"] == [] and exs[2]["_gold"] is False
    assert "_gold" not in exs[0]


@pytest.mark.parametrize("line,message", [
    ('{"text": "abc", "label": ', "invalid JSON"),
    ('{"text": "北京欢迎你", "label": {"LOC": {"南京": [[0, 1]]}}}', "gives '北京' but the label says '南京'"),
    ('{"text": "北京", "label": {"LOC": {"北京": [[0, 5]]}}}', "outside the text"),
    ('{"text": "北京", "label": {"LOC": {"北京": [[0, "1"]]}}}', "expected [start, end] integers"),
    ('{"label": {}}', '"text" string'),
    ('{"text": "北京", "label": ["LOC"]}', "'label' must be an object"),
])
def test_cluener_bad_input(tmp_path, line, message):
    path = write(tmp_path, "bad.json", '{"text": "好"}\n' + line + "\n")
    with pytest.raises(DataError, match=re.escape(f"{path}:2: ") + ".*" + re.escape(message)):
        build_cluener_reader()(path, "data.train_path")


def test_cluener_whitespace_text_skipped(tmp_path):
    path = write(tmp_path, "w.json", '{"text": "   ", "label": {}}\n{"text": ""}\n{"text": "好"}\n')
    exs, msgs = read_quietly(build_cluener_reader(), path)
    assert [e["text"] for e in exs] == ["好"] and len(msgs) == 1 and msgs[0].startswith("2 examples")


# ---------------------------------------------------------------- real data sets
DATASETS = Path(__file__).parents[3].parent / "shared" / "datasets"
README_COUNTS = {
    # file: (sentences, chars, {type: mentions}) from each data set's README
    "resume_ner/train.char.bmes": (3821, 124099, {"CONT": 260, "EDU": 858, "LOC": 47, "NAME": 952, "ORG": 4611, "PRO": 287, "RACE": 115, "TITLE": 6308}),
    "resume_ner/dev.char.bmes": (463, 13890, {"CONT": 33, "EDU": 106, "LOC": 2, "NAME": 110, "ORG": 523, "PRO": 18, "RACE": 15, "TITLE": 690}),
    "weibo_ner/weiboNER_2nd_conll.train": (1350, 73778, {"PER.NAM": 574, "PER.NOM": 766, "ORG.NAM": 183, "ORG.NOM": 42, "GPE.NAM": 205, "GPE.NOM": 8, "LOC.NAM": 56, "LOC.NOM": 51}),
    "weibo_ner/weiboNER_2nd_conll.dev": (270, 14509, {"PER.NAM": 90, "PER.NOM": 208, "ORG.NAM": 47, "ORG.NOM": 5, "GPE.NAM": 26, "GPE.NOM": 1, "LOC.NAM": 6, "LOC.NOM": 6}),
    "msra_ner/dev.txt": (5065, 214989, {"PER": 1789, "LOC": 3504, "ORG": 2049}),
}


@pytest.mark.parametrize("name", sorted(README_COUNTS))
def test_real_conll_files_match_readme_counts(name):
    path = DATASETS / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    sentences, chars, types = README_COUNTS[name]
    exs, msgs = read_quietly(build_conll_reader(), str(path))
    assert len(exs) == sentences
    # README "characters" = char lines; a few Weibo lines hold a broken emoji as two U+FFFD,
    # kept as two chars (the text is never normalised)
    two_char_lines = sum(1 for line in path.read_text("utf-8").splitlines() if line[:2] == "\ufffd\ufffd")
    assert sum(len(e["text"]) for e in exs) == chars + two_char_lines
    counts = Counter(ent["type"] for e in exs for ent in e["entities"])
    for e in exs:
        for ent in e["entities"]:
            assert e["text"][ent["start"]:ent["end"]] == ent["text"]
    # README counts B-/S- starts; an I- with no B- in the gold (repaired, warned) adds an entity
    repairs = int(msgs[0].split()[0]) if msgs else 0
    assert set(counts) == set(types)
    assert all(counts[t] >= n for t, n in types.items())
    assert sum(counts.values()) - sum(types.values()) <= repairs


@pytest.mark.parametrize("name,lines,total,types", [
    ("cluener/dev.json", 1343, 3072, {"address": 373, "book": 154, "company": 378, "game": 295, "government": 247,
                                      "movie": 151, "name": 465, "organization": 367, "position": 433, "scene": 209}),
    ("cluener/train.json", 9674, 21564, {"address": 2600, "book": 1031, "company": 2681, "game": 2163, "government": 1631,
                                         "movie": 1012, "name": 3371, "organization": 2893, "position": 2791, "scene": 1391}),
])
def test_real_cluener_matches_readme_counts(name, lines, total, types):
    path = DATASETS / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    exs = build_cluener_reader()(str(path), "data.train_path")
    assert len(exs) == lines
    counts = Counter(ent["type"] for e in exs for ent in e["entities"])
    assert sum(counts.values()) == total and dict(counts) == types
