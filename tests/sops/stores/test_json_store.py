"""The JSON store reads and writes JSON exactly as sops 3.11 does.

Expected bytes below were produced by the real ``sops`` 3.11 binary
(``sops encrypt --encrypted-regex '^NEVER$'`` / ``sops decrypt``); the tests at
the end re-check a corpus against the binary when it is installed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from homelab_secrets.errors import ExitCode
from homelab_secrets.sops.model import Branch, Comment, GoTime, NilList, Uint64
from homelab_secrets.sops.stores import MetadataNotFound, StoreError, get_store
from homelab_secrets.sops.stores.json_store import JsonStore, format_json_float, json_string

STORE = JsonStore()


def load(text: str | bytes) -> Branch:
    data = text.encode() if isinstance(text, str) else text
    (branch,) = STORE.load_plain(data)
    return branch


def plain(branch: Branch, indent: int = -1) -> str:
    return JsonStore(indent).emit_plain([branch]).decode()


# ------------------------------------------------------------------------------ loading
def test_keys_keep_file_order_and_duplicates() -> None:
    branch = load('{"b": "1", "a": "2", "b": "3", "m": {"x": "1", "x": "2"}}')
    assert branch == [("b", "1"), ("a", "2"), ("b", "3"), ("m", [("x", "1"), ("x", "2")])]
    assert isinstance(branch[3][1], Branch)
    assert plain(branch) == (
        '{\n\t"b": "1",\n\t"a": "2",\n\t"b": "3",\n\t"m": {\n\t\t"x": "1",\n\t\t"x": "2"\n\t}\n}\n'
    )


def test_every_number_is_a_go_float64() -> None:
    branch = load('{"i": 42, "n": -0, "big": 12345678901234567890, "f": 1.5, "e": 1E5}')
    values = dict(branch)
    assert all(type(v) is float for v in values.values())
    assert values["i"] == 42.0
    assert values["big"] == 1.2345678901234567e19
    assert str(values["n"]) == "-0.0"
    assert plain(branch) == (
        '{\n\t"i": 42,\n\t"n": -0,\n\t"big": 12345678901234567000,\n\t"f": 1.5,\n\t"e": 100000\n}\n'
    )


def test_null_true_false_and_containers_load_as_go_values() -> None:
    branch = load('{"z": null, "t": true, "f": false, "l": [1, "a", {"k": []}], "e": {}}')
    assert branch == [
        ("z", None),
        ("t", True),
        ("f", False),
        ("l", [1.0, "a", [("k", [])]]),
        ("e", []),
    ]
    assert isinstance(branch[4][1], Branch)


def test_strings_decode_like_go_surrogates_and_invalid_utf8_become_replacement_chars() -> None:
    branch = load(
        b'{"pair": "\\ud83d\\ude00", "lone": "\\ud800", "low": "\\udc00x", '
        b'"then": "\\ud800\\u0041", "bytes": "x\xff\xe2\x82y\xed\xa0\x80z", "k\xff": 1}'
    )
    assert dict(branch) == {
        "pair": "\U0001f600",
        "lone": "\ufffd",
        "low": "\ufffdx",
        "then": "\ufffdA",
        "bytes": "x\ufffd\ufffd\ufffdy\ufffd\ufffd\ufffdz",
        "k\ufffd": 1.0,
    }


def test_a_plain_file_may_have_anything_after_its_object() -> None:
    assert load(' \n{"a": "b"} trailing {"c": 1}') == [("a", "b")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Could not unmarshal input data: EOF"),
        (b"  \n", "Could not unmarshal input data: EOF"),
        (b"[1]", "Expected JSON object start, got delimiter [ instead"),
        (b'"secret"', "Expected JSON object start, got a value of type string instead"),
        (b"5", "got a value of type float64"),
        (b'{"a": 1e400}', "cannot unmarshal number into Go value of type float64"),
        (b'{"a": NaN}', "invalid character 'N' looking for beginning of value"),
        (b'{"a": "\\x"}', "Invalid \\escape"),
        (b'{"a": "x\ty"}', "Invalid control character"),
        (b'{"a": "b",}', "Expecting property name"),
        (b'{"a": "b"', "Expecting ',' delimiter"),
        (b'\xef\xbb\xbf{"a": "b"}', "Expecting value (line 1, column 1)"),
    ],
)
def test_invalid_plain_input_fails_with_exit_2(data: bytes, message: str) -> None:
    with pytest.raises(StoreError) as info:
        STORE.load_plain(data)
    assert message in info.value.message
    assert info.value.exit_code == ExitCode.COULD_NOT_READ_INPUT_FILE


def test_errors_never_quote_the_input() -> None:
    for data in (b'{"password": "hunter2" "x"}', b'"hunter2"', b'{"k": hunter2}'):
        with pytest.raises(StoreError) as info:
            STORE.load_plain(data)
        assert "hunter2" not in info.value.message
        assert "hunter2" not in repr(info.value)


# ---------------------------------------------------------------------- encrypted files
ENCRYPTED = b"""{
\t"data": "ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]",
\t"n": 1,
\t"sops": {
\t\t"age": [{"recipient": "age1xyz", "enc": "-----BEGIN AGE ENCRYPTED FILE-----\\nabc\\n\
-----END AGE ENCRYPTED FILE-----\\n"}],
\t\t"lastmodified": "2026-11-29T14:38:08Z",
\t\t"mac": "ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]",
\t\t"shamir_threshold": 2,
\t\t"unencrypted_suffix": "_unencrypted",
\t\t"version": "3.11.0"
\t}
}
"""


def test_load_encrypted_splits_data_and_raw_metadata() -> None:
    (branch,), raw = STORE.load_encrypted(ENCRYPTED)
    assert branch.keys_() == ["data", "n"]
    assert raw["version"] == "3.11.0"
    assert raw["shamir_threshold"] == 2
    assert type(raw["shamir_threshold"]) is int
    assert raw["age"][0]["enc"].endswith("-----END AGE ENCRYPTED FILE-----\n")


def test_metadata_field_names_match_case_insensitively_like_go() -> None:
    data = ENCRYPTED.replace(b'"version"', b'"Version"').replace(b'"recipient"', b'"RECIPIENT"')
    _, raw = STORE.load_encrypted(data)
    assert raw["version"] == "3.11.0"
    assert raw["age"][0]["recipient"] == "age1xyz"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            b'"version": "3.11.0"',
            b'"version": 3.11',
            "Error unmarshalling input json: json: cannot unmarshal number into Go struct field "
            "Metadata.sops.version of type string",
        ),
        (
            b'"shamir_threshold": 2',
            b'"shamir_threshold": 2.0',
            "cannot unmarshal number 2.0 into Go struct field Metadata.sops.shamir_threshold of "
            "type int",
        ),
        (
            b'"recipient": "age1xyz"',
            b'"recipient": 5',
            "cannot unmarshal number into Go struct field agekey.sops.age.recipient of type string",
        ),
        (
            b'"shamir_threshold": 2',
            b'"shamir_threshold": 1e+30',
            "cannot unmarshal number 1e+30 into Go struct field Metadata.sops.shamir_threshold",
        ),
        (
            b'"shamir_threshold": 2',
            b'"age": {}',
            "cannot unmarshal object into Go struct field Metadata.sops.age of type "
            "[]stores.agekey",
        ),
    ],
)
def test_metadata_with_the_wrong_type_fails_like_sops(old: bytes, new: bytes, message: str) -> None:
    with pytest.raises(StoreError) as info:
        STORE.load_encrypted(ENCRYPTED.replace(old, new))
    assert message in info.value.message
    assert info.value.exit_code == ExitCode.ERROR_GENERIC


def test_a_file_without_sops_metadata_is_not_encrypted() -> None:
    with pytest.raises(MetadataNotFound):
        STORE.load_encrypted(b'{"a": "b"}')
    with pytest.raises(MetadataNotFound):
        STORE.load_encrypted(b'{"a": "b", "sops": null}')


def test_a_sops_entry_that_is_not_an_object_fails() -> None:
    with pytest.raises(StoreError, match="cannot unmarshal array into Go struct field SopsFile"):
        STORE.load_encrypted(b'{"sops": []}')


def test_an_encrypted_file_is_checked_whole() -> None:
    with pytest.raises(StoreError, match="Error unmarshalling input json") as info:
        STORE.load_encrypted(ENCRYPTED + b"x")
    assert info.value.exit_code == ExitCode.ERROR_GENERIC


# ------------------------------------------------------------------------------ writing
def test_strings_are_escaped_like_go_json_marshal() -> None:
    text = '<>&\u2028\u2029\b\f\n\r\t\x01\x1f\x7fé\U0001f600"\\/\ufffd'
    assert json_string(text) == (
        '"\\u003c\\u003e\\u0026\\u2028\\u2029\\b\\f\\n\\r\\t\\u0001\\u001f\x7fé\U0001f600'
        '\\"\\\\/\ufffd"'
    )


def test_invalid_utf8_in_raw_bytes_is_written_as_escaped_replacement_chars() -> None:
    assert json_string(b"ok\x00\xff<\xe2\x82") == '"ok\\u0000\\ufffd\\u003c\\ufffd\\ufffd"'
    # a str holding raw bytes (surrogateescape) is the same Go string
    raw = b"ok\xff".decode("utf-8", "surrogateescape")
    assert json_string(raw) == '"ok\\ufffd"'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (-1.5, "-1.5"),
        (0.1, "0.1"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.2345678901234567e19, "12345678901234567000"),
        (1.2345678901234568e29, "1.2345678901234568e+29"),
        (1e-6, "0.000001"),
        (1.234e-6, "0.000001234"),
        (1e-7, "1e-7"),
        (-1e-7, "-1e-7"),
        (2.5e-5, "0.000025"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (1e100, "1e+100"),
    ],
)
def test_floats_use_encoding_json_format(value: float, text: str) -> None:
    assert format_json_float(value) == text


def test_values_from_other_stores_are_written_as_sops_does() -> None:
    branch = Branch(
        [
            ("i", 42),
            ("u", Uint64(18446744073709551615)),
            ("b", True),
            ("t", GoTime("2001-12-14T21:59:43.1-05:00")),
            (Comment(" dropped"), None),
            ("l", ["x", Comment(" gone"), 1.5]),
            ("nil", NilList()),
            ("empty", []),
            ("m", Branch([(Comment(" only a comment"), None)])),
            ("raw", b"hello"),
        ]
    )
    assert plain(branch) == (
        '{\n\t"i": 42,\n\t"u": 18446744073709551615,\n\t"b": true,\n'
        '\t"t": "2001-12-14T21:59:43.1-05:00",\n\t"l": [\n\t\t"x",\n\t\t1.5\n\t],\n'
        '\t"nil": null,\n\t"empty": [],\n\t"m": {},\n\t"raw": "hello"\n}\n'
    )


def test_indent_option_uses_spaces() -> None:
    branch = load('{"a": {"b": [1]}}')
    assert plain(branch, 2) == '{\n  "a": {\n    "b": [\n      1\n    ]\n  }\n}\n'
    assert plain(branch, 0) == '{\n"a": {\n"b": [\n1\n]\n}\n}\n'
    with pytest.raises(StoreError, match="smaller than -1"):
        plain(branch, -2)


def test_an_empty_tree_is_an_empty_object() -> None:
    assert plain(Branch()) == "{}\n"
    assert STORE.emit_plain([]) == b"{}\n"


def test_nan_and_infinity_cannot_be_written_exit_4() -> None:
    with pytest.raises(StoreError) as info:
        plain(Branch([("a", float("nan"))]))
    assert info.value.message == (
        "Error marshaling to json: Error encoding value : json: unsupported value: NaN"
    )
    assert info.value.exit_code == ExitCode.ERROR_DUMPING_TREE
    with pytest.raises(StoreError) as info:
        plain(Branch([("a", Branch([("b", [float("-inf")])]))]))
    assert info.value.message == (
        "Error marshaling to json: Error encoding value : Error encoding value : "
        "json: unsupported value: -Inf"
    )


def test_emit_encrypted_appends_the_metadata_last() -> None:
    metadata = Branch(
        [
            ("key_groups", [Branch([("hc_vault", NilList()), ("age", [])])]),
            ("lastmodified", "2026-11-29T14:38:08Z"),
            ("version", "3.11.0"),
        ]
    )
    out = STORE.emit_encrypted([Branch([("a", "ENC[x]")])], metadata).decode()
    assert out == (
        '{\n\t"a": "ENC[x]",\n\t"sops": {\n\t\t"key_groups": [\n\t\t\t{\n'
        '\t\t\t\t"hc_vault": null,\n\t\t\t\t"age": []\n\t\t\t}\n\t\t],\n'
        '\t\t"lastmodified": "2026-11-29T14:38:08Z",\n\t\t"version": "3.11.0"\n\t}\n}\n'
    )


def test_emit_value_matches_sops_extract() -> None:
    # what `sops decrypt --extract` prints: lists and scalars indented without
    # a final newline, strings raw, mappings as a whole document
    assert STORE.emit_value(["a", 2.0, Branch([("k", "v")])]) == (
        b'[\n\t"a",\n\t2,\n\t{\n\t\t"k": "v"\n\t}\n]'
    )
    assert STORE.emit_value(1.5) == b"1.5"
    assert STORE.emit_value(None) == b"null"
    assert STORE.emit_value(True) == b"true"
    assert STORE.emit_value([]) == b"[]"
    assert STORE.emit_value("str<&>") == b"str<&>"
    assert STORE.emit_value(Branch([("x", "y")])) == b'{\n\t"x": "y"\n}\n'
    with pytest.raises(StoreError, match=r"^json: unsupported value: NaN$"):
        STORE.emit_value([float("nan")])


def test_a_sops_key_at_the_top_marks_an_already_encrypted_file() -> None:
    assert STORE.has_sops_top_level_key(load('{"a": 1, "sops": {}}'))
    assert not STORE.has_sops_top_level_key(load('{"SOPS": 1, "a": {"sops": 1}}'))


def test_get_store_passes_the_indent_option() -> None:
    store = get_store("json", indent=4)
    assert store.emit_plain([Branch([("a", "b")])]) == b'{\n    "a": "b"\n}\n'


def test_five_thousand_values_load_and_emit_quickly() -> None:
    doc = {
        f"svc{i}": {
            "user": f"u{i}",
            "password": "p<a>ss&" * 3,
            "port": i,
            "ratio": i / 7,
            "on": True,
            "tags": ["a", "b", "ü"],
            "nested": {"x": None, "y": "ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]"},
        }
        for i in range(500)
    }
    data = json.dumps(doc).encode()
    best_load = best_emit = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        (branch,) = STORE.load_plain(data)
        middle = time.perf_counter()
        STORE.emit_plain([branch])
        best_load = min(best_load, middle - start)
        best_emit = min(best_emit, time.perf_counter() - middle)
    # ~2 ms and ~7 ms on the development machine; generous bounds for CI
    assert best_load < 0.1
    assert best_emit < 0.1


# ------------------------------------------------------------------ against real sops
def _sops_branch(document: bytes) -> Branch:
    def fix(value: object) -> object:
        if isinstance(value, Branch):
            return Branch(
                (k, NilList() if k == "hc_vault" and v is None else fix(v)) for k, v in value
            )
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    metadata = json.loads(document, object_pairs_hook=Branch)
    result = fix(dict(metadata)["sops"])
    assert isinstance(result, Branch)
    return result


CORPUS = {
    "types": b'{"a": 1, "b": "x", "c": [1, 2.5, true, null], "d": {}, "e": [], "f": {"g": [[]]}}',
    "strings": '{"s": "<>&\u2028\\b\\u0001\x7fé\U0001f600\\"\\\\", "\\u00e9<k>": "v"}'.encode(),
    "numbers": b'{"n": [0, -0, 1e21, 1e20, 1e-7, 0.000001, 5e-324, 12345678901234567890, 1E5]}',
    "surrogates": b'{"a": "\\ud800", "b": "\\ud83d\\ude00", "c": "x\xff\xe2\x82y"}',
    "duplicates": b'{"a": "1", "a": "2", "m": {"x": "1", "x": "2"}}',
    "trailing": b'  {"a": "b"} and then some',
}


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(CORPUS))
def test_matches_the_sops_binary(name: str, tmp_path: Path) -> None:
    from support.sops_oracle import AgeKeyPair, run_sops, skip_without_sops

    skip_without_sops()
    key = AgeKeyPair.generate()
    home = tmp_path / "home"
    home.mkdir()
    source = tmp_path / "in.json"
    source.write_bytes(CORPUS[name])
    env = {"SOPS_AGE_KEY": key.identity}
    encrypted = run_sops(
        ["encrypt", "--age", key.recipient, "--encrypted-regex", "^NEVER$", str(source)],
        cwd=tmp_path,
        home=home,
        env=env,
    )
    assert encrypted.returncode == 0, encrypted.stderr
    source.write_bytes(encrypted.stdout)
    decrypted = run_sops(["decrypt", str(source)], cwd=tmp_path, home=home, env=env)
    assert decrypted.returncode == 0, decrypted.stderr

    assert STORE.emit_plain(STORE.load_plain(CORPUS[name])) == decrypted.stdout
    branches, _ = STORE.load_encrypted(encrypted.stdout)
    assert STORE.emit_plain(branches) == decrypted.stdout
    assert STORE.emit_encrypted(branches, _sops_branch(encrypted.stdout)) == encrypted.stdout
