"""Viterbi / partition function against brute force and pytorch-crf; constraints; export."""
from __future__ import annotations

import io
import itertools

import pytest
import torch
from torchcrf import CRF

from zhnlp_ner.schemes import build_tags, is_valid_sequence, transition_constraints
from zhnlp_ner.viterbi import ConstrainedViterbi, log_partition, path_score, viterbi_decode


def random_crf(num_tags: int, seed: int) -> CRF:
    torch.manual_seed(seed)
    crf = CRF(num_tags, batch_first=True)
    for p in crf.parameters():
        torch.nn.init.normal_(p, std=1.0)
    return crf


def random_inputs(batch: int, seq_len: int, num_tags: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    emissions = torch.randn(batch, seq_len, num_tags, generator=g) * 2
    lengths = torch.randint(1, seq_len + 1, (batch,), generator=g)
    lengths[0] = seq_len
    mask = torch.arange(seq_len)[None, :] < lengths[:, None]
    return emissions, mask, lengths


def brute_force(emissions, length, start, trans, end, allowed=None):
    """(best path, best score, log Z) over all tag paths of one row by enumeration."""
    num_tags = emissions.size(-1)
    start, trans, end = start.detach(), trans.detach(), end.detach()
    best, best_score, scores = None, float("-inf"), []
    for path in itertools.product(range(num_tags), repeat=length):
        if allowed is not None and not allowed(path):
            continue
        s = start[path[0]] + emissions[0, path[0]]
        for t in range(1, length):
            s = s + trans[path[t - 1], path[t]] + emissions[t, path[t]]
        s = float(s + end[path[-1]])
        scores.append(s)
        if s > best_score:
            best, best_score = list(path), s
    return best, best_score, float(torch.logsumexp(torch.tensor(scores, dtype=torch.float64), 0))


def test_viterbi_matches_brute_force_and_partition():
    for seed in range(6):
        crf = random_crf(3, seed)
        emissions, mask, lengths = random_inputs(4, 5, 3, seed)
        args = (crf.start_transitions, crf.transitions, crf.end_transitions)
        tags, scores = viterbi_decode(emissions, mask, *args)
        log_z = log_partition(emissions, mask, *args)
        for i in range(4):
            n = int(lengths[i])
            best, best_score, bf_log_z = brute_force(emissions[i], n, *args)
            assert tags[i, :n].tolist() == best
            assert (tags[i, n:] == -1).all()
            assert scores[i].item() == pytest.approx(best_score, abs=1e-4)
            assert log_z[i].item() == pytest.approx(bf_log_z, abs=1e-4)


def test_torchcrf_loglik_matches_brute_force():
    """The loss we use (pytorch-crf) with a masked batch equals score(gold) - log Z by enumeration."""
    crf = random_crf(3, 7)
    emissions, mask, lengths = random_inputs(4, 5, 3, 7)
    gold = torch.randint(0, 3, (4, 5), generator=torch.Generator().manual_seed(1))
    llh = crf(emissions, gold, mask=mask, reduction="none").detach()
    args = (crf.start_transitions.detach(), crf.transitions.detach(), crf.end_transitions.detach())
    ours = path_score(emissions, gold, mask, *args) - log_partition(emissions, mask, *args)
    for i in range(4):
        n = int(lengths[i])
        _, _, bf_log_z = brute_force(emissions[i], n, *args)
        g = gold[i, :n].tolist()
        s = args[0][g[0]] + emissions[i, 0, g[0]] + sum(args[1][g[t - 1], g[t]] + emissions[i, t, g[t]] for t in range(1, n))
        s = float(s + args[2][g[-1]])
        assert llh[i].item() == pytest.approx(s - bf_log_z, abs=1e-4)
        assert ours[i].item() == pytest.approx(s - bf_log_z, abs=1e-4)


def test_viterbi_equals_pytorch_crf_decode():
    for seed in range(30):
        num_tags = 2 + seed % 6
        crf = random_crf(num_tags, seed)
        emissions, mask, lengths = random_inputs(7, 1 + seed % 11, num_tags, seed + 100)
        expected = crf.decode(emissions, mask)
        tags, _ = viterbi_decode(emissions, mask, crf.start_transitions, crf.transitions, crf.end_transitions)
        assert [tags[i, : int(lengths[i])].tolist() for i in range(len(expected))] == expected


@pytest.mark.parametrize("scheme", ["BIO", "BIOES"])
def test_constrained_decoding_is_brute_force_over_valid_paths(scheme):
    tags = build_tags(["A", "B"], scheme)
    decoder = ConstrainedViterbi(*transition_constraints(tags, scheme))
    k = len(tags)
    length = 4 if scheme == "BIO" else 3
    for seed in range(4):
        crf = random_crf(k, seed)
        emissions, mask, lengths = random_inputs(3, length, k, seed)
        out, scores = decoder(emissions, mask, crf.start_transitions, crf.transitions, crf.end_transitions)
        for i in range(3):
            n = int(lengths[i])
            best, best_score, _ = brute_force(
                emissions[i], n, crf.start_transitions, crf.transitions, crf.end_transitions,
                allowed=lambda path: is_valid_sequence([tags[j] for j in path], scheme),
            )
            assert out[i, :n].tolist() == best
            assert scores[i].item() == pytest.approx(best_score, abs=1e-4)


@pytest.mark.parametrize("scheme", ["BIO", "BIOES"])
def test_constraints_never_produce_invalid_sequences(scheme):
    tags = build_tags(["PER", "LOC", "ORG"], scheme)
    decoder = ConstrainedViterbi(*transition_constraints(tags, scheme))
    g = torch.Generator().manual_seed(0)
    k = len(tags)
    # adversarial weights: invalid moves are strongly preferred
    start, trans, end = torch.randn(k, generator=g) * 50, torch.randn(k, k, generator=g) * 50, torch.randn(k, generator=g) * 50
    emissions = torch.randn(64, 12, k, generator=g) * 50
    lengths = torch.randint(1, 13, (64,), generator=g)
    mask = torch.arange(12)[None] < lengths[:, None]
    out, _ = decoder(emissions, mask, start, trans, end)
    unconstrained, _ = viterbi_decode(emissions, mask, start, trans, end)
    invalid_without = 0
    for i in range(64):
        n = int(lengths[i])
        assert is_valid_sequence([tags[j] for j in out[i, :n].tolist()], scheme)
        invalid_without += not is_valid_sequence([tags[j] for j in unconstrained[i, :n].tolist()], scheme)
    assert invalid_without > 0  # the test would catch a decoder that ignores the constraints


def exportable(scheme: str) -> tuple[list[str], torch.nn.Module]:
    """The crf head's standalone decoder, as a deployment would export it."""
    from zhnlp_ner.heads import build_crf

    head = build_crf(hidden_size=4, labels=["A", "B"], scheme=scheme)
    for p in head.crf.parameters():
        torch.nn.init.normal_(p, std=1.0)
    return head.tags, head.export_decoder().eval()


def test_torchscript_matches_eager():
    tags, module = exportable("BIOES")
    scripted = torch.jit.script(module)
    for seed, (b, t) in enumerate([(1, 1), (3, 7), (5, 13)]):
        emissions, mask, _ = random_inputs(b, t, len(tags), seed)
        assert torch.equal(scripted(emissions, mask), module(emissions, mask))
    fn = torch.jit.script(viterbi_decode)
    crf = random_crf(4, 0)
    emissions, mask, _ = random_inputs(3, 6, 4, 0)
    args = (crf.start_transitions, crf.transitions, crf.end_transitions)
    assert torch.equal(fn(emissions, mask, *args)[0], viterbi_decode(emissions, mask, *args)[0])


def test_onnx_export_runs_with_dynamic_shapes():
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    tags, module = exportable("BIO")
    emissions, mask, _ = random_inputs(2, 5, len(tags), 0)
    buffer = io.BytesIO()
    # The TorchScript-based exporter turns the time loops into ONNX Loop nodes (dynamic T).
    torch.onnx.export(
        torch.jit.script(module), (emissions, mask), buffer, input_names=["emissions", "mask"],
        output_names=["tags"], dynamic_axes={"emissions": {0: "B", 1: "T"}, "mask": {0: "B", 1: "T"}},
        dynamo=False,
    )
    session = ort.InferenceSession(buffer.getvalue())
    for seed, (b, t) in enumerate([(1, 1), (4, 9), (3, 17)]):
        emissions, mask, _ = random_inputs(b, t, len(tags), seed + 10)
        (out,) = session.run(None, {"emissions": emissions.numpy(), "mask": mask.numpy()})
        assert torch.equal(torch.from_numpy(out), module(emissions, mask))

