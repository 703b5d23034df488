"""Entity linking (exact > alias > fuzzy, top-k) on the SQLite store and the in-memory reference."""
from __future__ import annotations

import pytest

from zhnlp_kbqa.kb import MemoryKB
from zhnlp_kbqa.linking import EntityLinker
from zhnlp_kbqa.sqlite_kb import SQLiteKB, build_sqlite_kb


@pytest.fixture(params=["sqlite", "memory"])
def kb(request, tmp_path, kbdata):
    if request.param == "memory":
        return MemoryKB(kbdata.TRIPLES)
    build_sqlite_kb(kbdata.write_triples(tmp_path / "t.txt"), tmp_path / "kb.sqlite", progress=False)
    return SQLiteKB(tmp_path / "kb.sqlite")


def test_ranking(kb):
    linker = EntityLinker(kb, top_k=5)
    ranked = linker.link("机械设计基础")
    assert (ranked[0].name, ranked[0].score, ranked[0].source) == ("机械设计基础", 1.0, "exact")
    assert ranked[1].name == "机械设计" and ranked[1].source == "fuzzy"
    assert ranked[1].score == pytest.approx(0.8 * 2 * 4 / 10)
    alias = linker.link("李娜")
    assert {c.name for c in alias} == {"李娜（网球运动员）", "李娜（歌手）"}
    assert all(c.source == "alias" and c.score == 0.9 for c in alias)
    fuzzy = linker.link("多沦落猛龙队")
    assert [c.name for c in fuzzy] == ["多伦多猛龙队"] and fuzzy[0].source == "fuzzy"
    assert linker.link("完全无关的名字") == [] and linker.link("") == []
    assert len(EntityLinker(kb, top_k=1).link("机械设计基础")) == 1


def test_min_fuzzy(kb):
    assert [c.name for c in EntityLinker(kb, min_fuzzy=0.9).link("机械设计基础")] == ["机械设计基础"]


def test_scan_finds_names_in_a_question(kb):
    linker = EntityLinker(kb)
    q = "请问《机械设计基础》的作者和多伦多猛龙队的成立时间？"
    spans = linker.scan(q)
    assert {q[s:e] for s, e in spans} == {"机械设计基础", "多伦多猛龙队"}  # the longest, not 机械设计
    assert linker.scan("") == [] and linker.scan("没有实体") == []
    assert linker.scan("史蒂芬霍金是哪国人") == [(0, 5)]
    assert linker.scan("ab的别名") == [(0, 2)] and linker.scan("cab的别名") == [] and linker.scan("a_b1") == []


def test_long_and_hostile_text(kb):
    linker = EntityLinker(kb)
    assert linker.link("啊" * 2000) == []
    assert linker.scan("啊" * 2000 + "机械设计基础") == []  # beyond scan_question_chars
    assert linker.link("'; DROP TABLE triples; --") == []
    assert [c.name for c in linker.link("100%纯棉")] == ["100%纯棉"]
