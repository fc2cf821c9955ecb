"""The INI store parses like gopkg.in/ini.v1 (as sops 3.11 calls it) and writes
exactly what sops 3.11 writes.

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
from homelab_secrets.sops.stores.ini_store import IniStore
from homelab_secrets.sops.stores.json_store import JsonStore

STORE = IniStore()


def load(data: bytes) -> Branch:
    (branch,) = STORE.load_plain(data)
    return branch


def emit(*sections: tuple[str, object]) -> str:
    return STORE.emit_plain([Branch(sections)]).decode()


def section(branch: Branch, index: int) -> list[tuple[object, object]]:
    return list(branch[index][1])


CORPUS = b"""; c-default
top = 1
top2: two
[sec1] ; sec inline
; c-key1
# c-key1b
key1 = v1 ; inline1
semi = a;b
hash = a#b
spaced = "  q  "
single = 'sq'
bt = `x;y`
mixed = "a"b"
tq = \"\"\"multi
line\"\"\" ; after
cont = abc \\
  def
empty =
eq = a=b=c
colon = a:b
"qk=x" = quoted key
`bk` = backtick key
[ spaced sec ]
k = v
[sec1]
dup = second sec1
key1 = redefined
[DEFAULT]
late = d
"""

# what sops 3.11 writes for CORPUS (the body of `sops encrypt --encrypted-regex '^NEVER$'`)
CORPUS_OUT = """; c-default
top  = 1
top2 = two

; sec inline
[sec1]
; c-key1
# c-key1b
; inline1
key1   = v1
; b
semi   = a
; b
hash   = a
spaced = "  q  "
single = sq
bt     = `x;y`
mixed  = "a"b"
; after
tq     = \"\"\"multi
line\"\"\"
cont   = abc def
empty  =␣
eq     = a=b=c
colon  = a:b
`qk=x` = quoted key
bk     = backtick key

[ spaced sec ]
k = v

[sec1]
dup  = second sec1
key1 = redefined

[DEFAULT]
late = d
""".replace("␣", " ")  # an empty value keeps its space


# ------------------------------------------------------------------------------ parsing
def test_parses_the_corpus_like_ini_v1() -> None:
    branch = load(CORPUS)
    assert branch.keys_() == ["DEFAULT", "sec1", " spaced sec ", "sec1", "DEFAULT"]
    assert section(branch, 0) == [("top", "1"), (Comment("c-default"), None), ("top2", "two")]
    assert section(branch, 1) == [
        (Comment("sec inline"), None),
        ("key1", "v1"),
        (Comment("c-key1\n# c-key1b\n; inline1"), None),
        ("semi", "a"),
        (Comment("b"), None),
        ("hash", "a"),
        (Comment("b"), None),
        ("spaced", "  q  "),
        ("single", "sq"),
        ("bt", "x;y"),
        ("mixed", '"a"b"'),
        ("tq", "multi\nline"),
        (Comment("after"), None),
        ("cont", "abc def"),
        ("empty", ""),
        ("eq", "a=b=c"),
        ("colon", "a:b"),
        ("qk=x", "quoted key"),
        ("bk", "backtick key"),
    ]
    assert section(branch, 3) == [("dup", "second sec1"), ("key1", "redefined")]


def test_round_trip_matches_sops_output() -> None:
    assert STORE.emit_plain(STORE.load_plain(CORPUS)).decode() == CORPUS_OUT


def test_default_is_always_the_first_section_even_when_empty() -> None:
    assert load(b"") == [("DEFAULT", [])]
    assert load(b"[s]\na = 1\n") == [("DEFAULT", []), ("s", [("a", "1")])]


def test_a_repeated_key_keeps_its_place_and_takes_the_last_value_and_comment() -> None:
    branch = load(b"[s]\n; first\na = 1\nb = 2\n; second\na = 3\nc = 4\na = 5\n")
    assert section(branch, 1) == [("a", "5"), ("b", "2"), ("c", "4")]


def test_dash_keys_are_numbered_per_section() -> None:
    branch = load(b"[s]\n- = a\n- = b\n[t]\n- = c\n")
    assert section(branch, 1) == [("#1", "a"), ("#2", "b")]
    assert section(branch, 2) == [("#1", "c")]


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        (b'a = ""', "a", ""),
        (b"a = ''", "a", ""),
        (b'a = "', "a", '"'),
        (b"a = 'x\"", "a", "'x\""),
        (b'a = """x"""', "a", "x"),
        (b"a = ``", "a", ""),
        (b'a = "a b"  ; cmt', "a", "a b"),
        (b"a = ;", "a", ""),
        (b"a = \t ", "a", ""),
        (b"a:b = c", "a", "b = c"),
        (b"k#x = 1", "k#x", "1"),
        (b'"a b" = 1', "a b", "1"),
        (b'"""k"x""" = 2', 'k"x', "2"),
        (b"`k:y` = 3", "k:y", "3"),
        (b'k"q = 4', 'k"q', "4"),
        (b"   a   =   b   ", "a", "b"),
        ("k = \u00a0nbsp\u00a0".encode(), "k", "nbsp"),
        (b"k = \x1cfs\x1c", "k", "\x1cfs\x1c"),  # not a space for Go
    ],
)
def test_keys_and_values_are_read_like_ini_v1(line: bytes, key: str, value: str) -> None:
    assert section(load(b"[s]\n" + line + b"\n"), 1)[0] == (key, value)


def test_multi_line_values() -> None:
    branch = load(b'[s]\na = `line1\nline2` ; c\nb = 1 \\\n 2 \\\n 3\nc = """\nx\n"""\n')
    assert section(branch, 1) == [
        ("a", "line1\nline2"),
        (Comment("c"), None),
        ("b", "1 2 3"),
        ("c", "\nx\n"),
    ]


def test_crlf_bom_and_invalid_utf8() -> None:
    assert section(load(b"\xef\xbb\xbf[s]\r\na = x y \r\n; c\r\nb = 2\r\n"), 1) == [
        ("a", "x y"),
        ("b", "2"),
        (Comment("c"), None),
    ]
    data = b"[s]\na = x\xffy\n"
    assert STORE.emit_plain(STORE.load_plain(data)) == data


def test_comments_at_the_end_of_the_file_are_dropped() -> None:
    assert load(b"[s]\na = 1\n; trailing\n") == [("DEFAULT", []), ("s", [("a", "1")])]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[s]\nSECRET\n", "key-value delimiter not found (line 2)"),
        (b"[s\na = 1\n", "unclosed section (line 1)"),
        (b"[]\na = 1\n", "empty section name (line 1)"),
        (b"[s]\n= 1\n", "empty key name (line 2)"),
        (b'[s]\na = """x\nSECRET\n', "missing closing key quote"),
        (b'[s]\n"SECRET = 1\n', "missing closing key quote (line 2)"),
    ],
)
def test_invalid_input_fails_with_exit_2_without_quoting_it(data: bytes, message: str) -> None:
    with pytest.raises(StoreError) as info:
        STORE.load_plain(data)
    assert info.value.message.startswith(f"Could not unmarshal input data: {message}")
    assert info.value.exit_code == ExitCode.COULD_NOT_READ_INPUT_FILE
    assert "SECRET" not in info.value.message


# ------------------------------------------------------------------------------ writing
def test_default_section_has_no_header_only_when_it_comes_first() -> None:
    assert emit(("DEFAULT", Branch([("x", "1")])), ("a", Branch([("y", "2")]))) == (
        "x = 1\n\n[a]\ny = 2\n"
    )
    assert emit(("a", Branch([("y", "2")])), ("DEFAULT", Branch([("x", "1")]))) == (
        "[a]\ny = 2\n\n[DEFAULT]\nx = 1\n"
    )
    assert emit(("DEFAULT", Branch()), ("a", Branch([("y", "2")]))) == "[a]\ny = 2\n"
    assert emit(("default", Branch([("x", "1")]))) == "x = 1\n"
    assert emit(("a", Branch()), ("b", Branch([("x", "1")]))) == "[a]\n\n[b]\nx = 1\n"
    assert emit(("DEFAULT", Branch())) == ""


def test_repeated_sections_stay_separate_and_repeated_keys_merge() -> None:
    out = emit(
        ("s", Branch([("a", "1"), ("a", "2"), ("b", "3")])),
        ("s", Branch([("c", "4")])),
    )
    assert out == "[s]\na = 2\nb = 3\n\n[s]\nc = 4\n"


def test_values_and_keys_are_quoted_like_ini_v1() -> None:
    values = Branch(
        [
            ("lead", " x"),
            ("trail", "x "),
            ("hash", "a#b"),
            ("semi", "a;b"),
            ("nl", "a\nb"),
            ("bt", "a`b"),
            ("dq", '"q"'),
            ("tab", "\tx"),
            ("nbsp", "\u00a0x"),
            ("fs", "\x1cx"),
            ("empty", ""),
            ("all", " a#b` "),
        ]
    )
    assert emit(("s", values)) == (
        '[s]\nlead  = " x"\ntrail = "x "\nhash  = `a#b`\nsemi  = `a;b`\n'
        'nl    = """a\nb"""\nbt    = """a`b"""\ndq    = "q"\ntab   = "\tx"\n'
        'nbsp  = "\u00a0x"\nfs    = \x1cx\nempty = \nall   = """ a#b` """\n'
    )
    keys = Branch(
        [("a b", "1"), ("k=v", "2"), ("k:v", "3"), ('k"q', "4"), ("k`b", "5"), ("éé", "6")]
    )
    assert emit(("s", keys)) == (
        # padded to the longest written key, in bytes ("éé" is 4)
        '[s]\na b       = 1\n`k=v`     = 2\n`k:v`     = 3\n`k"q`     = 4\n"""k`b""" = 5\n'
        "éé      = 6\n"
    )


def test_comments_go_above_their_key_and_the_last_one_wins() -> None:
    tree = Branch(
        [
            (Comment(" section comment"), None),
            ("a", "1"),
            (Comment(" inline"), None),
            (Comment(" c3"), None),
            ("b", "x"),
            (Comment("multi\n# line"), None),
        ]
    )
    assert emit((Comment("top-level comments are dropped"), None), ("s", tree)) == (
        ";  section comment\n[s]\n; c3\na = 1\n; multi\n# line\nb = x\n"
    )


def test_non_string_values_are_written_with_go_formatting() -> None:
    # verified with `sops decrypt --output-type ini` of a YAML file
    values = Branch(
        [
            ("i", 42),
            ("f", 1e6),
            ("g", 123456.0),
            ("b", True),
            ("n", None),
            ("t", GoTime("2001-12-14T21:59:43.10-05:00")),
            (
                "l",
                [
                    GoTime("2001-12-14T00:00:00Z"),
                    GoTime("2001-12-14T21:59:43.1-05:00"),
                    1e6,
                    123456789.0,
                    0.5,
                    1e-5,
                    "x",
                    None,
                    True,
                    Branch([("k", [1])]),
                    [],
                    Branch(),
                    float("nan"),
                    float("inf"),
                ],
            ),
            ("m", Branch([("k", "v"), ("j", [1])])),
        ]
    )
    assert emit(("s", values)) == (
        "[s]\ni = 42\nf = 1E+06\ng = 123456.0\nb = true\nn = <nil>\n"
        "t = 2001-12-14T21:59:43-05:00\n"
        "l = [2001-12-14 00:00:00 +0000 UTC 2001-12-14 21:59:43.1 -0500 -0500 1e+06 "
        "1.23456789e+08 0.5 1e-05 x <nil> true [{k [1]}] [] [] NaN +Inf]\n"
        "m = [{k v} {j [1]}]\n"
    )


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        (Branch([("s", "scalar")]), "Section values should always be TreeBranches"),
        (Branch([("t", ["x"])]), "Section values should always be TreeBranches"),
        (Branch([("", Branch([("a", "1")]))]), "Error encoding section : empty section name"),
        (Branch([("s", Branch([("", "1")]))]), "Error encoding key: error creating new key: empty"),
    ],
)
def test_trees_ini_cannot_hold_fail_with_exit_4(tree: Branch, message: str) -> None:
    with pytest.raises(StoreError) as info:
        STORE.emit_plain([tree])
    assert message in info.value.message
    assert info.value.exit_code == ExitCode.ERROR_DUMPING_TREE


def test_emit_value_is_compact_go_json() -> None:
    # `sops decrypt --output-type ini --extract '["b"]'` of {b: [1, {k: v}]}
    assert STORE.emit_value([1, Branch([("k", "v")])]) == b'[1,[{"Key":"k","Value":"v"}]]'
    assert STORE.emit_value(1.5) == b"1.5"
    assert STORE.emit_value("raw") == b"raw"
    with pytest.raises(StoreError, match="json: unsupported value: NaN"):
        STORE.emit_value([float("nan")])


# --------------------------------------------------------------------------- metadata
METADATA = Branch(
    [
        (
            "age",
            [Branch([("recipient", "age1xyz"), ("enc", "-----BEGIN-----\nabc\n-----END-----\n")])],
        ),
        ("lastmodified", "2026-11-29T14:38:13Z"),
        ("mac", "ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]"),
        ("unencrypted_suffix", "_unencrypted"),
        ("version", "3.11.0"),
    ]
)
ENCRYPTED = """top = ENC[AES256_GCM,data:6nSq7TY=,iv:i,tag:t,type:str]

; ENC[AES256_GCM,data:c,iv:i,tag:t,type:comment]
[sec1]
key_unencrypted = plain

[sops]
age__list_0__map_enc       = -----BEGIN-----\\nabc\\n-----END-----\\n
age__list_0__map_recipient = age1xyz
lastmodified               = 2026-11-29T14:38:13Z
mac                        = ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]
unencrypted_suffix         = _unencrypted
version                    = 3.11.0
"""


def test_emit_encrypted_writes_a_last_sops_section() -> None:
    tree = Branch(
        [
            ("DEFAULT", Branch([("top", "ENC[AES256_GCM,data:6nSq7TY=,iv:i,tag:t,type:str]")])),
            (
                "sec1",
                Branch(
                    [
                        (Comment("ENC[AES256_GCM,data:c,iv:i,tag:t,type:comment]"), None),
                        ("key_unencrypted", "plain"),
                    ]
                ),
            ),
        ]
    )
    assert STORE.emit_encrypted([tree], METADATA).decode() == ENCRYPTED


def test_load_encrypted_reads_the_sops_section_in_any_order() -> None:
    lines = ENCRYPTED.splitlines(keepends=True)
    shuffled = "".join(lines[:7] + lines[7:][::-1]).encode()  # sops 3.11 writes a random order
    (branch,), raw = STORE.load_encrypted(shuffled)
    assert branch.keys_() == ["DEFAULT", "sec1"]
    assert raw == {
        "age": [{"enc": "-----BEGIN-----\nabc\n-----END-----\n", "recipient": "age1xyz"}],
        "lastmodified": "2026-11-29T14:38:13Z",
        "mac": "ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]",
        "unencrypted_suffix": "_unencrypted",
        "version": "3.11.0",
    }


def test_groups_and_shamir_threshold_flatten_like_sops() -> None:
    metadata = Branch(
        [
            ("shamir_threshold", 2),
            (
                "key_groups",
                [
                    Branch(
                        [
                            ("hc_vault", NilList()),
                            ("age", [Branch([("recipient", "r1"), ("enc", "e1")])]),
                        ]
                    ),
                    Branch(
                        [
                            ("hc_vault", NilList()),
                            ("age", [Branch([("recipient", "r2"), ("enc", "e2")])]),
                        ]
                    ),
                ],
            ),
            ("lastmodified", "2026-11-29T16:02:36Z"),
            ("mac_only_encrypted", True),
            ("version", "3.11.0"),
        ]
    )
    out = STORE.emit_encrypted([Branch([("s", Branch([("a", "1")]))])], metadata).decode()
    assert out == (
        "[s]\na = 1\n\n[sops]\n"
        "key_groups__list_0__map_age__list_0__map_enc       = e1\n"
        "key_groups__list_0__map_age__list_0__map_recipient = r1\n"
        "key_groups__list_1__map_age__list_0__map_enc       = e2\n"
        "key_groups__list_1__map_age__list_0__map_recipient = r2\n"
        "lastmodified                                       = 2026-11-29T16:02:36Z\n"
        "mac_only_encrypted                                 = true\n"
        "shamir_threshold                                   = 2\n"
        "version                                            = 3.11.0\n"
    )
    _, raw = STORE.load_encrypted(out.encode())
    assert raw["shamir_threshold"] == 2
    assert raw["mac_only_encrypted"] is True
    assert raw["key_groups"][1] == {"age": [{"enc": "e2", "recipient": "r2"}]}


# functional-tests/res/format-2.enc.ini in getsops/sops: sops 3.13.1 wrote real
# multi-line values in [sops]; 3.11 writes escaped ones. Both must read the same.
FORMAT_2_ENC_INI = b'''[foo]
bar = ENC[AES256_GCM,data:sYUq,iv:IFRjAFMJoylEg0HWkxWi118rZhHDX0NCWW9V2UcnyjI=,tag:vZ1x,type:str]

[sops]
lastmodified                = 2026-05-22T20:15:23Z
mac                         = ENC[AES256_GCM,data:h2dz,iv:lDrw,tag:vstW,type:str]
pgp__list_0__map_created_at = 2026-05-22T20:15:17Z
pgp__list_0__map_enc        = """-----BEGIN PGP MESSAGE-----

wcBMAyUpShfNkFB/AQf/eLAAHlnmaYZGuitpb7FU3tarxgRLHKoRSYCXBWg1CSPJ
=j3Rn
-----END PGP MESSAGE-----"""
pgp__list_0__map_fp         = FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4
unencrypted_suffix          = _unencrypted
version                     = 3.13.1
'''
PGP_ENC = (
    "-----BEGIN PGP MESSAGE-----\n\n"
    "wcBMAyUpShfNkFB/AQf/eLAAHlnmaYZGuitpb7FU3tarxgRLHKoRSYCXBWg1CSPJ\n=j3Rn\n"
    "-----END PGP MESSAGE-----"
)


def test_reads_multi_line_and_escaped_metadata_alike() -> None:
    (branch,), raw = STORE.load_encrypted(FORMAT_2_ENC_INI)
    assert branch == [("DEFAULT", []), ("foo", [("bar", branch[1][1][0][1])])]
    assert raw["pgp"][0]["enc"] == PGP_ENC
    escaped = FORMAT_2_ENC_INI.replace(
        PGP_ENC.encode().join((b'"""', b'"""')), PGP_ENC.replace("\n", "\\n").encode()
    )
    assert escaped != FORMAT_2_ENC_INI
    _, raw2 = STORE.load_encrypted(escaped)
    assert raw2 == raw


def test_a_file_without_a_sops_section_is_not_encrypted() -> None:
    with pytest.raises(MetadataNotFound):
        STORE.load_encrypted(b"[s]\na = 1\n")


def test_a_sops_section_marks_an_already_encrypted_file() -> None:
    assert STORE.has_sops_top_level_key(load(b"[sops]\nx = 1\n"))
    assert not STORE.has_sops_top_level_key(load(b"[s]\nsops = 1\n"))


# ------------------------------------------------------------------ against real sops
ORACLE_CORPUS = {
    "corpus": CORPUS,
    "dup_default": b"a = 1\n[DEFAULT]\nb = 2\n",
    "keys": b'[s]\n"a b" = 1\n"""k"x""" = 2\n`k:y` = 3\nk"q = 4\n a  = 5\nk\tt = 6\n',
    "quotes": b'[s]\na = ""\nb = \'\'\nc = "\nd = "x\ne = \'x"\nf = """x"""\ng = ``\n'
    b'h = "a b"  ; c\n',
    "comments": b"; a\n; b\n[s] # inline\nk = v\n; trailing\n",
    "unicode": "[sé]\nclé = välue ü\nk = \u00a0nbsp\u00a0\n".encode() + b"raw = \xff\n",
}


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(ORACLE_CORPUS))
def test_matches_the_sops_binary(name: str, tmp_path: Path) -> None:
    from support.sops_oracle import AgeKeyPair, run_sops, skip_without_sops

    skip_without_sops()
    key = AgeKeyPair.generate()
    home = tmp_path / "home"
    home.mkdir()
    source = tmp_path / "in.ini"
    source.write_bytes(ORACLE_CORPUS[name])
    env = {"SOPS_AGE_KEY": key.identity}
    args = ["encrypt", "--age", key.recipient, "--encrypted-regex", "^NEVER$"]
    encrypted = run_sops([*args, str(source)], cwd=tmp_path, home=home, env=env)
    assert encrypted.returncode == 0, encrypted.stderr
    as_json = run_sops(
        [*args, "--output-type", "json", str(source)], cwd=tmp_path, home=home, env=env
    )
    assert as_json.returncode == 0, as_json.stderr

    mine = STORE.emit_plain(STORE.load_plain(ORACLE_CORPUS[name]))
    body = encrypted.stdout[: encrypted.stdout.index(b"[sops]\n")]
    assert (mine + b"\n" if mine else mine) == body
    expected = json.loads(as_json.stdout)
    expected.pop("sops")
    assert json.loads(JsonStore().emit_plain(STORE.load_plain(ORACLE_CORPUS[name]))) == expected
    # [sops] keys come in random order from sops 3.11: compare as sets
    branches, raw = STORE.load_encrypted(encrypted.stdout)
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
    again = STORE.emit_encrypted(branches, metadata)
    assert sorted(again.splitlines()) == sorted(encrypted.stdout.splitlines())
