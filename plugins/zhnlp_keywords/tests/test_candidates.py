"""KeyBERT candidates: noun POS filter, stopwords, n-grams of adjacent candidates, user dictionary."""
from zhnlp_keywords.candidates import candidate_spans, group_candidates
from zhnlp_keywords.methods import build_tfidf
from zhnlp_keywords.text import load_stopwords


def test_nouns_phrases_and_stopwords():
    text = "本文研究卷积神经网络的图像分类方法"
    groups = group_candidates(candidate_spans(text, stopwords=load_stopwords(), max_ngram=3))
    assert {"卷积", "神经网络", "卷积神经网络", "图像", "分类", "图像分类"} <= set(groups)
    assert not {"本文", "研究", "方法", "的"} & set(groups)  # stopwords and non-nouns
    assert all(text[s:e] == surface for occ in groups.values() for surface, s, e in occ)
    singles = group_candidates(candidate_spans(text, stopwords=load_stopwords(), max_ngram=1))
    assert "卷积神经网络" not in singles and "卷积" in singles


def test_latin_phrases_keep_their_spaces_and_group_by_normalised_form():
    text = "Deep Learning 与 deep learning 以及 ＧＰＵ"
    groups = group_candidates(candidate_spans(text))
    assert [s for s, _, _ in groups["deep learning"]] == ["Deep Learning", "deep learning"]
    assert "gpu" in groups


def test_user_dictionary_is_private(tmp_path):
    text = "量子退火机的量子退火机"
    assert "量子退火机" not in group_candidates(candidate_spans(text))
    user = tmp_path / "dict.txt"
    user.write_text("量子退火机 10 n\n", encoding="utf-8")
    assert "量子退火机" in group_candidates(candidate_spans(text, user_dict=str(user)))
    assert [k for k, _ in build_tfidf(user_dict=str(user))([text], top_k=1)[0]] == ["量子退火机"]
    assert "量子退火机" not in group_candidates(candidate_spans(text))  # jieba's global dictionary untouched
