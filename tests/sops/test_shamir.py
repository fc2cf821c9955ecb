"""Shamir over GF(2^8) with sops' share layout (x as the 33rd byte)."""

from __future__ import annotations

import itertools
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homelab_secrets.sops.keys import shamir


def test_field_arithmetic_matches_sops_known_answers():
    # sops shamir/shamir_test.go
    assert shamir.mul(3, 7) == 9
    assert shamir.div(6, 3) == 2
    assert 3 ^ 4 == 7  # add is XOR


def test_shares_are_33_bytes_with_sequential_x_last():
    shares = shamir.split(os.urandom(32), 3, 2)
    assert [len(s) for s in shares] == [33, 33, 33]
    assert [s[-1] for s in shares] == [1, 2, 3]


@given(st.binary(min_size=1, max_size=40), st.integers(2, 6), st.data())
@settings(max_examples=60)
def test_any_threshold_subset_recovers_the_secret(secret, threshold, data):
    parts = data.draw(st.integers(threshold, 7))
    shares = shamir.split(secret, parts, threshold)
    for subset in itertools.combinations(shares, threshold):
        assert shamir.combine(list(subset)) == secret
    assert shamir.combine(shares) == secret


def test_one_share_short_of_the_threshold_gives_garbage():
    secret = os.urandom(32)
    shares = shamir.split(secret, 3, 3)
    assert shamir.combine(shares[:2]) != secret


@pytest.mark.parametrize(
    ("parts", "threshold", "message"),
    [(3, 1, "at least 2"), (2, 3, "less than threshold"), (256, 2, "exceed 255")],
)
def test_bad_parameters_are_refused(parts, threshold, message):
    with pytest.raises(shamir.ShamirError, match=message):
        shamir.split(b"x" * 32, parts, threshold)


def test_combine_refuses_duplicate_and_uneven_parts():
    shares = shamir.split(b"x" * 32, 3, 2)
    with pytest.raises(shamir.ShamirError, match="duplicate"):
        shamir.combine([shares[0], shares[0]])
    with pytest.raises(shamir.ShamirError, match="same length"):
        shamir.combine([shares[0], shares[1][:-2] + shares[1][-1:]])
