"""Tag sets, span decoding with conlleval repairs, transition constraints."""
from __future__ import annotations

import itertools

import pytest

from zhnlp.errors import ConfigError
from zhnlp_ner.schemes import (
    build_tags, decode_roles, is_valid_sequence, spans_to_tags, split_tag, tags_to_spans, transition_constraints,
)


def test_build_tags_order():
    assert build_tags(["LOC", "PER"], "BIO") == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    assert build_tags(["X"], "bioes") == ["O", "B-X", "I-X", "E-X", "S-X"]
    assert build_tags(["X"], "BMES") == ["O", "B-X", "I-X", "E-X", "S-X"]
    with pytest.raises(ConfigError, match="BIO or BIOES"):
        build_tags(["X"], "IOX")


def test_split_tag_errors():
    assert split_tag("B-PER.NAM") == ("B", "PER.NAM")
    assert split_tag("M-ORG") == ("M", "ORG")
    for bad, msg in [("X-PER", "unknown prefix"), ("B-", "no entity type"), ("PER", "no '-'"), ("B", "no '-'")]:
        with pytest.raises(ValueError, match=msg):
            split_tag(bad)


def test_bio_decoding_and_repairs():
    tags = "B-A I-A O I-B I-B B-A B-A I-B".split()
    spans, repairs, first = tags_to_spans(tags, strict_end=False)
    assert spans == [("A", 0, 1), ("B", 3, 4), ("A", 5, 5), ("A", 6, 6), ("B", 7, 7)]
    assert (repairs, first) == (2, 3)  # I-B after O, I-B after B-A


def test_bioes_and_bmes_decoding():
    tags = "B-A M-A E-A S-B O B-A E-A".split()
    assert tags_to_spans(tags, strict_end=True) == ([("A", 0, 2), ("B", 3, 3), ("A", 5, 6)], 0, -1)
    # unterminated B-A ... O, and E-B without B: both repaired and counted
    spans, repairs, first = tags_to_spans("B-A I-A O E-B".split(), strict_end=True)
    assert spans == [("A", 0, 1), ("B", 3, 3)]
    assert (repairs, first) == (2, 1)


def test_spans_to_tags_round_trip():
    spans = [("A", 0, 1), ("B", 2, 2), ("A", 3, 3), ("A", 4, 6)]
    for scheme in ("BIO", "BIOES"):
        tags = spans_to_tags(spans, 8, scheme)
        assert is_valid_sequence(tags, scheme)
        assert tags_to_spans(tags, scheme == "BIOES")[:2] == (spans, 0)
    assert spans_to_tags(spans, 8, "BIOES") == "B-A E-A S-B S-A B-A I-A E-A O".split()


@pytest.mark.parametrize("scheme", ["BIO", "BIOES"])
def test_valid_sequences_are_exactly_those_without_repairs(scheme):
    tags = build_tags(["A", "B"], scheme)
    for length in (1, 2, 3):
        for seq in itertools.product(tags, repeat=length):
            _, repairs, _ = tags_to_spans(seq, strict_end=scheme == "BIOES")
            assert is_valid_sequence(list(seq), scheme) == (repairs == 0), seq


def test_transition_constraints_bio():
    tags = build_tags(["A", "B"], "BIO")
    start, trans, end = transition_constraints(tags, "BIO")
    idx = {t: i for i, t in enumerate(tags)}
    assert start.tolist() == [True, True, False, True, False]
    assert end.all()
    assert not trans[idx["O"], idx["I-A"]]
    assert not trans[idx["B-A"], idx["I-B"]]
    assert trans[idx["B-A"], idx["I-A"]] and trans[idx["I-A"], idx["I-A"]] and trans[idx["I-A"], idx["B-B"]]


def test_roles_none_is_outside():
    assert decode_roles([None, ("B", "X"), ("I", "X"), None], strict_end=False) == ([("X", 1, 2)], 0, -1)
