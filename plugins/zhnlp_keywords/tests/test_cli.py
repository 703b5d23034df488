"""``zhnlp keywords extract | evaluate`` on tiny files (in process, through the core's dispatcher)."""
import json
from pathlib import Path

import pytest

from zhnlp.cli import main as zhnlp_main
from zhnlp_keywords.evaluation import parse_spec, split_specs

SAMPLE = Path(__file__).parents[3] / "datasets" / "sample_keywords"


def test_extract_plain_and_json_lines(tmp_path, capsys):
    docs = tmp_path / "docs.txt"
    docs.write_text("针对卷积神经网络的图像分类方法研究,卷积神经网络\n\n"
                    '{"id": 7, "text": "Deep learning on GPU clusters"}\n'
                    '{"id": 8, "text": ""}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    zhnlp_main(["keywords", "extract", "--method", "tfidf", "--top-k", "2", "--input", str(docs), "--output", str(out)])
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 3  # blank line skipped
    assert rows[1]["id"] == 7 and rows[2]["keywords"] == []
    assert all(len(r["keywords"]) <= 2 for r in rows) and rows[0]["keywords"]
    kw, score = rows[0]["keywords"][0]
    assert isinstance(kw, str) and isinstance(score, float)
    zhnlp_main(["keywords", "extract", "--method", "textrank", "--input", str(docs)])
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_evaluate_prints_one_table(tmp_path, capsys):
    out = tmp_path / "m.json"
    zhnlp_main(["keywords", "evaluate", "--data", str(SAMPLE / "test.tsv"),
                "--methods", "tfidf,tfidf[stopwords=default],textrank", "--output", str(out)])
    printed = capsys.readouterr().out
    assert "F1@5" in printed and "textrank" in printed and "tfidf[stopwords=default]" in printed
    metrics = json.loads(out.read_text(encoding="utf-8"))
    assert metrics["tfidf"]["documents"] == 6 and 0 < metrics["tfidf"]["r@10"] <= 1


def test_evaluate_carved_split_with_train_idf(tmp_path, capsys):
    zhnlp_main(["keywords", "evaluate", "--data", str(SAMPLE / "train.tsv"), "--split", "dev",
                "--methods", "tfidf[idf_corpus=train]"])
    assert "tfidf[idf_corpus=train]" in capsys.readouterr().out


def test_user_errors_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        zhnlp_main(["keywords", "extract", "--input", str(tmp_path / "missing.txt")])
    assert exc.value.code == 2 and "not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        zhnlp_main(["keywords", "evaluate", "--data", str(SAMPLE / "dev.tsv"), "--methods", "nope"])
    assert exc.value.code == 2 and "Unknown" in capsys.readouterr().err


def test_method_spec_parsing():
    assert split_specs("tfidf,keybert[a=1,2;b=x],tagger") == ["tfidf", "keybert[a=1,2;b=x]", "tagger"]
    assert parse_spec("keybert[diversity=0.3;diversity_method=max_sum;run=/r]") == (
        "keybert", {"diversity": 0.3, "diversity_method": "max_sum", "run": "/r"})
