"""Cosine / MMR / Max Sum Similarity on constructed cases, and brute force for Max Sum."""
import itertools

import torch

from zhnlp_keywords.diversity import cosine_matrix, select
from zhnlp_keywords.keybert import KeyBertExtractor


def constructed():
    doc = torch.tensor([1.0, 1.0, 0.0])
    cands = torch.tensor([
        [1.0, 0.9, 0.0],    # 0: closest to the document
        [1.0, 0.88, 0.02],  # 1: near-duplicate of 0
        [0.0, 1.0, 0.3],    # 2: less similar, but different
        [0.0, 0.0, 1.0],    # 3: unrelated
    ])
    return doc, cands


def test_mmr_trades_similarity_for_diversity():
    doc, cands = constructed()
    assert select(doc, cands, 2, "cosine") == [0, 1]
    assert select(doc, cands, 2, "mmr", diversity=0.0) == [0, 1]  # lambda 0 = plain cosine
    assert select(doc, cands, 2, "mmr", diversity=0.5) == [0, 2]  # the near-duplicate is skipped
    pair = select(doc, cands, 2, "max_sum", nr_candidates=3)
    assert 2 in pair and set(pair) != {0, 1}  # never the two near-duplicates together
    assert select(doc, cands, 10, "mmr") and len(select(doc, cands, 10, "mmr")) == 4
    assert select(doc, cands[:0], 3, "mmr") == []


def test_max_sum_is_the_least_similar_combination():
    torch.manual_seed(0)
    doc, cands = torch.randn(8), torch.randn(12, 8)
    got = select(doc, cands, 3, "max_sum", nr_candidates=7)
    sim_doc = cosine_matrix(cands, doc.unsqueeze(0)).squeeze(1)
    pool = torch.argsort(sim_doc, descending=True)[:7].tolist()
    sim = cosine_matrix(cands, cands)
    best = min(itertools.combinations(pool, 3), key=lambda c: sum(float(sim[a, b]) for a, b in itertools.combinations(c, 2)))
    assert sorted(got) == sorted(best)
    assert [float(sim_doc[i]) for i in got] == sorted((float(sim_doc[i]) for i in got), reverse=True)


def test_mmr_in_the_extractor(toy_encoder):
    """Bag-of-chars embeddings: 图像 repeats half of 图像分类; MMR takes 神经网络 instead."""
    text = "图像分类方法 图像分类方法 图像分类 图像分类 神经网络"
    plain = KeyBertExtractor(encoder=toy_encoder, diversity_method="cosine")
    diverse = KeyBertExtractor(encoder=toy_encoder, diversity_method="mmr", diversity=0.7)
    assert set(plain.candidates(text)) == {"图像", "图像分类", "分类", "神经网络"}  # 方法 is a stopword
    assert [k for k, _ in plain([text], top_k=2)[0]] == ["图像分类", "图像"]
    assert [k for k, _ in diverse([text], top_k=2)[0]] == ["图像分类", "神经网络"]
