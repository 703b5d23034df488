"""IDF from the user's own corpus: jieba file format, and it changes the ranking as expected."""
import jieba.analyse
import pytest

from zhnlp.errors import DataError
from zhnlp_keywords.cli import main
from zhnlp_keywords.idf import compute_idf, read_corpus, read_idf, write_idf
from zhnlp_keywords.methods import build_tfidf

DOC = "电池电池材料材料"  # jieba: 电池 x2, 材料 x2 -> equal term frequencies


def ranking(extractor):
    return [k for k, _ in extractor([DOC], top_k=2)[0]]


def test_own_corpus_idf_changes_the_ranking(tmp_path):
    common_battery = ["电池续航测试", "电池安全评估", "电池回收利用", "复合材料研究"]
    common_material = ["材料力学性能", "材料表面处理", "材料加工工艺", "电池管理系统"]
    a = build_tfidf(idf_corpus=common_battery, idf_output=str(tmp_path / "a.txt"))
    b = build_tfidf(idf_corpus=common_material)
    assert ranking(a) == ["材料", "电池"]  # 电池 is everywhere in corpus a: low IDF
    assert ranking(b) == ["电池", "材料"]
    assert (tmp_path / "a.txt").is_file() and a.idf_file == str(tmp_path / "a.txt")
    # the written file is jieba's format: jieba's own TF-IDF loads it and ranks the same way
    engine = jieba.analyse.TFIDF(str(tmp_path / "a.txt"))
    assert engine.extract_tags(DOC, topK=2) == ["材料", "电池"]
    # and idf_path reads it back
    assert ranking(build_tfidf(idf_path=str(tmp_path / "a.txt"))) == ["材料", "电池"]


def test_idf_values_and_round_trip(tmp_path):
    idf = compute_idf(["苹果 香蕉", "苹果"])
    assert idf["苹果"] == pytest.approx(1.0)  # log(3/3) + 1
    assert idf["香蕉"] > idf["苹果"]
    path = write_idf(idf, tmp_path / "idf.txt")
    assert read_idf(path) == pytest.approx(idf)
    assert all(len(line.split(" ")) == 2 for line in path.read_text(encoding="utf-8").splitlines())


def test_corpus_formats_and_errors(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text('{"text": "第一篇"}\nto keywords\t第二篇\tkw\n第三篇\n\n', encoding="utf-8")
    assert read_corpus(p) == ["第一篇", "第二篇", "第三篇"]
    bad = tmp_path / "bad.txt"
    bad.write_text("词 notanumber\n", encoding="utf-8")
    with pytest.raises(DataError, match="bad.txt:1"):
        read_idf(bad)
    with pytest.raises(DataError):
        build_tfidf(idf_path=str(tmp_path / "missing.txt"))


def test_idf_command(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("电池续航测试\n电池安全评估\n", encoding="utf-8")
    main(["idf", "--corpus", str(corpus), "--output", str(tmp_path / "idf.txt")])
    assert read_idf(tmp_path / "idf.txt")["电池"] == pytest.approx(1.0)
