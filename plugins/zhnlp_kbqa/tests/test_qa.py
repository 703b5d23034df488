"""The answering logic with stand-in models: linking, scoring, thresholds and bad input."""
from __future__ import annotations

import pytest

from zhnlp.errors import ZhnlpError
from zhnlp_kbqa.qa import KBQA
from zhnlp_kbqa.sqlite_kb import SQLiteKB, build_sqlite_kb


class FakeTagger:
    """Marks the first of ``names`` found in each text (like an NER TaskModel: list of entity dicts)."""

    def __init__(self, names):
        self.names, self.seen = names, []

    def predict(self, texts):
        self.seen += list(texts)
        out = []
        for t in texts:
            hits = [(t.find(n), n) for n in self.names if n in t]
            out.append([{"type": "SUBJ", "start": i, "end": i + len(n), "text": n} for i, n in hits[:1]])
        return out


class FakeMatcher:
    """P(match) = share of the predicate's characters found in the masked question."""

    def __init__(self):
        self.rows = []

    def predict_examples(self, rows):
        self.rows += rows
        out = []
        for r in rows:
            p = sum(c in r["text"] for c in r["text_b"]) / len(r["text_b"])
            label = "1" if p >= 0.5 else "0"  # the classification head's format, probs over both classes
            out.append({"label": label, "prob": max(p, 1 - p), "top_k": [[label, max(p, 1 - p)]],
                        "probs": {"0": 1 - p, "1": p}})
        return out


@pytest.fixture
def kb(tmp_path, kbdata):
    build_sqlite_kb(kbdata.write_triples(tmp_path / "t.txt"), tmp_path / "kb.sqlite", progress=False)
    return SQLiteKB(tmp_path / "kb.sqlite")


def make(kb, names=("机械设计基础", "李娜", "多沦落猛龙队", "火星人", "%"), **settings):
    return KBQA(FakeTagger(list(names)), FakeMatcher(), kb, {"threshold": 0.3, **settings})


def test_answers_with_entity_predicate_score_and_mention(kb):
    qa = make(kb)
    out = qa.predict(["《机械设计基础》这本书的作者是谁？", "李娜的代表作品是什么", "多沦落猛龙队的成立时间？"])
    assert out[0] == {"answer": "杨可桢，程光蕴，李仲生", "answers": ["杨可桢，程光蕴，李仲生"], "entity": "机械设计基础",
                      "predicate": "作者", "score": 1.0, "mention": "机械设计基础", "mention_span": [1, 7], "link": "exact"}
    assert (out[1]["entity"], out[1]["answer"], out[1]["link"]) == ("李娜（歌手）", "青藏高原", "alias")
    assert out[1]["score"] == pytest.approx(0.9)
    assert (out[2]["entity"], out[2]["answer"], out[2]["link"]) == ("多伦多猛龙队", "1995年", "fuzzy")
    # the relation model saw the question with the mention masked
    assert {"text": "《◆》这本书的作者是谁？", "text_b": "作者", "_gold": False} in qa.relation_model.rows


def test_no_answer_reasons(kb):
    qa = make(kb)
    unknown, below, empty, blank = qa.predict(["火星人的身高是多少？", "李娜怎么样", "", "   "])
    assert unknown["answer"] is None and "no KB entity matches" in unknown["reason"] and "火星人" in unknown["reason"]
    assert below["answer"] is None and "below the threshold" in below["reason"] and below["entity"].startswith("李娜")
    assert empty == {"answer": None, "reason": "empty question"} and blank["answer"] is None
    assert "" not in qa.mention_model.seen and "   " not in qa.mention_model.seen  # no model call for empty text


def test_scan_fallback_when_the_tagger_finds_nothing(kb):
    qa = make(kb, names=())
    out = qa.predict(["请问史蒂芬霍金是哪国（国籍）人？"])[0]
    assert (out["entity"], out["predicate"], out["answer"], out["link"]) == ("史蒂芬·霍金", "国籍", "英国", "scan")
    assert out["score"] == pytest.approx(0.9)
    off = make(kb, names=(), scan_fallback=False).predict(["请问史蒂芬霍金是哪国（国籍）人？"])[0]
    assert off["answer"] is None and off["reason"] == "no topic-entity mention found"


def test_hostile_and_long_input_keeps_the_kb_intact(kb):
    qa = make(kb)
    before = kb.count("triples")
    out = qa.predict(["'; DROP TABLE triples; --", "%", "机械设计基础%' OR 1=1 --的作者", "啊" * 2000,
                      "啊" * 1990 + "机械设计基础的作者", "\x00\n\t"])
    assert [o["answer"] is None for o in out] == [True, True, False, True, False, True]
    assert out[2]["answer"] == "杨可桢，程光蕴，李仲生"
    assert kb.count("triples") == before and kb.objects("a_b", "别名") == ["x'); DROP TABLE triples; --"]


def test_threshold_and_settings(kb):
    assert make(kb, threshold=0.95).predict(["李娜的代表作品是什么"])[0]["answer"] is None
    ex = [{"text": "李娜的出生日期", "subject": "李娜（歌手）", "predicate": "出生日期", "answer": "1963年"}]
    assert len(make(kb, top_k=1).evaluate(ex)[1][0]["candidates"]) == 1
    assert len(make(kb, top_k=5).evaluate(ex)[1][0]["candidates"]) == 2


def test_bad_types_and_single_string(kb):
    qa = make(kb)
    assert qa.predict("《机械设计基础》的作者")[0]["answer"] == "杨可桢，程光蕴，李仲生"
    assert qa.predict([]) == []
    with pytest.raises(ZhnlpError, match="expects strings"):
        qa.predict([None])


def test_evaluate_adds_candidates(kb):
    examples = [{"text": "《机械设计基础》这本书的作者是谁？", "subject": "机械设计基础", "predicate": "作者",
                 "answer": "杨可桢，程光蕴，李仲生", "entities": [{"text": "机械设计基础"}]}]
    qa = make(kb)
    metrics, preds = qa.evaluate(examples)
    assert metrics["answer_acc"] == 1.0 and metrics["answer_f1"] == 1.0 and metrics["mention_acc"] == 1.0
    assert preds[0]["candidates"][0] == "机械设计基础" and preds[0]["tagged"] == ["机械设计基础"]
    assert "candidates" not in qa.predict([examples[0]["text"]])[0]
    cut = make(kb, names=("机械设计",), min_fuzzy=0.9).evaluate([{**examples[0], "text": "机械设计基础的出版社是？",
                                                                  "predicate": "出版社", "answer": "高等教育出版社"}])
    assert cut[0]["mention_acc"] == 0.0 and cut[0]["answer_acc"] == 1.0  # the tagger's span is scored


def test_scan_overlap_repairs_a_short_mention(kb):
    question = "机械设计基础的出版社是？"
    short = make(kb, names=("机械设计",), min_fuzzy=0.9)  # the tagger cut the name; fuzzy linking off
    out = short.predict([question])[0]
    assert (out["entity"], out["answer"], out["link"]) == ("机械设计基础", "高等教育出版社", "scan")
    off = make(kb, names=("机械设计",), min_fuzzy=0.9, scan_overlap=False).predict([question])[0]
    assert off["answer"] is None and off["entity"] == "机械设计"
