"""The dotenv store parses and writes exactly as sops 3.11 does.

Expected bytes were produced by the real ``sops`` 3.11 binary; the last tests
re-check a corpus against it when it is installed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homelab_secrets.errors import ExitCode
from homelab_secrets.sops.model import Branch, Comment, GoTime, NilList
from homelab_secrets.sops.stores import MetadataNotFound, StoreError
from homelab_secrets.sops.stores.dotenv_store import DotenvStore, has_sops_keys
from homelab_secrets.sops.stores.json_store import JsonStore

STORE = DotenvStore()


def load(data: bytes) -> Branch:
    (branch,) = STORE.load_plain(data)
    return branch


def emit(branch: Branch) -> bytes:
    return STORE.emit_plain([branch])


# ------------------------------------------------------------------------------ parsing
def test_lines_split_on_the_first_equals_sign_without_trimming_or_unquoting() -> None:
    branch = load(b'A=1\nfoo = bar \nQ="q v"\nEQ=a=b=c\nEMPTY=\n=nokey\nexport X=1\n')
    assert branch == [
        ("A", "1"),
        ("foo ", " bar "),
        ("Q", '"q v"'),
        ("EQ", "a=b=c"),
        ("EMPTY", ""),
        ("", "nokey"),
        ("export X", "1"),
    ]


def test_comments_keep_the_text_after_the_hash() -> None:
    branch = load(b"#plain\n# spaced\nA=#not a comment\n")
    assert branch == [(Comment("plain"), None), (Comment(" spaced"), None), ("A", "#not a comment")]


def test_only_newline_splits_lines_and_carriage_returns_stay_in_values() -> None:
    assert load(b"A=1\r\nB=2\r\n") == [("A", "1\r"), ("B", "2\r")]


def test_empty_lines_are_skipped_and_the_last_line_needs_no_newline() -> None:
    assert load(b"\n\nA=1\n\n\nB=2") == [("A", "1"), ("B", "2")]
    assert load(b"") == []


def test_backslash_n_in_a_value_is_a_newline() -> None:
    assert load(b"A=line1\\nline2\nB=\\\\n\n") == [("A", "line1\nline2"), ("B", "\\\n")]


def test_every_value_is_a_string_even_numbers() -> None:
    assert load(b"NUM=42\nB=true\n") == [("NUM", "42"), ("B", "true")]


def test_invalid_utf8_survives_a_round_trip() -> None:
    data = b"A=\xff\xfe\nK\xe9=v\n"
    assert emit(load(data)) == data


def test_a_line_without_equals_sign_fails_naming_the_line_not_its_content() -> None:
    with pytest.raises(StoreError) as info:
        STORE.load_plain(b"A=1\nSECRETVALUE\n")
    assert info.value.message == "invalid dotenv input line 2: it has no '='"
    assert info.value.exit_code == ExitCode.COULD_NOT_READ_INPUT_FILE
    # a CRLF blank line is not empty: sops rejects it too
    with pytest.raises(StoreError, match="line 2"):
        STORE.load_plain(b"A=1\r\n\r\nB=2\r\n")


# ------------------------------------------------------------------------------ writing
def test_round_trip_matches_sops_output() -> None:
    data = b'A=1\nB=two words\n#comment\n# spaced comment\nC=\nD=a=b\nE="quoted"\nF=x\\ny\n'
    assert emit(load(data)) == data


def test_non_string_values_are_written_with_go_val_to_string() -> None:
    # verified with `sops decrypt --output-type dotenv` of a YAML file
    branch = Branch(
        [
            ("i", 42),
            ("neg", -7),
            ("f", 1.5),
            ("f2", 1e6),
            ("f3", 1.0),
            ("f4", 1e-7),
            ("f5", 123456.0),
            ("f6", 1e21),
            ("f7", 0.000012),
            ("f8", 1234567.0),
            ("f9", -0.0),
            ("f10", 100000.0),
            ("f11", 0.0001),
            ("big", 1e300),
            ("nan", float("nan")),
            ("inf", float("inf")),
            ("b", True),
            ("bf", False),
            ("t", GoTime("2001-12-14T00:00:00Z")),
            ("t2", GoTime("2001-12-14T21:59:43.1-05:00")),
            ("n", None),
            ("bin", b"hello"),
            (Comment(" comment"), None),
            ("ml", "a\nb"),
        ]
    )
    assert emit(branch).decode() == (
        "i=42\nneg=-7\nf=1.5\nf2=1E+06\nf3=1.0\nf4=1E-07\nf5=123456.0\nf6=1E+21\n"
        "f7=1.2E-05\nf8=1.234567E+06\nf9=-0.0\nf10=100000.0\nf11=0.0001\nbig=1E+300\n"
        "nan=NaN\ninf=+Inf\nb=true\nbf=false\nt=2001-12-14T00:00:00Z\n"
        "t2=2001-12-14T21:59:43-05:00\nn=<nil>\nbin=hello\n# comment\nml=a\\nb\n"
    )


def test_a_nested_value_cannot_be_written_exit_4() -> None:
    for value in ([1], Branch([("k", "v")])):
        with pytest.raises(StoreError) as info:
            emit(Branch([("ok", "x"), ("nested", value)]))
        assert info.value.message == "cannot use complex value in dotenv file; offending key nested"
        assert info.value.exit_code == ExitCode.ERROR_DUMPING_TREE


def test_emit_value_prints_strings_only() -> None:
    assert STORE.emit_value("s") == b"s"
    assert STORE.emit_value(Branch([("x", "y")])) == b"x=y\n"
    for value, go_type in ((1.5, "float64"), (3, "int"), ([1], "[]interface {}"), (None, "<nil>")):
        with pytest.raises(StoreError) as info:
            STORE.emit_value(value)
        assert info.value.message == (
            f"the dotenv store only supports emitting strings, got {go_type}"
        )
        assert info.value.exit_code == ExitCode.ERROR_DUMPING_TREE


# --------------------------------------------------------------------------- metadata
METADATA = Branch(
    [
        ("shamir_threshold", 2),
        (
            "key_groups",
            [
                Branch(
                    [
                        ("hc_vault", NilList()),
                        ("age", [Branch([("recipient", "age1a"), ("enc", "A\nB\n")])]),
                    ]
                ),
                Branch(
                    [
                        ("hc_vault", NilList()),
                        ("age", [Branch([("recipient", "age1b"), ("enc", "C\n")])]),
                    ]
                ),
            ],
        ),
        ("lastmodified", "2026-11-29T16:02:36Z"),
        ("mac", "ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]"),
        ("unencrypted_suffix", "_unencrypted"),
        ("mac_only_encrypted", True),
        ("version", "3.11.0"),
    ]
)

ENCRYPTED = (
    b"#ENC[AES256_GCM,data:c,iv:i,tag:t,type:comment]\n"
    b"A=ENC[AES256_GCM,data:9g==,iv:i,tag:t,type:str]\n"
    b"sops_key_groups__list_0__map_age__list_0__map_enc=A\\nB\\n\n"
    b"sops_key_groups__list_0__map_age__list_0__map_recipient=age1a\n"
    b"sops_key_groups__list_1__map_age__list_0__map_enc=C\\n\n"
    b"sops_key_groups__list_1__map_age__list_0__map_recipient=age1b\n"
    b"sops_lastmodified=2026-11-29T16:02:36Z\n"
    b"sops_mac=ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]\n"
    b"sops_mac_only_encrypted=true\n"
    b"sops_shamir_threshold=2\n"
    b"sops_unencrypted_suffix=_unencrypted\n"
    b"sops_version=3.11.0\n"
)


def test_emit_encrypted_appends_sorted_flattened_metadata() -> None:
    branch = Branch(
        [
            (Comment("ENC[AES256_GCM,data:c,iv:i,tag:t,type:comment]"), None),
            ("A", "ENC[AES256_GCM,data:9g==,iv:i,tag:t,type:str]"),
        ]
    )
    assert STORE.emit_encrypted([branch], METADATA) == ENCRYPTED


def test_load_encrypted_unflattens_the_metadata() -> None:
    (branch,), raw = STORE.load_encrypted(ENCRYPTED)
    assert branch.keys_() == ["A"]
    assert isinstance(branch[0][0], Comment)
    assert raw == {
        "key_groups": [
            {"age": [{"enc": "A\nB\n", "recipient": "age1a"}]},
            {"age": [{"enc": "C\n", "recipient": "age1b"}]},
        ],
        "lastmodified": "2026-11-29T16:02:36Z",
        "mac": "ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]",
        "mac_only_encrypted": True,
        "shamir_threshold": 2,
        "unencrypted_suffix": "_unencrypted",
        "version": "3.11.0",
    }


# functional-tests/res/format.enc.env in getsops/sops (written by sops 3.13.1)
FORMAT_ENC_ENV = (
    b"foo =ENC[AES256_GCM,data:XBV7lQ==,iv:d1FvB2AftTKfYFDO2XspPuv5IKcRhrljmRNCtbWoj7Q=,"
    b"tag:pprVAdWf3q4Bb4oRPXZlBQ==,type:str]\n"
    b"sops_lastmodified=2026-05-22T20:15:29Z\n"
    b"sops_mac=ENC[AES256_GCM,data:evEA,iv:fQ86,tag:c98H,type:str]\n"
    b"sops_pgp__list_0__map_created_at=2026-05-22T20:15:26Z\n"
    b"sops_pgp__list_0__map_enc=-----BEGIN PGP MESSAGE-----\\n\\nwcBMAyUpShfNkFB\\n=5coz\\n"
    b"-----END PGP MESSAGE-----\n"
    b"sops_pgp__list_0__map_fp=FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n"
    b"sops_unencrypted_suffix=_unencrypted\n"
    b"sops_version=3.13.1\n"
)


def test_reads_the_sops_repository_dotenv_vector() -> None:
    (branch,), raw = STORE.load_encrypted(FORMAT_ENC_ENV)
    assert branch.keys_() == ["foo "]  # the key keeps its trailing space: AAD "foo :"
    assert raw["pgp"] == [
        {
            "created_at": "2026-05-22T20:15:26Z",
            "enc": (
                "-----BEGIN PGP MESSAGE-----\n\nwcBMAyUpShfNkFB\n=5coz\n-----END PGP MESSAGE-----"
            ),
            "fp": "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4",
        }
    ]


def test_a_file_without_sops_keys_is_not_encrypted() -> None:
    with pytest.raises(MetadataNotFound):
        STORE.load_encrypted(b"A=1\n#sops_x=1\nSOPS_x=1\n")


def test_mac_only_encrypted_is_true_only_for_the_text_true() -> None:
    _, raw = STORE.load_encrypted(b"sops_version=3.11.0\nsops_mac_only_encrypted=True\n")
    assert raw["mac_only_encrypted"] is False


def test_a_bad_shamir_threshold_fails() -> None:
    with pytest.raises(StoreError, match="shamir_threshold is not an integer") as info:
        STORE.load_encrypted(b"sops_version=3.11.0\nsops_shamir_threshold=two\n")
    assert info.value.exit_code == ExitCode.ERROR_GENERIC


def test_a_flat_metadata_key_of_the_wrong_shape_fails_like_go() -> None:
    with pytest.raises(StoreError) as info:
        STORE.load_encrypted(b"sops_version=3.11.0\nsops_age=age1x\n")
    assert info.value.message == (
        "json: cannot unmarshal string into Go struct field Metadata.age of type []stores.agekey"
    )


def test_sops_prefixed_keys_mark_an_already_encrypted_file() -> None:
    # sops checks this in its encrypt command (exit 203), on the plain tree
    assert has_sops_keys(load(b"A=1\nsops_x=1\n"))
    assert STORE.has_sops_top_level_key(load(b"sops_=1\n"))
    assert not has_sops_keys(load(b"A=1\nSOPS_x=1\n#sops_x=1\nsopsx=1\n"))


# ------------------------------------------------------------------ against real sops
CORPUS = {
    "basic": b'A=1\nB=two words\n#comment\n# spaced comment\nC=\nD=a=b\nE="quoted"\n',
    "crlf": b"A=1\r\nB=2\r\n",
    "newlines": b"A=line1\\nline2\nB=\\\\n\n",
    "spaces": b" K = v \nfoo =  bar\n",
    "unicode": "É=é\nk=\U0001f600\n".encode() + b"raw=\xff\xfe\n",
    "blank": b"\n\nA=1\n\n\nB=2",
}


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(CORPUS))
def test_matches_the_sops_binary(name: str, tmp_path: Path) -> None:
    from support.sops_oracle import AgeKeyPair, run_sops, skip_without_sops

    skip_without_sops()
    key = AgeKeyPair.generate()
    home = tmp_path / "home"
    home.mkdir()
    source = tmp_path / "in.env"
    source.write_bytes(CORPUS[name])
    env = {"SOPS_AGE_KEY": key.identity}
    args = ["encrypt", "--age", key.recipient, "--encrypted-regex", "^NEVER$"]
    encrypted = run_sops([*args, str(source)], cwd=tmp_path, home=home, env=env)
    assert encrypted.returncode == 0, encrypted.stderr
    as_json = run_sops(
        [*args, "--output-type", "json", str(source)], cwd=tmp_path, home=home, env=env
    )
    assert as_json.returncode == 0, as_json.stderr

    mine = STORE.emit_plain(STORE.load_plain(CORPUS[name]))
    assert encrypted.stdout.startswith(mine)
    branches, raw = STORE.load_encrypted(encrypted.stdout)
    assert STORE.emit_plain(branches) == mine
    expected_values = json.loads(as_json.stdout)
    expected_values.pop("sops")
    assert json.loads(JsonStore().emit_plain(branches)) == expected_values
    # the metadata block, re-emitted from what we read, is byte-identical
    metadata = Branch(
        [
            (
                "age",
                [Branch([("recipient", a["recipient"]), ("enc", a["enc"])]) for a in raw["age"]],
            ),
            ("lastmodified", raw["lastmodified"]),
            ("mac", raw["mac"]),
            ("encrypted_regex", raw["encrypted_regex"]),
            ("version", raw["version"]),
        ]
    )
    assert STORE.emit_encrypted(branches, metadata) == encrypted.stdout
