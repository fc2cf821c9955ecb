"""Flattening of the sops metadata for the flat stores, and the Go value
formatting dotenv and INI use for non-string leaves."""

from __future__ import annotations

import pytest

from homelab_secrets.errors import ExitCode
from homelab_secrets.sops.model import Branch, Comment, GoTime, NilList, Uint64
from homelab_secrets.sops.stores import StoreError
from homelab_secrets.sops.stores.flatten import (
    check_metadata,
    flatten_metadata,
    format_float_g,
    go_sprint,
    go_time_string,
    unflatten_metadata,
    val_to_string,
)

METADATA = Branch(
    [
        ("shamir_threshold", 2),
        (
            "key_groups",
            [
                Branch(
                    [
                        ("hc_vault", NilList()),
                        ("age", [Branch([("recipient", "r1"), ("enc", "a\nb\n")])]),
                    ]
                ),
                Branch([("hc_vault", NilList()), ("age", [])]),
            ],
        ),
        ("lastmodified", "2026-11-29T16:02:36Z"),
        ("mac", "ENC[x]"),
        ("mac_only_encrypted", True),
        ("version", "3.11.0"),
    ]
)


def test_flatten_joins_maps_and_lists_sorts_and_escapes_newlines() -> None:
    assert flatten_metadata(METADATA) == [
        ("key_groups__list_0__map_age__list_0__map_enc", "a\\nb\\n"),
        ("key_groups__list_0__map_age__list_0__map_recipient", "r1"),
        ("lastmodified", "2026-11-29T16:02:36Z"),
        ("mac", "ENC[x]"),
        ("mac_only_encrypted", "true"),
        ("shamir_threshold", "2"),
        ("version", "3.11.0"),
    ]


def test_nulls_and_empty_containers_disappear() -> None:
    metadata = Branch([("a", None), ("b", NilList()), ("c", []), ("d", Branch()), ("e", "")])
    assert flatten_metadata(metadata) == [("e", "")]


def test_unflatten_restores_the_nested_shape_and_decodes_non_strings() -> None:
    flat = dict(flatten_metadata(METADATA))
    assert unflatten_metadata(flat) == {
        "key_groups": [{"age": [{"enc": "a\nb\n", "recipient": "r1"}]}],
        "lastmodified": "2026-11-29T16:02:36Z",
        "mac": "ENC[x]",
        "mac_only_encrypted": True,
        "shamir_threshold": 2,
        "version": "3.11.0",
    }


def test_unflatten_leaves_holes_for_missing_list_items() -> None:
    assert unflatten_metadata({"age__list_2__map_recipient": "r"}) == {
        "age": [None, None, {"recipient": "r"}]
    }


def test_unflatten_tokenizes_like_sops() -> None:
    # a leading separator gives an empty first key; a bad index is 0 (Atoi's error ignored)
    assert unflatten_metadata({"__map_x": "1"}) == {"": {"x": "1"}}
    assert unflatten_metadata({"age__list_x__map_enc": "e"}) == {"age": [{"enc": "e"}]}
    assert unflatten_metadata({"a__map_b__map_c": "v", "a__map_d": "w"}) == {
        "a": {"b": {"c": "v"}, "d": "w"}
    }


def test_conflicting_flat_keys_fail_instead_of_crashing() -> None:
    with pytest.raises(StoreError, match="conflicts"):
        unflatten_metadata({"age": "x", "age__list_0__map_enc": "e"})


@pytest.mark.parametrize(
    ("text", "value"), [("true", True), ("True", False), ("1", False), ("", False)]
)
def test_mac_only_encrypted_is_true_only_for_true(text: str, value: bool) -> None:
    assert unflatten_metadata({"mac_only_encrypted": text})["mac_only_encrypted"] is value


@pytest.mark.parametrize("text", ["two", "1.5", "", "99999999999999999999"])
def test_shamir_threshold_must_be_an_integer(text: str) -> None:
    with pytest.raises(StoreError, match="shamir_threshold is not an integer") as info:
        unflatten_metadata({"shamir_threshold": text})
    assert info.value.exit_code == ExitCode.ERROR_GENERIC


def test_check_metadata_canonicalizes_names_and_drops_unknown_fields() -> None:
    raw = {"VERSION": "3.11.0", "Age": [{"Recipient": "r", "ENC": "e", "x": 1}], "extra": 5}
    assert check_metadata(raw, root="sops") == {
        "version": "3.11.0",
        "age": [{"recipient": "r", "enc": "e"}],
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"version": 3},
            "cannot unmarshal number into Go struct field Metadata.version of type string",
        ),
        (
            {"age": "x"},
            "cannot unmarshal string into Go struct field Metadata.age of type []stores.agekey",
        ),
        (
            {"age": [{"enc": 5}]},
            "cannot unmarshal number into Go struct field agekey.age.enc of type string",
        ),
        (
            {"key_groups": [{"hckms": 5}]},
            "cannot unmarshal number into Go struct field keygroup.key_groups.hckms of type "
            "[]stores.hckmskey",
        ),
        (
            {"kms": [{"context": {"a": 5}}]},
            "cannot unmarshal number into Go struct field kmskey.kms.context of type string",
        ),
        (
            {"shamir_threshold": True},
            "cannot unmarshal bool into Go struct field Metadata.shamir_threshold",
        ),
        (
            {"mac_only_encrypted": "true"},
            "cannot unmarshal string into Go struct field Metadata.mac_only",
        ),
        ({"mac": 1, "version": 2}, "Metadata.mac of type string"),  # the first error wins
    ],
)
def test_check_metadata_reports_go_type_errors(raw: dict[str, object], message: str) -> None:
    with pytest.raises(StoreError) as info:
        check_metadata(raw, root="")
    assert message in info.value.message
    assert info.value.exit_code == ExitCode.ERROR_GENERIC


def test_check_metadata_accepts_nulls_everywhere() -> None:
    raw = {"version": None, "age": [None, {"enc": None}], "kms": [{"context": {"a": None}}]}
    assert check_metadata(raw, root="") == raw


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1.0"),
        (-0.0, "-0.0"),
        (1.5, "1.5"),
        (1e6, "1E+06"),
        (123456.0, "123456.0"),
        (1234567.0, "1.234567E+06"),
        (0.0001, "0.0001"),
        (0.000012, "1.2E-05"),
        (1e-7, "1E-07"),
        (1e300, "1E+300"),
        (float("nan"), "NaN"),
        (float("-inf"), "-Inf"),
        (42, "42"),
        (Uint64(18446744073709551615), "18446744073709551615"),
        (True, "true"),
        (None, "<nil>"),
        ("s", "s"),
        (b"raw\xff", "raw\udcff"),
        (GoTime("2001-12-14T21:59:43.123456789Z"), "2001-12-14T21:59:43Z"),
        (GoTime("2001-12-14T21:59:43+05:30"), "2001-12-14T21:59:43+05:30"),
    ],
)
def test_val_to_string_matches_sops(value: object, text: str) -> None:
    assert val_to_string(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ([1, "a", Branch([("k", "v")])], "[1 a [{k v}]]"),
        (Branch([("k", "v"), ("j", [1])]), "[{k v} {j [1]}]"),
        (Branch([(Comment(" c"), None)]), "[{{ c} <nil>}]"),
        ([], "[]"),
        ([1e6, 123456789.0, 100000.0, -0.0], "[1e+06 1.23456789e+08 100000 -0]"),
    ],
)
def test_go_sprint_prints_containers_like_fmt(value: object, text: str) -> None:
    assert go_sprint(value) == text


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("2001-12-14T00:00:00Z", "2001-12-14 00:00:00 +0000 UTC"),
        ("2001-12-14T21:59:43.1-05:00", "2001-12-14 21:59:43.1 -0500 -0500"),
        ("2001-12-14T21:59:43.120Z", "2001-12-14 21:59:43.12 +0000 UTC"),
    ],
)
def test_time_string_is_go_time_string(text: str, printed: str) -> None:
    assert go_time_string(GoTime(text)) == printed


def test_format_float_g_switches_to_exponent_at_1e6_and_below_1e4() -> None:
    assert [format_float_g(x) for x in (999999.0, 1e6, 0.0001, 0.00001, 5e-324)] == [
        "999999",
        "1e+06",
        "0.0001",
        "1e-05",
        "5e-324",
    ]
