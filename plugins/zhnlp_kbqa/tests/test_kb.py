"""The SQLite KB: streaming build, malformed lines, lookups, parameterised queries, read-only use."""
from __future__ import annotations

import sqlite3

import pytest

from zhnlp.errors import ConfigError, ZhnlpError
from zhnlp_kbqa.cli import main as kbqa_cli
from zhnlp_kbqa.kb import KnowledgeBase, MemoryKB
from zhnlp_kbqa.sqlite_kb import SQLiteKB, build_sqlite_kb, escape_like

BAD_LINES = ("only one part\n", "白藤江之战 ||| 伤亡与损失 |||\n", "\n", "||| 日语 ||| カーヤ\n")


@pytest.fixture
def kb_file(tmp_path, kbdata):
    src = kbdata.write_triples(tmp_path / "triples.txt", extra_lines=BAD_LINES)
    with open(src, "ab") as f:
        f.write(b"\xff\xfe broken ||| p ||| o\n")
        f.write("结尾 ||| 谓词 ||| 含 ||| 的宾语".encode())  # no final newline; object keeps its '|||'
    report = build_sqlite_kb(src, tmp_path / "kb.sqlite", progress=False, batch_size=3)
    return tmp_path / "kb.sqlite", report, src


def test_build_counts_and_reports_malformed_lines(kb_file, kbdata):
    TRIPLES = kbdata.TRIPLES
    path, report, src = kb_file
    assert report.triples == len(TRIPLES) + 1
    assert report.malformed == 4  # blank lines are not malformed
    n = len(TRIPLES)
    assert [m.split(": ", 1)[0] for m in report.malformed_examples] == [
        f"{src}:{n + 1}", f"{src}:{n + 2}", f"{src}:{n + 4}", f"{src}:{n + 5}"]
    assert "malformed" in report.summary() and f"{src}:{n + 1}" in report.summary()
    kb = SQLiteKB(path)
    assert kb.count("triples") == len(TRIPLES) + 1
    assert kb.objects("结尾", "谓词") == ["含 ||| 的宾语"]
    assert kb.count("entities") == len({s for s, _, _ in TRIPLES}) + 1


def test_build_refuses_to_overwrite_and_leaves_no_temp_file(kb_file, tmp_path):
    path, _, src = kb_file
    with pytest.raises(ConfigError, match="exists"):
        build_sqlite_kb(src, path, progress=False)
    with pytest.raises(ConfigError, match="not found"):
        build_sqlite_kb(tmp_path / "nope.txt", tmp_path / "other.sqlite", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kb.sqlite", "triples.txt"]


def test_lookups(kb_file):
    kb = SQLiteKB(kb_file[0])
    assert isinstance(kb, KnowledgeBase)
    assert kb.by_name("机械设计基础") == ["机械设计基础"]
    assert kb.by_name("《机械设计基础》") == ["机械设计基础"]  # punctuation folded
    assert kb.by_name("史蒂芬霍金") == ["史蒂芬·霍金"]
    assert kb.by_name("ＯＢＲＩＥＮ Ｑ") == ["O'Brien \"Q\""]  # width, case, quotes folded
    assert set(kb.by_alias("李娜")) == {"李娜（网球运动员）", "李娜（歌手）"}
    assert kb.by_alias("霍金") == ["史蒂芬·霍金"]  # from the 别名 predicate
    assert kb.by_name("李娜") == [] and kb.by_name("") == [] and kb.by_alias("   ") == []
    fuzzy = dict(kb.fuzzy("多沦落猛龙队"))
    assert fuzzy["多伦多猛龙队"] == pytest.approx(2 * 4 / 12, abs=1e-6)
    assert kb.fuzzy("机械设计基础")[0] == ("机械设计基础", 1.0)
    assert kb.prefix("机械") == ["机械设计", "机械设计基础"]
    assert kb.predicates("机械设计基础") == ["作者", "出版社"]
    assert kb.objects("机械设计基础", "作者") == ["杨可桢，程光蕴，李仲生"]
    assert kb.predicates("nobody") == [] and kb.objects("nobody", "作者") == []


def test_fuzzy_matches_brute_force_reference(kb_file, kbdata):
    TRIPLES = kbdata.TRIPLES
    kb, ref = SQLiteKB(kb_file[0]), MemoryKB(TRIPLES)
    for text in ("多沦落猛龙队", "机械设计", "李娜的生日", "霍金国籍", "棉"):
        got = [(n, s) for n, s in kb.fuzzy(text, 50) if n != "结尾"]
        want = ref.fuzzy(text, 50)
        assert sorted(got) == sorted(want), text


@pytest.mark.parametrize("text", ["'; DROP TABLE triples; --", "%", "_", "\\", "a%", "机械%", "' OR '1'='1",
                                  "\"; DELETE FROM entities; --", "100%", "a_b"])
def test_queries_are_parameterised(kb_file, text):
    kb = SQLiteKB(kb_file[0])
    before = kb.count("triples")
    kb.by_name(text), kb.by_alias(text), kb.fuzzy(text), kb.prefix(text), kb.predicates(text), kb.objects(text, text)
    kb.by_names([text, text + "x"])
    assert kb.count("triples") == before
    # LIKE wildcards in the text match only themselves
    assert kb.contains("%") == ["100%纯棉"]
    assert kb.contains("_") == ["a_b"]
    assert kb.contains("a_b") == ["a_b"] and kb.contains("0_") == []  # '_' is not "any character"
    assert kb.contains("'") == ["O'Brien \"Q\""] and kb.contains("a%") == [] and kb.contains("b%c") == []


def test_escape_like():
    assert escape_like("100%_\\x") == "100\\%\\_\\\\x"


def test_kb_is_opened_read_only(kb_file, kbdata):
    TRIPLES = kbdata.TRIPLES
    kb = SQLiteKB(kb_file[0])
    with pytest.raises(sqlite3.OperationalError):
        kb.con.execute("DELETE FROM triples")
    assert kb.count("triples") == len(TRIPLES) + 1


def test_foreign_or_missing_file(tmp_path):
    with pytest.raises(ZhnlpError, match="not found"):
        SQLiteKB(tmp_path / "missing.sqlite")
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE x(a)").connection.commit()
    with pytest.raises(ZhnlpError, match="not a zhnlp KB"):
        SQLiteKB(other)


def test_cli_build_kb_and_lookup(tmp_path, capsys, kbdata):
    TRIPLES = kbdata.TRIPLES
    src = kbdata.write_triples(tmp_path / "t.txt", extra_lines=("bad line\n",))
    out = tmp_path / "kb.sqlite"
    kbqa_cli(["build-kb", str(src), str(out), "--no-progress"])
    printed = capsys.readouterr().out
    assert f"{len(TRIPLES)} triples" in printed and f"{src}:{len(TRIPLES) + 1}: bad line" in printed
    with pytest.raises(ConfigError):
        kbqa_cli(["build-kb", str(src), str(out), "--no-progress"])
    kbqa_cli(["build-kb", str(src), str(out), "--no-progress", "--force"])
    kbqa_cli(["lookup", str(out), "李娜"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert any("李娜（歌手）" in line for line in lines) and any("alias" in line for line in lines)


def test_real_kb_file(shared, tmp_path):
    src = shared("datasets", "nlpcc2016_kbqa", "kb", "kb_triples.from_train_questions.txt")
    report = build_sqlite_kb(src, tmp_path / "kb.sqlite", progress=False)
    assert (report.triples, report.malformed) == (14607, 2)
    assert [m.split(": ")[0] for m in report.malformed_examples] == [f"{src}:11001", f"{src}:12902"]
    kb = SQLiteKB(tmp_path / "kb.sqlite")
    assert kb.objects("机械设计基础", "作者") == ["杨可桢，程光蕴，李仲生"]
    assert "武汉大学学报（医学版）" in kb.by_alias("武汉大学学报")
