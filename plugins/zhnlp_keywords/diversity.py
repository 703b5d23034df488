"""Ranking candidates by cosine similarity to the document, plain or with diversity:
Maximal Marginal Relevance (MMR) and Max Sum Similarity (as in KeyBERT)."""
from __future__ import annotations

import itertools
import math

import torch

from zhnlp.errors import ConfigError

DIVERSITY_METHODS = ("cosine", "mmr", "max_sum")
MAX_SUM_COMBINATIONS = 20_000


def cosine_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(N, H), (M, H) -> (N, M) cosine similarities (zero vectors give 0)."""
    a = torch.nn.functional.normalize(a.float(), dim=-1)
    b = torch.nn.functional.normalize(b.float(), dim=-1)
    return a @ b.T


def select(doc: torch.Tensor, cands: torch.Tensor, top_k: int, method: str = "mmr", diversity: float = 0.5,
           nr_candidates: int = 20) -> list[int]:
    """Indices of the chosen candidates, best (most similar to the document) first.

    Args:
        doc: (H,) document embedding.
        cands: (M, H) candidate embeddings.
        top_k: how many to choose (fewer when there are fewer candidates).
        method: ``cosine`` (top-k by similarity), ``mmr`` or ``max_sum``.
        diversity: MMR's lambda in [0, 1]: 0 = plain cosine ranking, 1 = only novelty.
        nr_candidates: Max Sum Similarity picks the ``top_k`` least mutually similar among the
            ``nr_candidates`` most similar to the document (reduced so that the number of
            combinations stays below 20,000: brute force over them).

    Returns:
        candidate indices sorted by similarity to the document, descending.
    """
    if method not in DIVERSITY_METHODS:
        raise ConfigError(f"diversity method {method!r}: use one of {', '.join(DIVERSITY_METHODS)}.")
    m = cands.size(0)
    k = min(top_k, m)
    if k <= 0:
        return []
    sim_doc = cosine_matrix(cands, doc.unsqueeze(0)).squeeze(1)  # (M,)
    if method == "cosine" or k == 1:
        chosen = torch.argsort(sim_doc, descending=True, stable=True)[:k].tolist()
    elif method == "mmr":
        chosen = mmr(sim_doc, cosine_matrix(cands, cands), k, diversity)
    else:
        chosen = max_sum(sim_doc, cosine_matrix(cands, cands), k, nr_candidates)
    return sorted(chosen, key=lambda i: (-float(sim_doc[i]), i))


def mmr(sim_doc: torch.Tensor, sim_cand: torch.Tensor, k: int, diversity: float) -> list[int]:
    """Greedy MMR: next = argmax (1 - diversity) * sim(c, doc) - diversity * max_s sim(c, s)."""
    if not 0.0 <= diversity <= 1.0:
        raise ConfigError(f"diversity={diversity}: must be between 0 and 1.")
    chosen = [int(torch.argmax(sim_doc))]
    remaining = [i for i in range(sim_doc.numel()) if i != chosen[0]]
    while len(chosen) < k and remaining:
        rem = torch.tensor(remaining)
        redundancy = sim_cand[rem][:, chosen].max(dim=1).values  # (R,)
        score = (1 - diversity) * sim_doc[rem] - diversity * redundancy
        best = remaining[int(torch.argmax(score))]
        chosen.append(best)
        remaining.remove(best)
    return chosen


def max_sum(sim_doc: torch.Tensor, sim_cand: torch.Tensor, k: int, nr_candidates: int) -> list[int]:
    """The k of the top ``nr_candidates`` whose pairwise similarities sum lowest (ties: the
    combination found first, i.e. the more document-similar candidates)."""
    pool_size = max(k, min(nr_candidates, sim_doc.numel()))
    while pool_size > k and math.comb(pool_size, k) > MAX_SUM_COMBINATIONS:
        pool_size -= 1
    pool = torch.argsort(sim_doc, descending=True, stable=True)[:pool_size]
    sub = sim_cand[pool][:, pool]  # (P, P)
    combos = torch.tensor(list(itertools.combinations(range(pool_size), k)), dtype=torch.long)  # (C, k)
    pairs = torch.tensor(list(itertools.combinations(range(k), 2)), dtype=torch.long)  # (k(k-1)/2, 2)
    totals = sub[combos[:, pairs[:, 0]], combos[:, pairs[:, 1]]].sum(dim=1)  # (C,)
    best = combos[int(torch.argmin(totals))]
    return pool[best].tolist()
