"""Span marginals of a linear-chain CRF with BIO tags: P(tokens a..b form one keyword span).

A span [a, b] is one keyword when the tag path has ``B`` at a, ``I`` at a+1..b and anything but
``I`` at b+1 (or b is the last position). Its probability is a sum over all such paths, computed
exactly with the forward-backward algorithm:

    log P = alpha[a, B] + chain(a, b) + beta_excl[b, tag_b] - log Z

where ``alpha`` is the forward score (prefix paths, emission at a included), ``chain`` the
transition + emission scores of the ``I`` steps, and ``beta_excl`` the backward score of every
suffix whose first tag is not ``I``. Tested against brute-force enumeration of all tag paths.
"""
from __future__ import annotations

import torch

NEG = -1.0e4  # stands in for -inf (keeps logsumexp and differences finite)


def forward_backward(emissions: torch.Tensor, mask: torch.Tensor, start: torch.Tensor,
                     transitions: torch.Tensor, end: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Forward and backward log scores.

    Args:
        emissions: (B, T, K).
        mask: (B, T) bool, left-aligned; rows may be all False (empty texts).
        start: (K,) start transition scores.
        transitions: (K, K) from (row) -> to (column) scores.
        end: (K,) end transition scores.

    Returns:
        alpha (B, T, K): log sum over prefixes ending in tag k at t (emission at t included);
        beta (B, T, K): log sum over suffixes after t given tag k at t (end score included);
        log_z (B,). Values at padded positions are carried over and must not be used.
    """
    batch, length, _ = emissions.shape
    alpha = [start + emissions[:, 0]]  # (B, K)
    for t in range(1, length):
        step = torch.logsumexp(alpha[-1].unsqueeze(2) + transitions + emissions[:, t].unsqueeze(1), dim=1)  # (B, K)
        alpha.append(torch.where(mask[:, t].unsqueeze(1), step, alpha[-1]))
    end_row = end.unsqueeze(0).expand(batch, -1)  # (B, K)
    beta = [end_row]
    for t in range(length - 2, -1, -1):
        # (K_from, K_to) + (B, 1, K_to) -> logsumexp over K_to -> (B, K_from)
        step = torch.logsumexp(transitions + (emissions[:, t + 1] + beta[-1]).unsqueeze(1), dim=2)
        beta.append(torch.where(mask[:, t + 1].unsqueeze(1), step, end_row))
    alpha_t = torch.stack(alpha, dim=1)  # (B, T, K)
    beta_t = torch.stack(beta[::-1], dim=1)  # (B, T, K)
    last = (mask.long().sum(1) - 1).clamp(min=0)  # (B,)
    final = alpha_t[torch.arange(batch), last] + end  # (B, K)
    return alpha_t, beta_t, torch.logsumexp(final, dim=1)


def span_log_marginals(emissions: torch.Tensor, mask: torch.Tensor, start: torch.Tensor,
                       transitions: torch.Tensor, end: torch.Tensor, b_tag: int, i_tag: int,
                       max_len: int, allowed: torch.Tensor | None = None) -> torch.Tensor:
    """log P(span of ``l + 1`` tokens starting at ``a`` is one B I* span), for every (a, l).

    Args:
        emissions, mask, start, transitions, end: as in :func:`forward_backward`.
        b_tag, i_tag: ids of the ``B`` and ``I`` tags.
        max_len: longest span considered, in tokens.
        allowed: (B, T) bool; a span must lie wholly on allowed tokens (e.g. not on [CLS]/[SEP]).
            Default: ``mask``.

    Returns:
        (B, T, max_len) log marginals; ``NEG`` where the span is invalid (past the end of the
        row, on a token that is not allowed).
    """
    batch, length, num_tags = emissions.shape
    if length == 0:
        return emissions.new_full((batch, 0, max_len), NEG)
    allowed = mask if allowed is None else (allowed & mask)
    alpha, beta, log_z = forward_backward(emissions, mask, start, transitions, end)
    # beta_excl[:, t, y]: suffixes after t whose first tag (at t + 1) is not I, given tag y at t.
    not_i = torch.ones(num_tags, dtype=torch.bool, device=emissions.device)
    not_i[i_tag] = False
    nxt = (emissions[:, 1:] + beta[:, 1:]).masked_fill(~not_i, NEG)  # (B, T-1, K_to)
    excl = torch.logsumexp(transitions.unsqueeze(0).unsqueeze(0) + nxt.unsqueeze(2), dim=3)  # (B, T-1, K_from)
    excl = torch.cat([excl, end.expand(batch, 1, num_tags)], dim=1)  # (B, T, K)
    has_next = torch.cat([mask[:, 1:], mask.new_zeros(batch, 1)], dim=1)  # (B, T)
    beta_excl = torch.where(has_next.unsqueeze(2), excl, end.expand(batch, length, num_tags))  # (B, T, K)

    chain_step = transitions[i_tag, i_tag] + emissions[:, :, i_tag]  # (B, T): I -> I at t
    prefix = torch.cumsum(chain_step, dim=1)  # (B, T), inclusive
    first_i = transitions[b_tag, i_tag] + emissions[:, :, i_tag]  # (B, T): B -> I at t

    starts = torch.arange(length, device=emissions.device)  # (T,)
    lens = torch.arange(max_len, device=emissions.device)  # (L,)
    ends = starts.unsqueeze(1) + lens.unsqueeze(0)  # (T, L)
    in_range = ends < length
    ends_c = ends.clamp(max=length - 1)
    a1 = (starts + 1).clamp(max=length - 1)  # (T,)
    rows = torch.arange(batch, device=emissions.device)[:, None, None]

    # chain(a, b) = first_i[a + 1] + prefix[b] - prefix[a + 1] for b > a, 0 for b == a
    chain = first_i[:, a1].unsqueeze(2) + prefix[rows, ends_c.unsqueeze(0)] - prefix[:, a1].unsqueeze(2)  # (B, T, L)
    chain = torch.where((lens > 0).view(1, 1, -1), chain, torch.zeros_like(chain))
    last_tag = torch.where(lens > 0, torch.full_like(lens, i_tag), torch.full_like(lens, b_tag))  # (L,)
    tail = beta_excl[rows, ends_c.unsqueeze(0), last_tag.view(1, 1, -1)]  # (B, T, L)
    log_m = alpha[:, :, b_tag].unsqueeze(2) + chain + tail - log_z.view(-1, 1, 1)

    # valid: every token of [a, b] allowed (count of disallowed tokens in the span is 0)
    bad = torch.cumsum((~allowed).long(), dim=1)  # (B, T), inclusive
    bad_before = torch.cat([bad.new_zeros(batch, 1), bad[:, :-1]], dim=1)  # (B, T)
    span_bad = bad[rows, ends_c.unsqueeze(0)] - bad_before.unsqueeze(2)  # (B, T, L)
    valid = in_range.unsqueeze(0) & (span_bad == 0) & allowed.unsqueeze(2)
    return log_m.masked_fill(~valid, NEG)
