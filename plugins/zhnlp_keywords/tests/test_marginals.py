"""CRF span marginals against brute-force enumeration of every tag path."""
import itertools

import torch

from zhnlp_keywords.marginals import NEG, forward_backward, span_log_marginals

O, B, I = 0, 1, 2


def brute_force(e, s, tr, en, n, allowed, max_len):
    paths = list(itertools.product(range(3), repeat=n))

    def score(p):
        total = s[p[0]] + e[0, p[0]]
        for t in range(1, n):
            total = total + tr[p[t - 1], p[t]] + e[t, p[t]]
        return total + en[p[-1]]

    scores = torch.stack([score(p) for p in paths])
    log_z = torch.logsumexp(scores, 0)
    out = {}
    for a in range(n):
        for length in range(max_len):
            b = a + length
            if b >= n or not all(allowed[a:b + 1]):
                continue
            hits = [sc for p, sc in zip(paths, scores)
                    if p[a] == B and all(p[t] == I for t in range(a + 1, b + 1)) and (b + 1 >= n or p[b + 1] != I)]
            out[(a, length)] = torch.logsumexp(torch.stack(hits), 0) - log_z
    return log_z, out


def test_span_marginals_match_brute_force():
    torch.manual_seed(0)
    T, max_len = 5, 4
    e = torch.randn(3, T, 3, dtype=torch.float64)
    s, tr, en = torch.randn(3, dtype=torch.float64), torch.randn(3, 3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    tr[O, I] = -1e4  # a constrained transition, as the head passes them
    lengths = [5, 3, 1]
    mask = torch.tensor([[t < n for t in range(T)] for n in lengths])
    allowed = mask.clone()
    allowed[0, 0] = False  # e.g. [CLS]
    log_m = span_log_marginals(e, mask, s, tr, en, B, I, max_len, allowed)
    _, _, log_z = forward_backward(e, mask, s, tr, en)
    for r, n in enumerate(lengths):
        ref_z, ref = brute_force(e[r], s, tr, en, n, allowed[r].tolist(), max_len)
        torch.testing.assert_close(log_z[r], ref_z)
        for a in range(T):
            for length in range(max_len):
                if (a, length) in ref:
                    torch.testing.assert_close(log_m[r, a, length], ref[(a, length)])
                else:
                    assert log_m[r, a, length] == NEG


def test_probabilities_and_empty_batch():
    torch.manual_seed(1)
    e = torch.randn(1, 6, 3)
    mask = torch.ones(1, 6, dtype=torch.bool)
    p = span_log_marginals(e, mask, torch.zeros(3), torch.zeros(3, 3), torch.zeros(3), B, I, 6).exp()
    assert ((p >= 0) & (p <= 1 + 1e-5)).all()
    # expected number of spans starting at t equals P(tag_t = B) <= 1
    assert (p.sum(2) <= 1 + 1e-5).all()
    empty = span_log_marginals(torch.zeros(2, 0, 3), torch.zeros(2, 0, dtype=torch.bool), torch.zeros(3),
                               torch.zeros(3, 3), torch.zeros(3), B, I, 4)
    assert empty.shape == (2, 0, 4)
