"""The YAML loader builds the tree sops 3.11 builds (yaml.v3 v3.0.4 + store.go).

Four kinds of tests:

* tables: scalar types, comment placement, errors, metadata;
* fast path ≡ complete path: generated files in the block style sops writes
  must take the fast path and give exactly the complete path's tree;
* the real ``sops`` binary as oracle: sops encrypts an input with every value
  and comment encrypted; decrypting each ``ENC[…]`` of its output, in file
  order, with the path (AAD) our tree gives it must succeed and give the same
  type and plaintext, and sops' load errors must be ours;
* round trips with the emitter, byte for byte.
"""

from __future__ import annotations

import base64
import math
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from homelab_secrets.errors import ExitCode
from homelab_secrets.sops.model import Branch, Comment, GoTime, Uint64
from homelab_secrets.sops.stores import MetadataNotFound, StoreError, get_store
from homelab_secrets.sops.stores.yaml import emitter, fast
from homelab_secrets.sops.stores.yaml import load as yaml_load
from homelab_secrets.sops.stores.yaml.load import load_encrypted, load_plain
from support.sops_oracle import AgeKeyPair, requires_sops, run_sops

B = Branch
C = Comment


def only(data: bytes | str) -> Branch:
    """The single document of ``data``."""
    docs = load_plain(data.encode() if isinstance(data, str) else data)
    assert len(docs) == 1
    return docs[0]


def value(text: str) -> Any:
    """The value of ``v`` in ``v: <text>``."""
    return only(f"v: {text}\n").get("v")


def shape(x: Any) -> Any:
    """A comparable form of a tree (types kept, NaN equal to itself)."""
    if isinstance(x, Branch):
        return ("map", [(shape(k), shape(v)) for k, v in x])
    if isinstance(x, list):
        return ("seq", [shape(v) for v in x])
    if isinstance(x, Comment):
        return ("#", x.value)
    if isinstance(x, GoTime):
        return ("time", x.text)
    if isinstance(x, float) and math.isnan(x):
        return ("float", "nan")
    return (type(x).__name__, x)


def load_error(loader: Callable[[bytes], Any], data: bytes) -> StoreError:
    with pytest.raises(StoreError) as info:
        loader(data)
    return info.value


# ------------------------------------------------------------------------------ scalars


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("True", True),
        ("FALSE", False),
        ("yes", "yes"),
        ("No", "No"),
        ("on", "on"),
        ("y", "y"),
        ("~", None),
        ("null", None),
        ("Null", None),
        ("NULL", None),
        ("nULL", "nULL"),
        ("0x1F", 31),
        ("0X1f", 31),
        ("017", 15),
        ("0o17", 15),
        ("0b101", 5),
        ("-0b101", -5),
        ("1_000", 1000),
        ("+12", 12),
        ("-0", 0),
        ("08", 8.0),
        ("09.5", 9.5),
        ("1e10", 1e10),
        ("1E-7", 1e-7),
        ("-0.0", -0.0),
        (".5", 0.5),
        ("+.5", 0.5),
        ("1.", 1.0),
        ("1e400", "1e400"),
        ("0x", "0x"),
        ("9223372036854775807", 2**63 - 1),
        ("-9223372036854775808", -(2**63)),
        ("-9223372036854775809", -9.223372036854776e18),
        ("123456789012345678901234567890", 1.2345678901234568e29),
        ("1.2.3", "1.2.3"),
        ("+", "+"),
        (".", "."),
        (".inf", math.inf),
        ("-.Inf", -math.inf),
        ("+.INF", math.inf),
        (".Nan", ".Nan"),
        ("<<", "<<"),
        (
            "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]",
            "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]",
        ),
    ],
)
def test_plain_scalars_get_yaml_v3_types(text: str, expected: Any) -> None:
    got = value(text)
    assert shape(got) == shape(expected)


def test_ints_beyond_int64_are_uint64_which_sops_cannot_walk() -> None:
    got = value("18446744073709551615")
    assert isinstance(got, Uint64)
    assert got == 2**64 - 1
    assert shape(value("18446744073709551616")) == shape(1.8446744073709552e19)


def test_nan_is_a_float() -> None:
    got = value(".nan")
    assert isinstance(got, float)
    assert math.isnan(got)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2001-12-14", "2001-12-14T00:00:00Z"),
        ("2001-1-2", "2001-01-02T00:00:00Z"),
        ("2001-12-14t21:59:43.10-05:00", "2001-12-14T21:59:43.1-05:00"),
        ("2001-12-14T21:59:43Z", "2001-12-14T21:59:43Z"),
        ("2001-12-14T21:59:43+00:00", "2001-12-14T21:59:43Z"),
        ("2001-12-14 21:59:43.10", "2001-12-14T21:59:43.1Z"),
        ("2001-12-14T21:59:43.123456789123+02:30", "2001-12-14T21:59:43.123456789+02:30"),
        ("2000-02-29", "2000-02-29T00:00:00Z"),
    ],
)
def test_timestamps_become_go_times_in_marshaltext_form(text: str, expected: str) -> None:
    assert value(text) == GoTime(expected)


@pytest.mark.parametrize(
    "text",
    ["2001-12-14T21:59:43", "2001-02-29", "2001-13-01", "2001-12-14 21:59:43Z", "20011-01-01"],
)
def test_near_timestamps_are_strings(text: str) -> None:
    assert value(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"123"', "123"),
        ("'true'", "true"),
        ('"a\\tb\\u00e9\\U0001F600\\x41\\N\\_\\L"', "a\tbé\U0001f600A\x85\xa0\u2028"),
        ("'it''s'", "it's"),
        ("!!str 3", "3"),
        ('!!int "3"', 3),
        ("!!float 3", 3.0),
        ("!!int 0x10", 16),
        ("!!bool true", True),
        ("!!null ~", None),
        ("!!timestamp 2001-01-01", GoTime("2001-01-01T00:00:00Z")),
        ("!custom text", "text"),
        ("! 12", 12),
        ("!!binary aGVsbG8=", b"hello"),
        ("!<tag:yaml.org,2002:int> 5", 5),
    ],
)
def test_quoted_and_tagged_scalars(text: str, expected: Any) -> None:
    assert shape(value(text)) == shape(expected)


def test_block_scalars_follow_chomping_and_indentation_indicators() -> None:
    doc = only(
        "b1: |\n  l1\n  l2\n"
        "b2: |-\n  x\n"
        "b3: |+\n  x\n\n"
        "b4: >\n  a\n  b\n\n  c\n"
        "b5: |2\n    indented\n"
        "b6: >-\n  a\n   b\n  c\n"
        "b7: |\n  last line without newline"
    )
    assert doc == B(
        [
            ("b1", "l1\nl2\n"),
            ("b2", "x"),
            ("b3", "x\n\n"),
            ("b4", "a b\nc\n"),
            ("b5", "  indented\n"),
            ("b6", "a\n b\nc"),
            ("b7", "last line without newline"),
        ]
    )


def test_multi_line_plain_and_quoted_scalars_fold() -> None:
    doc = only("p: multi\n  line\n\n  para\nq: \"a\n  b\\\n  c\"\ns: 'x\n\n  y'\n")
    assert doc == B([("p", "multi line\npara"), ("q", "a bc"), ("s", "x\ny")])


def test_flow_collections() -> None:
    doc = only("f: {a: 1, b: [x, y]}\ng: [a, {b: c}, [d], {}]\n")
    assert doc == B(
        [("f", B([("a", 1), ("b", ["x", "y"])])), ("g", ["a", B([("b", "c")]), ["d"], B()])]
    )


def test_keys_keep_their_decoded_go_type() -> None:
    doc = only('1: a\ntrue: b\n~: c\n"2": d\n1.5: e\n2001-01-01: f\n')
    assert [shape(k) for k, _ in doc] == [
        ("int", 1),
        ("bool", True),
        ("NoneType", None),
        ("str", "2"),
        ("float", 1.5),
        ("time", "2001-01-01T00:00:00Z"),
    ]


def test_empty_values_are_null_and_empty_quotes_are_empty_strings() -> None:
    assert only("a:\nb: ~\nc: ''\nd: \"\"\n") == B([("a", None), ("b", None), ("c", ""), ("d", "")])


def test_a_bad_explicit_tag_fails_the_first_document_and_is_null_elsewhere() -> None:
    error = load_error(load_plain, b"a: !!int abc\n")
    assert (
        error.message
        == "Error unmarshalling file: yaml: cannot decode !!str `<redacted>` as a !!int"
    )
    assert error.exit_code == ExitCode.COULD_NOT_READ_INPUT_FILE
    assert load_plain(b"a: 1\n---\nb: !!int abc\n")[1] == B([("b", None)])


# ------------------------------------------------------------------------------ structure


def test_aliases_are_expanded_into_independent_copies_and_merge_keys_stay_literal() -> None:
    doc = only("a: &anc\n  x: 1\n  y: [1, 2]\nb: *anc\nc:\n  <<: *anc\n  z: 3\n")
    anchored = B([("x", 1), ("y", [1, 2])])
    assert doc == B([("a", anchored), ("b", anchored), ("c", B([("<<", anchored), ("z", 3)]))])
    assert doc.get("a") is not doc.get("b")
    assert doc.get("a").get("y") is not doc.get("b").get("y")


def test_every_document_is_a_branch() -> None:
    assert load_plain(b"a: 1\n---\nb: 2\n...\n---\nc: 3\n") == [
        B([("a", 1)]),
        B([("b", 2)]),
        B([("c", 3)]),
    ]
    assert load_plain(b"---\na: 1\n") == [B([("a", 1)])]
    assert load_plain(b"---\n") == [B()]
    assert load_plain(b"a: 1\n---\n") == [B([("a", 1)]), B()]


def test_directives_are_understood() -> None:
    assert only("%YAML 1.1\n---\na: 1\n") == B([("a", 1)])
    assert only("%TAG !e! tag:example.com,2000:\n---\na: !e!foo bar\n") == B([("a", "bar")])


def test_crlf_bom_and_unicode() -> None:
    assert only(b"a: 1\r\nb:\r\n  - x\r\n") == B([("a", 1), ("b", ["x"])])
    assert only(b"\xef\xbb\xbfa: 1\n") == B([("a", 1)])
    assert only("emoji: 😀\nuni: café\n") == B([("emoji", "😀"), ("uni", "café")])
    assert only("a: 1\n".encode("utf-16")) == B([("a", 1)])


# ------------------------------------------------------------------------------ comments
# Each expected tree was checked against sops 3.11 (and the oracle tests below
# check them again when the binary is there).


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "# top\n# second\n\nkey: value # inline\n# before nested\nnested:\n"
            "  # inside, first\n  a: 1\n  # trailing in nested\nlast: end\n# final\n",
            B(
                [
                    (C(" top"), None),
                    (C(" second"), None),
                    (C(" inline"), None),
                    ("key", "value"),
                    (C(" before nested"), None),
                    (
                        "nested",
                        B(
                            [
                                (C(" inside, first"), None),
                                ("a", 1),
                                (C(" trailing in nested"), None),
                            ]
                        ),
                    ),
                    ("last", "end"),
                    (C(" final"), None),
                ]
            ),
            id="heads-lines-and-feet",
        ),
        pytest.param(
            "list:\n  # before first\n  - x\n  # between\n  - y # inline y\n  # after\nz: 1\n",
            B(
                [
                    (
                        "list",
                        [C(" before first"), "x", C(" between"), C(" inline y"), "y", C(" after")],
                    ),
                    ("z", 1),
                ]
            ),
            id="sequence-items",
        ),
        pytest.param(
            "s:\n    - a: 1\n    # c\n    - b: 2\n",
            B([("s", [B([("a", 1)]), C(" c"), B([("b", 2)])])]),
            id="between-mappings-in-a-sequence",
        ),
        pytest.param(
            "a:\n    b:\n        c: 1\n    # dedented, then a key further out\ne: 1\n",
            B(
                [
                    (
                        "a",
                        B([("b", B([("c", 1), (C(" dedented, then a key further out"), None)]))]),
                    ),
                    ("e", 1),
                ]
            ),
            id="foot-goes-to-the-innermost-mapping",
        ),
        pytest.param(
            "a:\n    b:\n        c: 1\n    # at the end of the file\n",
            B([("a", B([("b", B([("c", 1)])), (C(" at the end of the file"), None)]))]),
            id="at-the-end-the-indentation-decides",
        ),
        pytest.param(
            "a:\n- x\n# c\n",
            B([("a", ["x", C(" c")])]),
            id="an-indentless-sequence-keeps-a-last-comment",
        ),
        pytest.param(
            "a: &m\n  # in anchor\n  k: v\nb: *m\n",
            B(
                [
                    ("a", B([(C(" in anchor"), None), ("k", "v")])),
                    ("b", B([(C(" in anchor"), None), ("k", "v")])),
                ]
            ),
            id="aliases-copy-comments",
        ),
        pytest.param(
            "a: 1\r\n# c\r\nb: 2\r\n",
            B([("a", 1), (C(" c"), None), ("b", 2)]),
            id="crlf",
        ),
        pytest.param(
            "k: v\n---\n# doc2 head\n\nk2: v2\n# doc2 foot\n",
            None,
            id="documents",
        ),
        pytest.param(
            "a: 1\n#\n#x\nb: 2\n", B([("a", 1), (C(""), None), (C("x"), None), ("b", 2)]), id="bare"
        ),
    ],
)
def test_comments_land_where_sops_puts_them(text: str, expected: Branch | None) -> None:
    if expected is None:
        # The comment after "---" and before a blank line ends document 1.
        assert load_plain(text.encode()) == [
            B([("k", "v"), (C(" doc2 head"), None)]),
            B([("k2", "v2"), (C(" doc2 foot"), None)]),
        ]
    else:
        assert only(text) == expected


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"# only a comment\n", "EOF"),
        (b"   \n", "EOF"),
        (
            b"- a\n- b\n",
            "yaml: unmarshal errors:\n"
            "  line 1: cannot unmarshal !!seq into map[string]interface {}",
        ),
        (
            b"secret-value\n",
            "yaml: unmarshal errors:\n"
            "  line 1: cannot unmarshal !!str `<redacted>` into map[string]interface {}",
        ),
        (
            b"a: 1\nb: 2\na: 3\n",
            'yaml: unmarshal errors:\n  line 3: mapping key "a" already defined at line 1',
        ),
        (
            b"a: 1\nb: 1\nb: 2\na: 3\n",
            'yaml: unmarshal errors:\n  line 4: mapping key "a" already defined at line 1\n'
            '  line 3: mapping key "b" already defined at line 2',
        ),
        (
            b"x:\n  - {a: 1, a: 2}\n",
            'yaml: unmarshal errors:\n  line 2: mapping key "a" already defined at line 2',
        ),
        (b"a: b: c\n", "yaml: mapping values are not allowed in this context"),
        (b"a:\n  b: 1\n c: 2\n", "yaml: line 2: did not find expected key"),
        (b'a: "unterminated\n', "yaml: line 2: found unexpected end of stream"),
        (b"a: [1, 2\n", "yaml: line 1: did not find expected ',' or ']'"),
        (b"a: 1\n\tb: 2\n", "yaml: line 2: found a tab character that violates indentation"),
        (b"a: \x01\n", "yaml: control characters are not allowed"),
        (b"a: \xff\n", "yaml: invalid leading UTF-8 octet"),
        (b"a: *nowhere\n", "yaml: unknown anchor 'nowhere' referenced"),
        (b"<<: 5\n", "yaml: map merge requires map or sequence of maps as the value"),
        (b"a: !!binary zz\n", "yaml: !!binary value contains invalid base64 data"),
        (b"a: &x [*x]\n", "yaml: anchor 'x' value contains itself"),
        (b"%YAML 1.2\n---\na: 1\n", "yaml: found incompatible YAML document"),
        (b'a: "\\xZZ"\n', "yaml: did not find expected hexdecimal number"),
        (
            b"a: 1\n---\n- x\n",
            "Error unmarshaling input YAML: YAML documents that are sequences are not supported",
        ),
        (
            b"a: 1\n---\nfoo\n",
            "Error unmarshaling input YAML: YAML documents that are values are not supported",
        ),
    ],
)
def test_plain_load_errors_are_sops_messages_with_exit_2(data: bytes, message: str) -> None:
    error = load_error(load_plain, data)
    assert error.message == f"Error unmarshalling file: {message}"
    assert error.exit_code == ExitCode.COULD_NOT_READ_INPUT_FILE


def test_an_empty_file_is_exit_92() -> None:
    error = load_error(load_plain, b"")
    assert error.message == "File cannot be completely empty, it must contain at least one document"
    assert error.exit_code == ExitCode.NEED_AT_LEAST_ONE_DOCUMENT


def test_duplicate_keys_are_only_refused_in_the_first_document() -> None:
    assert load_plain(b"x: 1\n---\na: 1\na: 2\n")[1] == B([("a", 1), ("a", 2)])


@pytest.mark.parametrize(
    ("loader", "data"),
    [
        (load_plain, b"hunter2\n"),
        (load_plain, b"a: !!int hunter2\n"),
        (load_plain, b"? [hunter2]\n: x\n"),
        (load_plain, b"x:\n  ? {hunter2: 1}\n  : x\n"),
        (load_encrypted, b"hunter2\n"),
        (load_encrypted, b"sops: hunter2\n"),
        (load_encrypted, b"sops: {version: !!int hunter2}\n"),
        (load_encrypted, b"sops: {shamir_threshold: hunter2}\n"),
    ],
)
def test_error_messages_never_show_values(loader: Callable[[bytes], Any], data: bytes) -> None:
    error = load_error(loader, data)
    assert "hunter2" not in error.message
    assert "hunter2" not in repr(error)


# ------------------------------------------------------------------------------ encrypted files

SOPS_BLOCK = """sops:
    age:
        - recipient: age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBzb21ldGhpbmcK
            -----END AGE ENCRYPTED FILE-----
    lastmodified: "2026-01-01T00:00:00Z"
    mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]
    unencrypted_suffix: _unencrypted
    version: 3.11.0
"""
METADATA = {
    "age": [
        {
            "recipient": "age1" + "q" * 58,
            "enc": "-----BEGIN AGE ENCRYPTED FILE-----\n"
            "YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBzb21ldGhpbmcK\n"
            "-----END AGE ENCRYPTED FILE-----\n",
        }
    ],
    "lastmodified": "2026-01-01T00:00:00Z",
    "mac": "ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]",
    "unencrypted_suffix": "_unencrypted",
    "version": "3.11.0",
}


def test_load_encrypted_drops_sops_from_every_document_and_returns_the_first_metadata() -> None:
    data = (
        "a: ENC[x]\n" + SOPS_BLOCK + "---\nb: 2\n" + SOPS_BLOCK.replace("3.11.0", "9.9.9")
    ).encode()
    branches, metadata = load_encrypted(data)
    assert branches == [B([("a", "ENC[x]")]), B([("b", 2)])]
    assert metadata == METADATA


def test_metadata_scalars_are_their_text_except_plain_ints_bools_and_nulls() -> None:
    data = (
        b"a: 1\nsops:\n    version: 3.10\n    lastmodified: 2026-01-01T00:00:00Z\n"
        b"    shamir_threshold: 2\n    mac_only_encrypted: true\n    mac: ~\n    kms: []\n"
    )
    _, metadata = load_encrypted(data)
    assert metadata == {
        "version": "3.10",
        "lastmodified": "2026-01-01T00:00:00Z",
        "shamir_threshold": 2,
        "mac_only_encrypted": True,
        "mac": None,
        "kms": [],
    }


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"a: 1\n",
        b"a: 1\nsops:\n",
        b"a: 1\nsops: ~\n",
        b"# c\n",
        b"a: 1\n---\n" + SOPS_BLOCK.encode(),
    ],
)
def test_no_sops_mapping_in_the_first_document_is_metadata_not_found(data: bytes) -> None:
    with pytest.raises(MetadataNotFound):
        load_encrypted(data)


_UNMARSHAL = "Error unmarshalling input yaml: yaml: unmarshal errors:\n  "


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"a: 1\nsops: 5\n",
            f"{_UNMARSHAL}line 2: cannot unmarshal !!int `<redacted>` into stores.Metadata",
        ),
        (
            b"sops: [1]\n",
            f"{_UNMARSHAL}line 1: cannot unmarshal !!seq into stores.Metadata",
        ),
        (
            b"- a\n",
            f"{_UNMARSHAL}line 1: cannot unmarshal !!seq into stores.SopsFile",
        ),
        (
            b"a: 1\na: 2\nsops: {}\n",
            f'{_UNMARSHAL}line 2: mapping key "a" already defined at line 1',
        ),
        (
            b"sops: {version: [1], age: [5]}\n",
            f"{_UNMARSHAL}line 1: cannot unmarshal !!seq into string\n"
            "  line 1: cannot unmarshal !!int `<redacted>` into stores.agekey",
        ),
        (
            b"a: [\n",
            "Error unmarshalling input yaml: yaml: line 1: did not find expected node content",
        ),
        (
            SOPS_BLOCK.encode() + b"---\nc: [\n",
            "Error unmarshaling input YAML: yaml: line 13: did not find expected node content",
        ),
        (
            SOPS_BLOCK.encode() + b"---\n- a\n",
            "Error unmarshaling input YAML: YAML documents that are sequences are not supported",
        ),
    ],
)
def test_encrypted_load_errors_are_sops_messages_with_exit_1(data: bytes, message: str) -> None:
    error = load_error(load_encrypted, data)
    assert error.message == message
    assert error.exit_code == ExitCode.ERROR_GENERIC


def test_the_store_delegates_to_the_loader() -> None:
    store = get_store("yaml")
    assert store.load_plain(b"a: 1\n") == [B([("a", 1)])]
    assert store.load_encrypted(b"a: 1\n" + SOPS_BLOCK.encode())[1] == METADATA


def test_only_a_string_sops_key_marks_an_encrypted_file() -> None:
    store = get_store("yaml")
    assert store.has_sops_top_level_key(only("a: 1\nsops: x\n"))
    assert store.has_sops_top_level_key(only("'sops': x\n"))
    assert not store.has_sops_top_level_key(only("a:\n  sops: x\n# sops\n"))
    # yaml.v3 decodes a !!binary key to a Go string: "sops" (sops refuses it, exit 203)
    assert store.has_sops_top_level_key(only("!!binary c29wcw==: x\n"))


# ------------------------------------------------------------------------------ fast path


def _complete_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(data: bytes) -> Any:
        raise AssertionError("the complete path was used")

    monkeypatch.setattr(yaml_load, "complete_load_plain", fail)
    monkeypatch.setattr(yaml_load, "complete_load_encrypted", fail)


def test_a_sops_style_encrypted_file_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    data = big_encrypted_file(50)
    _complete_only(monkeypatch)
    branches, metadata = load_encrypted(data)
    assert metadata["version"] == "3.11.0"
    comment, section = branches[0]
    assert isinstance(comment[0], Comment)
    assert section[0] == "section0"
    assert len(section[1]) == 50


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n\nb: 2\n",  # blank lines
        "a: 1 # c\n",  # line comments
        "a: &x 1\n",  # anchors
        "a: [1]\n",  # flow collections
        "a:\n- x\n",  # indentless sequences
        "a: >\n  x\n",  # folded scalars
        "a: 'x\n  y'\n",  # multi-line quoted scalars
        "a:\tb\n",  # tabs
        "a: 1\r\n",  # CR
        "\ufeffa: 1\n",  # BOM
        "a: 1\na: 2\n",  # duplicate keys
        "- a\n",  # top-level sequence
        "a:\n    b: 1\n\n# c\n",  # a comment after a blank line
    ],
)
def test_anything_else_goes_the_complete_way(text: str) -> None:
    assert fast.fast_load_plain(text.encode()) is None


# A generator of files in the style sops writes (its emitter's output, or a
# hand-written file in the same style), with comments where sops puts them.

_PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))
_PLAIN = st.builds(
    lambda head, body, tail: head + body + tail,
    st.sampled_from("aBzY"),
    st.text(alphabet="abcXYZ019_./+=-", max_size=8),
    st.sampled_from(["", " x", " a#b", " b:c", " 9"]),
)
_ENC = st.builds(
    lambda d, t: f"ENC[AES256_GCM,data:{d},iv:aXY=,tag:dGFn,type:{t}]",
    st.text(alphabet="ABCxyz019+/", min_size=1, max_size=16),
    st.sampled_from(["str", "int", "float", "bool", "comment"]),
)
_NUMBERISH = st.sampled_from(
    [
        "1",
        "-3",
        "0x1F",
        "017",
        "1.5",
        "1e10",
        ".5",
        "true",
        "False",
        "null",
        "~",
        "2001-12-14",
        "2001-12-14T21:59:43.1-05:00",
        "18446744073709551615",
        "yes",
        "<<",
    ]
)
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


def _double_quoted(s: str) -> str:
    out = []
    for ch in s:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


_SCALAR = st.one_of(
    _PLAIN,
    _ENC,
    _NUMBERISH,
    _TEXT.map(_double_quoted),
    st.text(alphabet=_PRINTABLE, max_size=10).map(lambda s: "'" + s.replace("'", "''") + "'"),
    st.sampled_from(["{}", "[]", '""', "''"]),
)
_LITERAL = st.tuples(
    st.sampled_from(["|", "|-", "|+"]),
    st.lists(
        st.one_of(
            st.just(""),
            st.builds(
                str.__add__, st.sampled_from("a#-:"), st.text(alphabet=_PRINTABLE, max_size=10)
            ),
        ),
        min_size=1,
        max_size=4,
    ).filter(lambda lines: lines[0] != ""),
    st.integers(0, 2),
)
_COMMENTS = st.lists(
    st.sampled_from(["# note", "#ENC[AES256_GCM,data:Yw==,iv:aXY=,tag:dGFn,type:comment]", "#"]),
    max_size=2,
)
_KEY = st.one_of(
    st.builds(str.__add__, st.sampled_from("abcxyz"), st.text(alphabet="abc019_", max_size=5)),
    st.sampled_from(['"on"', '""', '"1"', "1", "true", "a b", "x:y"]),
)


@st.composite
def _tree(draw: Any, depth: int = 0) -> Any:
    kind = draw(st.sampled_from(["map", "map", "seq"] if depth < 3 else ["leaf"]))
    if kind == "leaf":
        if draw(st.integers(0, 5)) == 0:
            return ("literal", draw(_LITERAL))
        return ("scalar", draw(_SCALAR))
    size = draw(st.integers(1, 4))
    if kind == "seq":
        return ("seq", [(draw(_COMMENTS), draw(_node(depth + 1))) for _ in range(size)])
    keys = draw(st.lists(_KEY, min_size=size, max_size=size, unique_by=lambda k: k.strip('"')))
    return ("map", [(draw(_COMMENTS), k, draw(_node(depth + 1))) for k in keys])


def _node(depth: int) -> Any:
    return st.one_of(_tree(depth), _tree(3))


def _render(node: Any, indent: int, step: int, out: list[str], prefix: str) -> None:
    """Write ``node`` whose first line starts with ``prefix`` (``key:`` or
    ``-``) at column ``indent``."""
    kind = node[0]
    if kind == "scalar":
        out.append(f"{prefix} {node[1]}")
    elif kind == "literal":
        header, lines, extra = node[1]
        out.append(f"{prefix} {header}")
        pad = " " * (indent + step)
        out.extend(pad + line if line else "" for line in lines)
        if header == "|+":
            out.extend([""] * extra)
    elif not node[1]:
        out.append(f"{prefix} {'{}' if kind == 'map' else '[]'}")
    else:
        out.append(prefix)
        _render_block(node, indent + step, step, out)


def _render_block(node: Any, col: int, step: int, out: list[str]) -> None:
    pad = " " * col
    if node[0] == "map":
        for comments, key, child in node[1]:
            out.extend(pad + c for c in comments)
            _render(child, col, step, out, f"{pad}{key}:")
        return
    for comments, child in node[1]:
        out.extend(pad + c for c in comments)
        if child[0] in ("map", "seq") and child[1]:
            # "- key: value" / "- - item": the first line of the child
            # shares the dash line (comments cannot go in between).
            inner: list[str] = []
            if child[0] == "map":
                _render_block(
                    ("map", [([], *child[1][0][1:]), *child[1][1:]]), col + 2, step, inner
                )
            else:
                _render_block(("seq", [([], child[1][0][1]), *child[1][1:]]), col + 2, step, inner)
            out.append(pad + "- " + inner[0].lstrip(" "))
            out.extend(inner[1:])
        else:
            out_item: list[str] = []
            _render(child, col, step, out_item, f"{pad}-")
            out.extend(out_item)


def _sops_block(step: int) -> list[str]:
    """:data:`SOPS_BLOCK` with ``step`` spaces per level."""
    pad = " " * step
    key_col = " " * (2 * step + 2)
    return [
        "sops:",
        f"{pad}age:",
        f"{pad * 2}- recipient: age1{'q' * 58}",
        f"{key_col}enc: |",
        f"{key_col}{pad}-----BEGIN AGE ENCRYPTED FILE-----",
        f"{key_col}{pad}YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBzb21ldGhpbmcK",
        f"{key_col}{pad}-----END AGE ENCRYPTED FILE-----",
        f'{pad}lastmodified: "2026-01-01T00:00:00Z"',
        f"{pad}mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]",
        f"{pad}unencrypted_suffix: _unencrypted",
        f"{pad}version: 3.11.0",
    ]


@st.composite
def _canonical_file(draw: Any) -> tuple[str, bool]:
    step = draw(st.sampled_from([2, 4]))
    with_sops = draw(st.booleans())
    docs = []
    for _ in range(draw(st.integers(1, 3))):
        root = draw(_tree(0).filter(lambda n: n[0] == "map" and bool(n[1])))
        lines: list[str] = []
        _render_block(root, 0, step, lines)
        if with_sops:
            lines.extend(_sops_block(step))
        docs.append("\n".join(lines) + "\n")
    return "---\n".join(docs), with_sops


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_canonical_file())
def test_the_fast_path_gives_the_complete_paths_tree(case: tuple[str, bool]) -> None:
    text, with_sops = case
    data = text.encode()
    if with_sops:
        fast_enc = fast.fast_load_encrypted(data)
        assert fast_enc is not None, text
        full_enc = yaml_load.complete_load_encrypted(data)
        assert shape(fast_enc[0]) == shape(full_enc[0])
        assert fast_enc[1] == full_enc[1]
    fast_plain = fast.fast_load_plain(data)
    assert fast_plain is not None, text
    assert shape(fast_plain) == shape(yaml_load.complete_load_plain(data))


# ------------------------------------------------------------------------------ speed


def big_encrypted_file(values: int, seed: int = 1) -> bytes:
    """A sops-style encrypted file: ``values`` ENC values in sections of 100,
    one encrypted comment, and a ``sops`` block."""
    r = random.Random(seed)

    def enc(n: int, typ: str) -> str:
        data = base64.b64encode(r.randbytes(n)).decode()
        iv = base64.b64encode(r.randbytes(32)).decode()
        tag = base64.b64encode(r.randbytes(16)).decode()
        return f"ENC[AES256_GCM,data:{data},iv:{iv},tag:{tag},type:{typ}]"

    lines = ["#" + enc(20, "comment")]
    for i in range(values):
        if i % 100 == 0:
            lines.append(f"section{i // 100}:")
        lines.append(f"    key{i}: {enc(r.randint(10, 60), 'str')}")
    armor = base64.b64encode(r.randbytes(200)).decode()
    lines += [
        "sops:",
        "    age:",
        "        - recipient: age1" + "q" * 58,
        "          enc: |",
        "            -----BEGIN AGE ENCRYPTED FILE-----",
        *("            " + armor[k : k + 64] for k in range(0, len(armor), 64)),
        "            -----END AGE ENCRYPTED FILE-----",
        '    lastmodified: "2026-01-01T00:00:00Z"',
        "    mac: " + enc(128, "str"),
        "    unencrypted_suffix: _unencrypted",
        "    version: 3.11.0",
    ]
    return ("\n".join(lines) + "\n").encode()


def test_a_5000_value_encrypted_file_loads_quickly() -> None:
    data = big_encrypted_file(5000)
    assert len(data) > 700_000
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        branches, _ = load_encrypted(data)
        best = min(best, time.perf_counter() - start)
    assert sum(len(b) for _, b in branches[0] if isinstance(b, Branch)) == 5000
    assert best < 0.2, f"{best * 1000:.0f} ms"  # ~15-25 ms here; the bound only catches a fall back


def test_importing_the_loader_is_cheap() -> None:
    code = (
        "import sys, homelab_secrets.sops.stores.yaml.load, "
        "homelab_secrets.sops.stores.yaml.yamlh as m; "
        "print('yaml' in sys.modules, len(m._PATTERNS))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "0"]  # no PyYAML, no regex compiled yet


# ------------------------------------------------------------------------------ the sops oracle

pytest_sops = requires_sops

ORACLE_CORPUS = [
    b"a:\n    b: 1\n# x\n",
    b"s:\n    - a: 1\n    # c\n    - b: 2\n",
    b"a:\n    b: 1\n\n    # x\nc: 1\n",
    b"a:\n    b: 1\n\n# x\nc: 1\n",
    b"# top\n\na: 1\n",
    b"# top\n\n# second\na: 1\n",
    b"a: # line after key\n  b: 1\n",
    b"a:\n  - # after dash\n    x: 1\n",
    b"a:\n  - # dash line comment\n    - nested\n",
    b"a:\n  # head seq\n  - x\n  # between\n  - y\n  # foot seq\nb: 1\n",
    b"a:\n  b:\n    c: 1\n  # mid\n  d: 2\n",
    b"x: |\n  text\n# c\nb: 1\n",
    b"k: v\n---\n# doc2 head\nk2: v2\n",
    b"--- # doc line\na: 1\n",
    b"a: 1\n... # end\n---\nb: 2\n",
    b"a: [x,\n  # c\n  y]\n",
    b"a: {x: 1, # c1\n  }\n",
    b"s:\n  - a: 1\r\n  # c\r\n  - b: 2\r\n",
    b"a:\n    - b:\n          c: 1\n      # c6\n    - z\n",
    b"a:\n    b:\n        - x\n    # c\nd: 1\n",
    b"x:\n    a:\n    # c\nb: 1\n",
    b"a:\n  b: 1\n  # c1\n\n  # c2\n  d: 2\n",
    b"a: &anc\n  x: 1\n  y: [1, 2]\nb: *anc\nc:\n  <<: *anc\n  z: 3\n",
    (
        b"yes: yes\nhex: 0x1F\noct: 017\nbig: 18446744073709550000\nf: 1e10\nn: -0.0\nd: .5\n"
        b"p: +12\nt: 2001-12-14t21:59:43.10-05:00\n"
    ),
    b"q1: \"a\\tb\\u00e9\\U0001F600\"\nq2: 'it''s'\nb: |+\n  x\n\nf: >-\n  a\n   b\n",
    b"p: multi\n  line plain\nflow: {a: 1, b: [x, {c: d}]}\ne1: ~\ne2:\ne3: ''\n",
    b'a: !!str 3\nb: !!int "3"\nc: !!float 3\nd: !custom x\ne: ! 12\nf: !!binary aGVsbG8=\n',
    b"\xef\xbb\xbfa: 1\nemoji: \xf0\x9f\x98\x80\n",
    b"a: 1\n---\nb: 2\n---\n",
    b"1: a\n",
    b"a: 1\nsops_like: 2\n---\nb: !!int abc\n",
    b"# only\n",
    b"- a\n",
    b"abc\n",
    b"a: 1\nb: 1\nb: 2\na: 3\n",
    b"a: b: c\n",
    b"a:\n  b: 1\n c: 2\n",
    b"a: \xc3\n",
    b"a: 1\n---\nfoo\n",
    b"? [a]\n: 1\n",
    b"a: &x {k: 1, k: 2}\nb: *x\n",
    b"a:\n  - b\n  c: d\n",
    b"%TAG ! !foo\n%TAG ! !bar\n---\na: 1\n",
    b"a: 1\n",
    b"a:\n    b: 1\n# x\nc: 1\n",
    b"a:\n    b: 1\n    # x\nc: 1\n",
    b"a:\n    b: 1\n# x\n\nc: 1\n",
    b"# top\na: 1\n",
    b"a: 1 # line\nb: 2\n",
    b"a:\n  - x # lc\n  - y\n",
    b"a:\n- x\n# c\nb: 1\n",
    b"a: 1\n# foot of doc\n",
    b"a: 1\n\n# foot of doc after blank\n",
    b"a:\n  b:\n    c: 1\n# top level\nd: 2\n",
    b"a:\n  b:\n    c: 1\n  # x\nd: 1\n",
    b"x: |\n  text\n  # not a comment\nb: 1\n",
    b"list:\n  - a\n  - b # inline b\n  # after b\n",
    b"k: v\n...\n---\nk2: v2\n",
    b"a: &s hello\nb: *s\n",
    (
        b"yes: yes\nno: no\non: on\ny: y\nhex: 0x1F\noct: 017\noct2: 0o17\nbin: 0b101\nu: 1_000\n"
        b"big: 18446744073709551615\nneg: -9223372036854775808\nf1: 1e10\nf2: -0.0\nf3: .5\n"
        b"f4: +12\nf5: 1.\nf6: .inf\nf7: -.Inf\nf8: .NaN\nf9: 1e400\nf10: 08\nf11: 09.5\n"
    ),
    (
        b"t1: 2001-12-14\nt2: 2001-12-14t21:59:43.10-05:00\nt3: 2001-12-14 21:59:43.10\n"
        b"t4: 2001-12-14T21:59:43Z\nt5: 2001-12-14T21:59:43\n"
        b"t6: 2001-12-14T21:59:43.123456789123+00:00\nt7: 2001-02-29\nt8: 2000-02-29\n"
        b"t9: 2001-1-2\n"
    ),
    (
        b"q1: \"a\\tb\\u00e9\\U0001F600\\x41\"\nq2: 'it''s'\nq3: \"multi\n  line\"\nq4: 'folded\n"
        b"\n  para'\n"
    ),
    (
        b"b1: |\n  l1\n  l2\nb2: |-\n  x\nb3: |+\n  x\n\nb4: >\n  a\n  b\n\n  c\nb5: |2\n"
        b"    indented\nb6: >-\n  a\n   b\n  c\n"
    ),
    b"p: multi\n  line plain\n  scalar\n",
    b"f: {a: 1, b: [x, y]}\ng: [a, {b: c}, [d]]\n",
    b"e1: ~\ne2:\ne3: null\ne4: ''\ne5: \"\"\n",
    b"%YAML 1.1\n---\na: 1\n",
    b"%TAG !e! tag:example.com,2000:\n---\na: !e!foo bar\n",
    b"a: 1\r\nb:\r\n  - x\r\n  # c\r\n  - y\r\n",
    b"\xef\xbb\xbfa: 1\n",
    b"emoji: \xf0\x9f\x98\x80\nuni: caf\xc3\xa9\n",
    b"? complex\n: value\n",
    b"a: 1\n---\n",
    b"---\na: 1\n",
    b"# only\n---\na: 1\n",
    b"a:\n  b: 1\n  # end inner\n",
    b"a:\n  - b: 1\n    # in map\n    c: 2\n",
    b"a:\n  - b: 1\n  # at dash\n  - c: 2\n",
    b"a:\n  - b: 1\n\n  # at dash blank\n  - c: 2\n",
    b"a:\n    - b: 1\n      c: 2\n    - d\n",
    b"a: [1, # c1\n  2]\n",
    b"a: {b: 1, # c1\n  c: 2}\n",
    b"a:\n  # head a\n  b: 1 # line b\n  # foot b\n\n  # head c\n  c: 2\n",
    b"key: value\n# c1\n# c2\n\n# c3\nother: 1\n",
    b"a: 1\nb:\n# dangling\n",
    b"a:\n  - - x\n    - y\n  - - z\n",
    b"a: - b\n",
    b"a: !!int abc\n",
    b"a: 1\n---\nb: !!int abc\n",
    b"x: 1\n---\na: 1\na: 2\n",
    b"a: 1\na: 2\nb: 3\nb: 4\na: 5\n",
    b"<<: {a: 1}\nb: 2\n",
    b"a: &x [*x]\n",
    b'a: "x\n',
    b"a:\n\tb: 1\n",
    b"s:\r\n    - a: 1\r\n    # c\r\n    - b: 2\r\n",
    b"a: 1\r\n# c\r\nb: 2\r\n",
    b"a:\r\n    b: 1\r\n# x\r\n",
    b"# h1\r\n# h2\r\n\r\na: 1\r\n",
    b"a: 1\rb: 2\r",
    b"a: [x, # c\n]\n",
    b"a: {x: 1,\n  # c\n  y: 2}\n",
    b"a: {x: 1, # c\n  }\n",
    b"a: [\n  # c\n  x]\n",
    b"---\n# doc head\na: 1\n",
    b"a: 1\n---\n# head2\n\nb: 2\n# foot2\n",
    b"a:\n  b:\n    c: 1\n    # deep foot\n",
    b"a:\n  b:\n    c: 1\n  # mid foot\n",
    b"a:\n  b:\n    c: 1\n# top foot\n",
    b"a:\n  b:\n    c: 1\n\n# top foot blank\n",
    b"a:\n  b:\n    c: 1\n\n  # mid foot blank\n",
    b"seq:\n  - x\n  # foot of seq\n",
    b"seq:\n  - x\n# after seq\n",
    b"seq:\n- x\n# after indentless seq\n",
    b"seq:\n- x\n- y\n# c\nz: 1\n",
    b"a:\n  - b\n  -\n    # under dash\n    c: 1\n",
    b"a:\n  - # dash line comment\n    nested: 1\n",
    b"a:\n  - # dash line comment\n  - x\n",
    b"a: &x 1 # anc\nb: *x # alias\n",
    b"a: &m\n  # in anchor\n  k: v\nb: *m\n",
    b"a: |\n  text # not comment\n# real\n",
    b"a: | # header comment\n  text\n",
    b"a: >- # header\n  folded\n  text\n",
    b"? k\n# between\n: v\n",
    b"a: 1     # spaced\nb: 2\t# tab\n",
    b"a:    # on key\n  - x\n",
    b"a:\n  # first\n\n  # second\n  b: 1\n",
    b"a: 1\n#no space\n#\nb: 2\n",
    b"k:\n  - v1\n  # mid\n\n  - v2\n",
    b"x:\n  - a\n  - b\n\n# after blank at top\ny: 1\n",
    b"a: 'x\n",
    b"a: [\n",
    b"a: {\n",
    b"a: *undefined\n",
    b"a: &a\n",
    b"a: !<tag:yaml.org,2002:int> 5\n",
    b"a: !!float 1.5\nb: !!float 7\nc: !!bool true\nd: !!null ~\ne: !!timestamp 2001-01-01\n",
    b"a: !!bool yes\n",
    b"a: !!null x\n",
    b"a: !!int 1.5\n",
    b"a: !!float abc\n",
    b"a: !!timestamp 2001\n",
    b'a: "\\q"\n',
    b'a: "\\uD800"\n',
    b'a: "\\xZZ"\n',
    b"a: |0\n  x\n",
    b"a: |x\n",
    b"a: &\n",
    b"a: !\n",
    b"%YAML 1.1\n%YAML 1.1\n---\na: 1\n",
    b"%FOO bar\n---\na: 1\n",
    b"a: !x!y z\n",
    b"- a\nb: c\n",
    b"a: 1\n- b\n",
    b"a: b\n  c: d\n",
    b"'a': 1\n\"a\": 2\n",
    b"a: 1\n? a\n: 2\n",
    b'1: x\n"1": y\n',
    b"x: 1\n---\n- a\n",
    b"x: 1\n---\nscalar\n",
    b"x: 1\n---\n!!null\n",
    b"x: 1\n--- |\n  lit\n",
    b"x: {a: 1, a: 2}\n",
    b"x:\n  - {a: 1, a: 2}\n",
    b"? [a, b]\n: c\n",
    b"? {a: b}\n: c\n",
    b"x:\n  ? [a]\n  : c\n",
    b"x:\n  ? {a: b}\n  : c\n",
    b"<<: 5\n",
    b"<<: [{a: 1}, {b: 2}]\nc: 3\n",
    b"<<: [1]\n",
    b"a: &x 1\n<<: *x\n",
    b"a: \x01\n",
    b"a: \xff\n",
    b"a: \xed\xa0\x80\n",
    b"a: \xc0\x80\n",
    b"a: 1\n\x0c\n",
    b"\t\n",
    b"a: 1\n\t\n",
    b"a:\t1\n",
    b"a: 1\t\n",
    b"   \n",
    b"\n\n",
    b"# c\n\n# d\n",
    b"a: 1\n...\n",
    b"...\n",
    b"---\n---\n",
    b"--- a\n",
    b"a:\n    b: |\n        text\n    # c\nd: 1\n",
    b"a:\n    b:\n        c:\n            d: 1\n        # c8\n    # c4\ne: 1\n",
    b"a:\n    b:\n        c: 1\n    # c4\n    # c4b\ne: 1\n",
    b"a:\n    - b: 1\n      # c6\nd: 1\n",
    b"a:\n    - b:\n          c: 1\n      # c6\nd: 1\n",
    b"x:\n    a:\n        b: 1\n        # c8\n    d: 2\n",
    b"x:\n    a:\n        - 1\n        # c8\n    d: 2\n",
    b"a:\n    b:\n        c: 1\n    # c4\n",
    b"a:\n    b:\n        c: 1\n        # c8\n",
    b"a:\n    b:\n        c: 1\n# c0\n",
]


def _random_yaml(seed: int) -> bytes:
    """A random block-style file with comments everywhere: above and after
    items, at odd indentations, after blank lines, in sequences; sometimes
    CRLF, sometimes two documents."""
    r = random.Random(seed)
    scalars = ["x", "1", "yes", "0x1F", "2001-01-01", "'q'", '"dq"', "~", "", "a b", "1.5", "true"]
    lines: list[str] = []

    def comment() -> str:
        return f"# c{r.randrange(100)}"

    def mapping(ind: str, depth: int) -> None:
        for _ in range(r.randint(1, 4)):
            if r.random() < 0.3:
                lines.append(ind + r.choice(["", "", "  ", " "]) + comment())
            if r.random() < 0.15:
                lines.append("")
            key = f"k{r.randrange(1000)}"
            roll = r.random()
            if depth < 3 and roll < 0.35:
                lines.append(f"{ind}{key}:" + (" " + comment() if r.random() < 0.2 else ""))
                mapping(ind + r.choice(["  ", "    "]), depth + 1)
            elif depth < 3 and roll < 0.55:
                lines.append(f"{ind}{key}:")
                sequence(ind + r.choice(["", "  "]), depth + 1)
            elif roll < 0.62:
                lines.append(f"{ind}{key}: |")
                lines.extend(f"{ind}  line{n}" for n in range(r.randint(1, 2)))
            else:
                value = r.choice(scalars)
                tail = " " + comment() if r.random() < 0.2 else ""
                lines.append(f"{ind}{key}: {value}{tail}")

    def sequence(ind: str, depth: int) -> None:
        for _ in range(r.randint(1, 3)):
            if r.random() < 0.3:
                lines.append(ind + r.choice(["", "  "]) + comment())
            if r.random() < 0.1:
                lines.append("")
            if depth < 3 and r.random() < 0.3:
                lines.append(f"{ind}- k{r.randrange(100)}: v")
                if r.random() < 0.5:
                    if r.random() < 0.3:
                        lines.append(ind + "  " + comment())
                    lines.append(f"{ind}  k{r.randrange(100)}b: w")
            else:
                tail = " " + comment() if r.random() < 0.2 else ""
                lines.append(f"{ind}- {r.choice(scalars)}{tail}")

    if r.random() < 0.3:
        lines.append(comment())
    mapping("", 0)
    if r.random() < 0.3:
        lines.append(r.choice(["", "  "]) + comment())
    text = "\n".join(lines) + "\n"
    if r.random() < 0.1:
        text = text.replace("\n", "\r\n")
    if r.random() < 0.15:
        text = text + "---\n" + text
    return text.encode()


@pytest.fixture(scope="module")
def age_key() -> AgeKeyPair:
    return AgeKeyPair.generate()


def _go_f(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    s = format(Decimal(repr(x)), "f")
    return s.rstrip("0").rstrip(".") if "." in s else s


Walked = list[tuple[int, str, str, str]]


def _walk(node: Any, doc: int, path: str, out: Walked) -> None:
    """What sops encrypts, in its walk order: (document, AAD, type,
    plaintext); a comment's type says whether it sits in a mapping or a
    sequence."""
    aad = path or ":"
    if isinstance(node, Branch):
        for k, v in node:
            if isinstance(k, Comment):
                if k.value:
                    out.append((doc, aad, "comment-in-map", k.value))
            elif not isinstance(k, str):
                raise TypeError("non-string key")
            else:
                _walk(v, doc, f"{path}{k}:", out)
    elif isinstance(node, list):
        for v in node:
            if isinstance(v, Comment):
                if v.value:
                    out.append((doc, aad, "comment-in-list", v.value))
            else:
                _walk(v, doc, path, out)
    elif node is None or node in ("", b""):
        return
    elif isinstance(node, bool):
        out.append((doc, aad, "bool", "True" if node else "False"))
    elif isinstance(node, Uint64):
        raise TypeError("uint64")
    elif isinstance(node, int):
        out.append((doc, aad, "int", str(node)))
    elif isinstance(node, float):
        out.append((doc, aad, "float", _go_f(node)))
    elif isinstance(node, GoTime):
        out.append((doc, aad, "time", node.text))
    elif isinstance(node, bytes):
        out.append((doc, aad, "str", node.decode()))
    else:
        out.append((doc, aad, "str", node))


_ENC_TOKEN = re.compile(r"ENC\[AES256_GCM,data:([^,]*),iv:([^,]+),tag:([^,]+),type:([a-z]+)\]")


def _sops_encrypt(data: bytes, key: AgeKeyPair, tmp: Path) -> tuple[int, bytes, str]:
    (tmp / "home").mkdir(parents=True, exist_ok=True)
    path = tmp / "in.yaml"
    path.write_bytes(data)
    result = run_sops(["encrypt", "--age", key.recipient, str(path)], cwd=tmp, home=tmp / "home")
    return result.returncode, result.stdout, result.stderr


def _sops_tree(out: bytes, key: AgeKeyPair, aads: set[str]) -> Walked:
    """sops' output, ENC token by ENC token, each decrypted with whichever of
    ``aads`` fits (the ``mac`` left out)."""
    import pyrage
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    text = out.decode()
    armor = text.split("-----BEGIN AGE ENCRYPTED FILE-----")[1].split(
        "-----END AGE ENCRYPTED FILE-----"
    )[0]
    armored = (
        "-----BEGIN AGE ENCRYPTED FILE-----\n"
        + "\n".join(line.strip() for line in armor.strip().split("\n"))
        + "\n-----END AGE ENCRYPTED FILE-----\n"
    )
    data_key = pyrage.decrypt(armored.encode(), [pyrage.x25519.Identity.from_str(key.identity)])
    found = []
    for m in _ENC_TOKEN.finditer(text):
        if text[text.rfind("\n", 0, m.start()) + 1 : m.start()].strip() == "mac:":
            continue
        data, iv, tag, typ = m.groups()
        doc = text.count("\n---\n", 0, m.start())
        if typ == "comment":
            typ = "comment-in-map" if text[m.start() - 1] == "#" else "comment-in-list"
        ciphertext = base64.b64decode(data) + base64.b64decode(tag)
        for aad in sorted(aads):
            try:
                plain = AESGCM(data_key).decrypt(base64.b64decode(iv), ciphertext, aad.encode())
            except InvalidTag:
                continue  # not this path
            found.append((doc, aad, typ, plain.decode()))
            break
        else:
            found.append((doc, "?", typ, "?"))
    return found


@pytest_sops
def test_trees_and_errors_match_the_sops_binary(age_key: AgeKeyPair, tmp_path: Path) -> None:
    def check(index_data: tuple[int, bytes]) -> str | None:
        index, data = index_data
        rc, out, err = _sops_encrypt(data, age_key, tmp_path / str(index))
        walked: Walked = []
        ours: Walked | None = walked
        try:
            for doc, branch in enumerate(load_plain(data)):
                _walk(branch, doc, "", walked)
            our_rc, our_err = 0, ""
        except StoreError as exc:
            ours, our_rc, our_err = None, exc.exit_code, exc.message
        except TypeError:
            ours, our_rc, our_err = None, ExitCode.ERROR_ENCRYPTING_TREE, ""
        if rc != our_rc:
            return f"{data!r}: sops exit {rc} ({err.strip()}), ours {our_rc} ({our_err})"
        if rc == 0:
            assert ours is not None
            theirs = _sops_tree(out, age_key, {aad for _, aad, _, _ in ours})
            if theirs != ours:
                return f"{data!r}:\n  sops {theirs}\n  ours {ours}"
        elif rc == ExitCode.COULD_NOT_READ_INPUT_FILE:
            expected = re.sub(r"`[^`]*`", "`<redacted>`", err.strip())
            expected = re.sub(r"invalid map key: .*", "invalid map key: <redacted>", expected)
            if expected != our_err:
                return f"{data!r}: sops says {expected!r}, we say {our_err!r}"
        return None

    cases = ORACLE_CORPUS + [_random_yaml(seed) for seed in range(30)]
    with ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
        problems = [p for p in pool.map(check, enumerate(cases)) if p]
    assert not problems, "\n".join(problems)


@pytest_sops
def test_encrypted_load_errors_match_the_sops_binary(age_key: AgeKeyPair, tmp_path: Path) -> None:
    block = SOPS_BLOCK.encode()
    cases = [
        b"a: 1\nsops: 5\n",
        b"a: 1\na: 2\n" + block,
        b"sops: {version: [1], kms: [{context: 5}]}\n",
        b"sops: !!binary zz\n",
        b"a: \x01\n" + block,
        block + b"---\nc: [\n",
        b"abc\n",
    ]

    def check(index_data: tuple[int, bytes]) -> str | None:
        index, data = index_data
        home = tmp_path / str(index)
        home.mkdir()
        path = home / "f.yaml"
        path.write_bytes(data)
        result = run_sops(["decrypt", str(path)], cwd=home, home=home)
        expected = re.sub(r"`[^`]*`", "`<redacted>`", result.stderr.strip())
        try:
            load_encrypted(data)
        except StoreError as exc:
            if (exc.exit_code, exc.message) != (result.returncode, expected):
                return (
                    f"{data!r}: sops {result.returncode} {expected!r}, "
                    f"ours {exc.exit_code} {exc.message!r}"
                )
            return None
        return f"{data!r}: we loaded it, sops said {expected!r}"

    with ThreadPoolExecutor(4) as pool:
        problems = [p for p in pool.map(check, enumerate(cases)) if p]
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------------ round trips


_SOPS_BLOCK_TEXT = re.compile(r"^sops:\n(?: .*\n)*", re.MULTILINE)


@pytest_sops
@pytest.mark.parametrize(
    "name", sorted(p.name for p in (Path(__file__).parents[1] / "corpus").glob("*.yaml"))
)
def test_emit_of_load_is_what_sops_writes(name: str, age_key: AgeKeyPair, tmp_path: Path) -> None:
    """sops encrypts nothing (``--encrypted-regex`` that never matches) and
    decrypts that again: what it prints is its emitter applied to *its* tree
    of the encrypted file, so ours, emitted, must be the same bytes.  The
    metadata written back from what we load must be sops' too."""
    emit = emitter
    from homelab_secrets.sops.metadata import Metadata

    source = (Path(__file__).parents[1] / "corpus" / name).read_bytes()
    (tmp_path / "home").mkdir()
    path = tmp_path / name
    path.write_bytes(source)
    encrypted = run_sops(
        ["encrypt", "--age", age_key.recipient, "--encrypted-regex", "^NEVER_MATCHES$", str(path)],
        cwd=tmp_path,
        home=tmp_path / "home",
    )
    assert encrypted.returncode == 0, encrypted.stderr
    path.write_bytes(encrypted.stdout)
    decrypted = run_sops(  # (what sops writes does not always read back the same: -0.0)
        ["decrypt", "--ignore-mac", str(path)],
        cwd=tmp_path,
        home=tmp_path / "home",
        env={"SOPS_AGE_KEY": age_key.identity},
    )
    assert decrypted.returncode == 0, decrypted.stderr
    branches, raw = load_encrypted(encrypted.stdout)
    assert emit.emit_plain(branches) == decrypted.stdout
    written = emit.emit_encrypted(branches, Metadata.from_raw(raw).to_branch()).decode()
    expected_blocks = _SOPS_BLOCK_TEXT.findall(encrypted.stdout.decode())
    assert _SOPS_BLOCK_TEXT.findall(written) == expected_blocks
    assert len(expected_blocks) == len(branches)
