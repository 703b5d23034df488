"""Relation-matching pairs: masking, negatives from the KB / candidates / inventory, determinism."""
from __future__ import annotations

import json
import random

from zhnlp import registry
from zhnlp_kbqa.kb import MemoryKB
from zhnlp_kbqa.linking import EntityLinker
from zhnlp_kbqa.normalize import key
from zhnlp_kbqa.relation_data import (RELATION_DATA, PredicateInventory, masked_question, negatives_for,
                                      relation_examples, write_jsonl)

KB = MemoryKB([
    ("李娜（网球运动员）", "出生日期", "1982年"), ("李娜（网球运动员）", "职业", "网球运动员"),
    ("李娜（网球运动员）", "中文名", "李娜"), ("李娜（网球运动员）", "别名", "李娜"),
    ("李娜（网球运动员）", "民 族", "汉族"),
    ("李娜（歌手）", "代表作品", "青藏高原"), ("李娜（歌手）", "出生日期", "1963年"),
])
INVENTORY = PredicateInventory(["出生日期", "出生地", "职业", "国籍", "作者", "出版社", "民族", "身高", "体重", "isbn",
                                "ISBN", "出生 日期"])


def example(predicate="中文名", answer="李娜"):
    return {"text": "李娜的中文名是什么？", "id": "3", "subject": "李娜（网球运动员）", "predicate": predicate,
            "answer": answer, "entities": [{"type": "SUBJ", "start": 0, "end": 2, "text": "李娜"}]}


def test_masked_question():
    assert masked_question(example()) == "◆的中文名是什么？"
    assert masked_question({**example(), "entities": []}) == "李娜的中文名是什么？"
    assert masked_question(example(), mask="[E]") == "[E]的中文名是什么？"


def test_inventory_dedups_by_key_and_finds_similar():
    assert "ISBN" not in INVENTORY.items and "出生 日期" not in INVENTORY.items
    assert INVENTORY.similar("出生日期") == sorted({"出生日期", "出生地", "出版社"})  # 出 / 生 shared


def test_negatives_exclude_gold_and_same_answer_predicates():
    linker = EntityLinker(KB, top_k=5)
    for seed in range(20):
        negs = negatives_for(example(), KB, linker, INVENTORY, random.Random(seed), kb_max=3, similar=1, random_n=2)
        keys = [key(p) for p in negs]
        assert len(keys) == len(set(keys)) == 6  # distinct up to spacing / case
        assert "中文名" not in negs
        assert "别名" not in negs  # its object is the gold answer too


def test_negatives_come_from_the_kb_and_the_candidates_first():
    linker = EntityLinker(KB, top_k=5)
    negs = negatives_for(example("出生日期", "1982年"), KB, linker, INVENTORY, random.Random(0),
                         kb_max=10, similar=0, random_n=0)
    # the gold subject's other predicates (中文名 / 别名 hold another answer here, so they count) and
    # the other candidate's (代表作品; its 出生日期 is the gold predicate); then random fill up to 10
    from_kb = {"职业", "中文名", "别名", "民 族", "代表作品"}
    assert set(negs[:5]) == from_kb and len(negs) == 10 and "出生日期" not in negs
    few = negatives_for(example("出生日期", "1982年"), KB, linker, INVENTORY, random.Random(0), kb_max=2, similar=0,
                        random_n=1)
    assert len(few) == 3


def test_random_fill_when_the_kb_has_too_few():
    negs = negatives_for(example("代表作品", "青藏高原") | {"subject": "李娜（歌手）"}, KB, None, INVENTORY,
                         random.Random(1), kb_max=3, similar=0, random_n=4)
    assert len(negs) == 7 and "代表作品" not in negs


def test_relation_examples_round_trip_through_the_clue_json_dataset(tmp_path):
    linker = EntityLinker(KB)
    rows = relation_examples([example(), {"text": "无标注", "id": "4"}], KB, linker, INVENTORY, seed=3,
                             kb_max=2, similar=1, random_n=1)
    again = relation_examples([example(), {"text": "无标注", "id": "4"}], KB, linker, INVENTORY, seed=3,
                              kb_max=2, similar=1, random_n=1)
    assert rows == again  # deterministic
    assert [r["label"] for r in rows] == ["1", "0", "0", "0", "0"] and rows[0]["predicate"] == "中文名"
    path = write_jsonl(rows, tmp_path / "pairs" / "train.jsonl")
    assert json.loads(path.read_text(encoding="utf-8").splitlines()[0])["text"] == "◆的中文名是什么？"
    assert RELATION_DATA["name"] == "clue_json"
    read = registry.build_reader(RELATION_DATA)(str(path), "data.train_path")
    got = [(r["text"], r["text_b"], r["label"], r["id"]) for r in read]
    assert got == [(r["text"], r["predicate"], r["label"], r["qid"]) for r in rows]
