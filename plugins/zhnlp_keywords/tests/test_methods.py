"""Each extraction method on handmade texts: top_k, sorted scores, empty / short / non-Chinese /
very long input, through ``zhnlp.keywords`` and the registered builders."""
import pytest

import zhnlp
from zhnlp.errors import ConfigError
from zhnlp_keywords.methods import build_keybert, build_textrank, build_tfidf

DOC = ("针对卷积神经网络在图像分类中容易过拟合的问题,提出一种结合注意力机制的图像分类方法."
       "该方法在卷积神经网络中引入注意力机制,实验表明图像分类准确率明显提升. 基于注意力机制的图像分类")
TEXTS = [DOC, "", "   ", "Deep learning accelerates protein structure prediction on GPU clusters.", "图像"]


def check(result, texts, top_k):
    assert len(result) == len(texts)
    for text, keywords in zip(texts, result):
        assert len(keywords) <= top_k
        scores = [s for _, s in keywords]
        assert scores == sorted(scores, reverse=True)
        assert all(isinstance(k, str) and k and isinstance(s, float) for k, s in keywords)
        if not text.strip():
            assert keywords == []


@pytest.mark.parametrize("method", ["tfidf", "textrank"])
def test_jieba_methods(method):
    for top_k in (1, 3, 10):
        result = zhnlp.keywords(TEXTS, method=method, top_k=top_k)
        check(result, TEXTS, top_k)
    top = zhnlp.keywords(DOC, method=method, top_k=3)  # a single string gives one list
    assert {k for k, _ in top} & {"图像", "分类", "注意力", "机制", "卷积", "神经网络"}
    assert zhnlp.keywords([], method=method) == []


def test_tfidf_non_chinese_and_short_documents():
    out = build_tfidf()(TEXTS, top_k=5)
    assert {"protein", "GPU"} & {k for k, _ in out[3]}
    assert [k for k, _ in out[4]] == ["图像"]  # fewer candidates than top_k: all of them


def test_very_long_document_is_not_truncated():
    long_doc = "。" * 100_000 + "量子退火算法"  # the only words are at the very end
    for method in (build_tfidf(), build_textrank()):
        assert {k for k, _ in method([long_doc], top_k=3)[0]} & {"量子", "退火", "算法"}


def test_bad_arguments():
    with pytest.raises(ConfigError):
        build_tfidf()(TEXTS, top_k=0)
    with pytest.raises(ConfigError):
        build_tfidf()([1, 2], top_k=3)
    with pytest.raises(ConfigError):
        build_textrank(window=1)
    with pytest.raises(ConfigError, match="needs an encoder"):
        build_keybert()
    with pytest.raises(ConfigError, match="run=RUN_DIR"):
        zhnlp.keywords(["x"], method="tagger")


def test_keybert_with_an_encoder_module(toy_encoder):
    extractor = build_keybert(encoder=toy_encoder, diversity_method="mmr", diversity=0.3)
    for top_k in (1, 3, 8):
        out = extractor(TEXTS, top_k=top_k)
        check(out, TEXTS, top_k)
    out = extractor(TEXTS, top_k=5)
    assert out[0] and out[3]
    # a one-word document: its only candidate is the document itself (cosine 1)
    assert [k for k, _ in out[4]] == ["图像"] and out[4][0][1] == pytest.approx(1.0, abs=1e-5)


def test_keybert_chunks_long_documents(toy_encoder):
    from zhnlp_keywords.embedding import encode_texts

    toy_encoder.max_length = 18  # 16 chars per chunk
    text = "图像分类" * 50 + "量子计算机"
    enc = encode_texts(toy_encoder, [text])[0]
    assert len(enc.spans) == len(text)  # every char embedded once, none truncated
    assert enc.spans == [(i, i + 1) for i in range(len(text))]
    assert max(len(t) for t in toy_encoder.tokenizer.calls) <= 16
    out = build_keybert(encoder=toy_encoder, diversity_method="cosine")([text], top_k=3)[0]
    assert out and out[0][0] in {"图像分类", "图像", "分类"}


def test_keybert_with_a_registered_pretrained_encoder(tmp_path):
    """The documented offline path: encoder=NAME + encoder_kwargs={"pretrained": dir}."""
    from zhnlp.registry import get

    kwargs = get("encoders", "bert_wwm").example_kwargs(tmp_path)  # tiny random checkpoint, hub layout
    extractor = build_keybert(encoder="bert_wwm", encoder_kwargs=kwargs, diversity_method="max_sum")
    long_doc = DOC * 8  # longer than the tiny checkpoint's 128 positions: chunked
    out = extractor([DOC, long_doc, ""], top_k=4)
    check(out, [DOC, long_doc, ""], 4)
    assert out[0] and out[1]


def test_keybert_rejects_an_unfitted_scratch_encoder():
    with pytest.raises(ConfigError, match="run=RUN_DIR"):
        build_keybert(encoder="char")
