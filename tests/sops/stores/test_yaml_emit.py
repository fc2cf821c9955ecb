"""The YAML emitter writes what sops 3.11 (yaml.v3 v3.0.4, indent 4) writes.

Two kinds of tests:

* tables of trees and the exact bytes sops printed for them (recorded from the
  real binary; they run everywhere);
* differential tests against the real ``sops`` binary: sops encrypts an input
  and decrypts it again, and its output must equal ``emit_plain`` of the tree
  we build for that input.  Trees come from a small test-only loader (PyYAML's
  composer plus yaml.v3's type resolution; comment-free inputs), from dotenv
  and INI inputs (whose trees with comments are unambiguous), and from our
  loader (``stores/yaml/load.py``).
"""

from __future__ import annotations

import base64
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from homelab_secrets.sops.model import Branch, Comment, GoTime, NilList, Uint64
from homelab_secrets.sops.stores.yaml import emitter as yaml_emit
from homelab_secrets.sops.stores.yaml import load as yaml_load
from homelab_secrets.sops.stores.yaml.emitter import emit_encrypted, emit_plain, emit_value, go_g
from support.sops_oracle import AgeKeyPair, requires_sops, run_sops

B = Branch
C = Comment


def text(branches: list[Branch], indent: int = 4) -> str:
    return emit_plain(branches, indent).decode("utf-8")


# ---------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------

GOLDEN_TREE = B(
    [
        (
            "x_unencrypted",
            B(
                [
                    ("m", B()),
                    (
                        "seq_of_maps",
                        [
                            B([("a", 1), ("b", ["p", "q"]), ("c", B([("d", "e")]))]),
                            B([("multi", "l1\nl2\n")]),
                        ],
                    ),
                    ("nested_seq", [["a", ["b"]], []]),
                    ("block_in_seq", ["first\nsecond", "keep\n\n"]),
                    ("keys", B([("on", 1), ("a b", 3), ("", 4)])),
                ]
            ),
        )
    ]
)

GOLDEN_TEXT = """\
x_unencrypted:
    m: {}
    seq_of_maps:
        - a: 1
          b:
            - p
            - q
          c:
            d: e
        - multi: |
            l1
            l2
    nested_seq:
        - - a
          - - b
        - []
    block_in_seq:
        - |-
          first
          second
        - |+
          keep

    keys:
        "on": 1
        a b: 3
        "": 4
"""


def test_golden_example_of_the_spec_is_byte_identical() -> None:
    assert text([GOLDEN_TREE]) == GOLDEN_TEXT


def test_indent_two_keeps_sequences_indented_and_hints_match() -> None:
    tree = B([("a", B([("b", [" x\n", B([("c", "d")])])]))])
    assert text([tree], indent=2) == "a:\n  b:\n    - |2\n       x\n    - c: d\n"


def test_out_of_range_indent_falls_back_like_yaml_v3() -> None:
    tree = B([("a", B([("b", 1)]))])
    assert text([tree], indent=0) == "a:\n    b: 1\n"  # SetIndent(0) means the default
    assert text([tree], indent=1) == "a:\n  b: 1\n"  # the emitter clamps to 2..9
    assert text([tree], indent=12) == "a:\n  b: 1\n"
    with pytest.raises(ValueError, match="Negative indentation"):
        emit_plain([tree], -1)  # sops: "Error dumping file: YAML Negative indentation ..."


def test_documents_are_separated_like_the_yaml_v3_encoder() -> None:
    docs = [B([("a", 1)]), B([("b", "keep\n\n")]), B(), B([("c", [])])]
    assert text(docs) == "a: 1\n---\nb: |+\n    keep\n\n---\n{}\n---\nc: []\n"


def test_no_branches_emit_nothing() -> None:
    assert emit_plain([]) == b""


def test_deep_nesting_of_lists_and_maps() -> None:
    tree = B(
        [
            ("a", [[["x\ny\n"], B([("k", "z")])], B([("m", [B([("n", "deep\n")])])])]),
            ("e", [[], B(), [[]], [B()]]),
        ]
    )
    assert text([tree]) == (
        "a:\n"
        "    - - - |\n"
        "          x\n"
        "          y\n"
        "      - k: z\n"
        "    - m:\n"
        '        - "n": |\n'
        "            deep\n"
        "e:\n"
        "    - []\n"
        "    - {}\n"
        "    - - []\n"
        "    - - {}\n"
    )


# ---------------------------------------------------------------------------
# Scalars
# ---------------------------------------------------------------------------

# (value, how sops 3.11 prints it after "k: "); every row checked on the binary.
SCALARS: list[tuple[Any, str]] = [
    ("plain", "plain"),
    ("yes", '"yes"'),
    ("no", '"no"'),
    ("on", '"on"'),
    ("Off", '"Off"'),
    ("y", '"y"'),
    ("N", '"N"'),
    ("true", '"true"'),
    ("Null", '"Null"'),
    ("~", '"~"'),
    ("", '""'),
    ("0x1F", '"0x1F"'),
    ("0o17", '"0o17"'),
    ("017", '"017"'),
    ("08", '"08"'),
    ("1e10", '"1e10"'),
    ("1e400", "1e400"),  # ParseFloat overflows: yaml.v3 resolves it as a string
    ("1_000", '"1_000"'),
    ("+12", '"+12"'),
    ("-0b101", '"-0b101"'),
    ("0b-1", '"0b-1"'),
    ("0x", "0x"),
    ("._5", "._5"),
    (".1_2", '".1_2"'),
    (".inf", '".inf"'),
    ("nan", "nan"),
    ("Infinity", "Infinity"),
    ("2001-01-01", '"2001-01-01"'),
    ("2001-1-1", '"2001-1-1"'),
    ("2001-02-29", "2001-02-29"),  # not a date: no quotes
    ("2000-02-29", '"2000-02-29"'),
    ("2001-12-14t21:59:43.10-05:00", '"2001-12-14t21:59:43.10-05:00"'),
    ("2001-12-14 21:59:43.10", '"2001-12-14 21:59:43.10"'),
    ("2001-12-14T25:59:43Z", "2001-12-14T25:59:43Z"),
    ("12:30", '"12:30"'),  # YAML 1.1 base-60
    ("190:20:30.15", '"190:20:30.15"'),
    ("1:70", "1:70"),
    ("18446744073709551615", '"18446744073709551615"'),
    ("0xFFFFFFFFFFFFFFFFFF", "0xFFFFFFFFFFFFFFFFFF"),
    (" lead", "' lead'"),
    ("trail ", "'trail '"),
    ("a: b", "'a: b'"),
    ("a:b", "a:b"),
    ("a #b", "'a #b'"),
    ("a#b", "a#b"),
    ("x:", "'x:'"),
    ("- x", "'- x'"),
    ("-x", "-x"),
    ("-", "'-'"),
    ("---", "'---'"),
    ("...", "'...'"),
    ("?x", "?x"),
    ("? x", "'? x'"),
    (":x", ":x"),
    ("@x", "'@x'"),
    ("`x", "'`x'"),
    ("%x", "'%x'"),
    ("!x", "'!x'"),
    ("&x", "'&x'"),
    ("*x", "'*x'"),
    ("[x", "'[x'"),
    ("x]", "x]"),
    ("{x", "'{x'"),
    ("x,y", "x,y"),
    (">x", "'>x'"),
    ("|x", "'|x'"),
    ("'x", "'''x'"),
    ('"x', "'\"x'"),
    ("~x", "~x"),
    ("=", "="),
    ("it's: a # test", "'it''s: a # test'"),
    ("a\tb", '"a\\tb"'),
    ("ctl\x01", '"ctl\\x01"'),
    ("del\x7f", '"del\\x7F"'),
    ("nel\x85", '"nel\\N"'),
    ("nbsp\xa0", "nbsp\xa0"),
    ("é日本語", "é日本語"),
    ("😀", '"\\U0001F600"'),
    ("é😀", '"é\\U0001F600"'),
    ("bom\ufeff", '"bom\\uFEFF"'),
    ("cr\rx", '"cr\\rx"'),
    ("crlf\r\nx", '"crlf\\r\\nx"'),
    ("ls\u2028x", "'ls\u2028    x'"),  # yaml.v3 indents after a U+2028 break
    ('say "hi"', 'say "hi"'),
    ("back\\slash", "back\\slash"),
    ("<<", "!!merge <<"),  # sops' Node.Encode round trip tags a plain "<<"
    ("<<x", "<<x"),
    ("trailing \nspace", '"trailing \\nspace"'),
    ("a \n", '"a \\n"'),
    ("x" * 300, "x" * 300),  # no folding: best_width -1
    ("a " * 50, "'" + "a " * 50 + "'"),
    (True, "true"),
    (False, "false"),
    (None, "null"),
    (0, "0"),
    (-42, "-42"),
    (Uint64(18446744073709551615), "18446744073709551615"),
    (1.0, "1"),
    (1e6, "1e+06"),
    (1234567.0, "1.234567e+06"),
    (123456.0, "123456"),
    (0.0001, "0.0001"),
    (0.00001, "1e-05"),
    (-0.0, "-0"),
    (1e21, "1e+21"),
    (3.14, "3.14"),
    (1.2345678901234567e19, "1.2345678901234567e+19"),
    (math.inf, ".inf"),
    (-math.inf, "-.inf"),
    (math.nan, ".nan"),
    (GoTime("2001-12-14T21:59:43.1-05:00"), "2001-12-14T21:59:43.1-05:00"),
    (b"hello", "hello"),
    (b"\xff", "!!binary /w=="),
]


@pytest.mark.parametrize(("value", "expected"), SCALARS, ids=lambda v: repr(v)[:40])
def test_scalar_renders_like_sops(value: Any, expected: str) -> None:
    assert text([B([("k", value)])]) == f"k: {expected}\n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("l1\nl2", "|-\n    l1\n    l2\n"),
        ("l1\nl2\n", "|\n    l1\n    l2\n"),
        ("l1\nl2\n\n", "|+\n    l1\n    l2\n\n"),
        ("\nlead", "|4-\n\n    lead\n"),
        ("  two\nlines", "|4-\n      two\n    lines\n"),
        ("x\n  indented\n", "|\n    x\n      indented\n"),
        ("a\n b", "|-\n    a\n     b\n"),
        ("\n", "|4+\n\n"),
        ("x\n\n\ny", "|-\n    x\n\n\n    y\n"),
        ("a\tb\nc", "|-\n    a\tb\n    c\n"),
    ],
)
def test_multiline_strings_are_literal_blocks_with_chomping(value: str, expected: str) -> None:
    assert text([B([("k", value)])]) == f"k: {expected}"


def test_long_binary_is_a_literal_block_of_70_column_base64_lines() -> None:
    data = b"\xff" * 100
    b64 = base64.b64encode(data).decode()
    expected = f"k: !!binary |\n    {b64[:70]}\n    {b64[70:]}\n"
    assert text([B([("k", data)])]) == expected


def test_keys_are_quoted_like_values_and_long_or_multiline_keys_use_question_mark() -> None:
    tree = B(
        [
            ("yes", 1),
            ("<<", B([("x", 1)])),
            ("k" * 128, "simple"),
            ("k" * 129, "complex"),
            ("multi\nline", ["a"]),
            (1, "int key"),
            (True, "bool key"),
        ]
    )
    assert text([tree]) == (
        '"yes": 1\n'
        "!!merge <<:\n    x: 1\n"
        f"{'k' * 128}: simple\n"
        f"? {'k' * 129}\n: complex\n"
        "? |-\n    multi\n    line\n:   - a\n"  # ":" leaves the line open for the block
        "1: int key\n"
        "true: bool key\n"
    )


def test_go_g_formats_floats_like_strconv() -> None:
    cases = {
        1.0: "1",
        100.0: "100",
        0.5: "0.5",
        999999.0: "999999",
        1000000.0: "1e+06",
        0.0001: "0.0001",
        2.5e-5: "2.5e-05",
        5e-324: "5e-324",
        1.7976931348623157e308: "1.7976931348623157e+308",
        0.30000000000000004: "0.30000000000000004",
        -1.5e-10: "-1.5e-10",
        12345678901234567890123.0: "1.2345678901234568e+22",
    }
    for value, expected in cases.items():
        assert go_g(value) == expected


# ---------------------------------------------------------------------------
# Comments
# ---------------------------------------------------------------------------


# (YAML source, the tree sops 3.11 loads from it, what sops prints for it).
# The printed text is checked on the binary by test_comment_cases_match_sops.
COMMENT_CASES: dict[str, tuple[str, Branch, str]] = {
    "every_position": (
        "# top head\na:\n    # inside a\n    b: 1\n    # before c\n    c:\n        d: 2\n"
        "        # trailing d\nl:\n    # first\n    - x\n    # second\n    - y\n    # trailing l\n"
        "m:\n    - k: v\n      # in item\n      j: w\n    # between\n    - - p\n      # inner\n"
        "      - q\n# end\n",
        B(
            [
                (C(" top head"), None),
                (
                    "a",
                    B(
                        [
                            (C(" inside a"), None),
                            ("b", 1),
                            (C(" before c"), None),
                            ("c", B([("d", 2), (C(" trailing d"), None)])),
                        ]
                    ),
                ),
                ("l", [C(" first"), "x", C(" second"), "y", C(" trailing l")]),
                (
                    "m",
                    [
                        B([("k", "v"), (C(" in item"), None), ("j", "w")]),
                        C(" between"),
                        ["p", C(" inner"), "q"],
                    ],
                ),
                (C(" end"), None),
            ]
        ),
        "# top head\na:\n    # inside a\n    b: 1\n    # before c\n    c:\n        d: 2\n"
        "        # trailing d\nl:\n    # first\n    - x\n    # second\n"
        '    - "y"\n    # trailing l\n'
        "m:\n    - k: v\n      # in item\n      j: w\n    # between\n    - - p\n      # inner\n"
        "      - q\n# end\n",
    ),
    # line comments arrive as comments before their item (3.11 moves them up)
    "corpus_comments": (
        (Path(__file__).resolve().parents[1] / "corpus" / "comments.yaml").read_text(),
        B(
            [
                (C(" Top comment"), None),
                (C(" second line of the top comment"), None),
                (C(" inline comment"), None),
                ("key", "value"),
                (C(" before nested"), None),
                (
                    "nested",
                    B(
                        [
                            (C(" inside nested, first"), None),
                            ("a", 1),
                            (C(" inline b"), None),
                            ("b", 2),
                            (C(" trailing in nested"), None),
                        ]
                    ),
                ),
                (
                    "list",
                    [C(" before first item"), "x", C(" between items"), "y", C(" inline z"), "z"],
                ),
                (C(" before last key"), None),
                ("last", "end"),
                (C(" final comment"), None),
            ]
        ),
        "# Top comment\n# second line of the top comment\n# inline comment\nkey: value\n"
        "# before nested\nnested:\n    # inside nested, first\n    a: 1\n    # inline b\n"
        "    b: 2\n    # trailing in nested\nlist:\n    # before first item\n    - x\n"
        '    # between items\n    - "y"\n    # inline z\n    - z\n# before last key\n'
        "last: end\n# final comment\n",
    ),
    # trailing comments of a mapping hang on its last key: written where it ends
    "nested_trailing": (
        "a:\n    b:\n        c: 1\n    # trailing-in-a\nd: 2\ne: 3\n",
        B([("a", B([("b", B([("c", 1), (C(" trailing-in-a"), None)]))])), ("d", 2), ("e", 3)]),
        "a:\n    b:\n        c: 1\n        # trailing-in-a\nd: 2\ne: 3\n",
    ),
    # a sequence's end-event foot comment waits for the next process_foot_comment:
    # after "k:", before its value
    "late_foot": (
        "l:\n  - a: 1\n  - [x, y]\n  # trailing l\nk:\n  - 2\n",
        B([("l", [B([("a", 1)]), ["x", "y"], C(" trailing l")]), ("k", [2])]),
        'l:\n    - a: 1\n    - - x\n      - "y"\nk:\n# trailing l\n    - 2\n',
    ),
    # ... or for the document end, which separates it with a blank line
    "document_foot": (
        "l:\n  - a: 1\n  - [x]\n  # t\n",
        B([("l", [B([("a", 1)]), ["x"], C(" t")])]),
        "l:\n    - a: 1\n    - - x\n\n# t\n",
    ),
}


@pytest.mark.parametrize("name", sorted(COMMENT_CASES))
def test_comments_are_placed_like_sops(name: str) -> None:
    _, tree, expected = COMMENT_CASES[name]
    assert text([tree]) == expected


def test_comment_only_documents_and_containers() -> None:
    assert text([B([(C("only"), None)])]) == "#only\n{}\n"
    assert text([B([("a", B([(C(" c"), None)]))])]) == "a: {\n    # c\n}\n"
    # an empty flow sequence never writes its head comment: the next key does
    assert text([B([("a", [C(" c")]), ("b", 1)])]) == "a: []\n# c\nb: 1\n"


def test_comment_text_is_written_after_the_hash_as_is() -> None:
    tree = B([(C("ENC[AES256_GCM,data:eA==,iv:aQ==,tag:dA==,type:comment]"), None), ("a", 1)])
    assert text([tree]) == "#ENC[AES256_GCM,data:eA==,iv:aQ==,tag:dA==,type:comment]\na: 1\n"
    # a continuation line that does not start with '#' gets "# " (INI comments)
    tree = B([("s", B([("k", "v"), (C("c1\n; c2"), None)]))])
    assert text([tree]) == "s:\n    k: v\n    #c1\n    # ; c2\n"


# ---------------------------------------------------------------------------
# Encrypted files and --extract
# ---------------------------------------------------------------------------

AGE_ENC = (
    "-----BEGIN AGE ENCRYPTED FILE-----\n"
    "YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBNK3piancrZU4ycDhRUkxX\n"
    "-----END AGE ENCRYPTED FILE-----\n"
)


def _metadata(groups: bool = False) -> Branch:
    age = [B([("recipient", "age1qqq"), ("enc", AGE_ENC)])]
    head: list[tuple[str, Any]]
    if groups:
        head = [
            ("shamir_threshold", 2),
            ("key_groups", [B([("hc_vault", NilList()), ("age", age)]) for _ in range(2)]),
        ]
    else:
        head = [("age", age)]
    return B(
        [
            *head,
            ("lastmodified", "2026-11-29T14:36:23Z"),
            ("mac", "ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]"),
            ("unencrypted_suffix", "_unencrypted"),
            ("mac_only_encrypted", True),
            ("version", "3.11.0"),
        ]
    )


def test_encrypted_file_appends_the_sops_block_to_every_document() -> None:
    out = emit_encrypted([B([("a", "ENC[x]"), (C(" trailing"), None)]), B()], _metadata()).decode()
    block = (
        "sops:\n"
        "    age:\n"
        "        - recipient: age1qqq\n"
        "          enc: |\n"
        "            -----BEGIN AGE ENCRYPTED FILE-----\n"
        "            YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBNK3piancrZU4ycDhRUkxX\n"
        "            -----END AGE ENCRYPTED FILE-----\n"
        '    lastmodified: "2026-11-29T14:36:23Z"\n'
        "    mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]\n"
        "    unencrypted_suffix: _unencrypted\n"
        "    mac_only_encrypted: true\n"
        "    version: 3.11.0\n"
    )
    # the trailing comment is no longer trailing: it heads the sops key
    assert out == "a: ENC[x]\n# trailing\n" + block + "---\n" + block


def test_key_groups_write_nil_lists_and_the_threshold() -> None:
    out = emit_encrypted([B([("a", 1)])], _metadata(groups=True)).decode()
    assert out.startswith(
        "a: 1\n"
        "sops:\n"
        "    shamir_threshold: 2\n"
        "    key_groups:\n"
        "        - hc_vault: []\n"
        "          age:\n"
        "            - recipient: age1qqq\n"
        "              enc: |\n"
        "                -----BEGIN AGE ENCRYPTED FILE-----\n"
    )


def test_extract_prints_strings_raw_and_other_values_as_documents() -> None:
    assert emit_value("x: y\n") == b"x: y\n"
    assert emit_value(b"\x00\xff") == b"\x00\xff"
    assert emit_value(B([("b", 1)])) == b"b: 1\n"
    assert emit_value(["a", B([("b", 1)]), ["c"]]) == b"- a\n- b: 1\n- - c\n"
    assert emit_value(5) == b"5\n"
    assert emit_value(None) == b"null\n"
    assert emit_value(1e6) == b"1e+06\n"
    assert emit_value(True) == b"true\n"
    # yaml.Marshal ignores the store's indent; a mapping goes through EmitPlainFile
    assert emit_value([B([("a", B([("b", 1)]))])], indent=2) == b"- a:\n    b: 1\n"
    assert emit_value(B([("a", B([("b", 1)]))]), indent=2) == b"a:\n  b: 1\n"


def test_unknown_leaf_types_are_rejected_without_showing_the_value() -> None:
    with pytest.raises(TypeError) as err:
        emit_plain([B([("k", object())])])
    assert "object" in str(err.value)


# ---------------------------------------------------------------------------
# Speed and weight
# ---------------------------------------------------------------------------


def test_emitting_5000_encrypted_values_is_fast() -> None:
    enc = "ENC[AES256_GCM,data:{},iv:" + "A" * 43 + "=,tag:" + "B" * 22 + "==,type:str]"
    tree = B(
        [
            (f"section_{i}", B([(f"key_{j}", enc.format(i * 50 + j)) for j in range(50)]))
            for i in range(100)
        ]
    )
    emit_plain([tree])
    best = math.inf
    for _ in range(5):
        start = time.perf_counter()
        emit_plain([tree])
        best = min(best, time.perf_counter() - start)
    assert best < 0.05  # ~9 ms on a developer machine


def test_import_is_light() -> None:
    code = (
        "import sys; import homelab_secrets.sops.stores.yaml.emitter; "
        "print(sorted(m for m in ('yaml', 'decimal', 'base64', 'ruamel') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------
# Differential tests against the real sops binary
# ---------------------------------------------------------------------------

_IMPLICIT = {
    f"tag:yaml.org,2002:{t}"
    for t in ("bool", "int", "float", "null", "timestamp", "str", "merge", "value")
}


def _go_time_text(s: str) -> str:
    import re

    g = re.fullmatch(yaml_emit._TIMESTAMP, s)
    assert g is not None
    parts = g.groups()
    year, month, day = int(parts[0]), int(parts[1]), int(parts[2])
    if parts[3] is not None:
        hms, zone = parts[4:7], parts[7]
    elif parts[8] is not None:
        hms, zone = parts[8:11], "Z"
    else:
        hms, zone = ("0", "0", "0"), "Z"
    frac = re.search(r"[.,]([0-9]+)", s[10:])
    digits = (frac.group(1) + "0" * 9)[:9].rstrip("0") if frac else ""
    if zone != "Z" and zone[1:] == "00:00":
        zone = "Z"
    hh, mm, ss = (int(x) for x in hms)
    frac_text = "." + digits if digits else ""
    return f"{year:04d}-{month:02d}-{day:02d}T{hh:02d}:{mm:02d}:{ss:02d}{frac_text}{zone}"


_RESOLVED: dict[str, Any] = {
    **dict.fromkeys(["", "~", "null", "Null", "NULL"]),
    **dict.fromkeys(["true", "True", "TRUE"], True),
    **dict.fromkeys(["false", "False", "FALSE"], False),
    **dict.fromkeys([".nan", ".NaN", ".NAN"], math.nan),
    **dict.fromkeys([".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"], math.inf),
    **dict.fromkeys(["-.inf", "-.Inf", "-.INF"], -math.inf),
}


def go_resolve(s: str) -> Any:
    """yaml.v3 resolve() of a plain scalar, as the value sops' tree holds."""
    import re

    if s in _RESOLVED:
        return _RESOLVED[s]
    if not yaml_emit._resolves_non_str(s):
        return s
    if s[0] == ".":
        return float(s.replace("_", ""))
    if yaml_emit._go_timestamp(s):
        return GoTime(_go_time_text(s))
    plain = s.replace("_", "")
    if yaml_emit._go_int_ok(plain, 0):
        sign = -1 if plain[0] == "-" else 1
        body = plain.lstrip("+-")
        if len(body) > 1 and body[0] == "0" and body[1] not in "bBoOxX":
            return sign * int(body, 8)
        return sign * int(body, 0)
    if re.fullmatch(yaml_emit._YAML_FLOAT, plain):
        return float(plain)
    return int(plain.replace("0b", "").replace("0o", ""), 2 if "0b" in plain else 8)


def _to_tree(node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return B([(_to_tree(k), _to_tree(v)) for k, v in node.value])
    if isinstance(node, yaml.SequenceNode):
        return [_to_tree(v) for v in node.value]
    assert isinstance(node, yaml.ScalarNode)
    if node.tag == "tag:yaml.org,2002:binary":
        raw = base64.b64decode(node.value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
    if node.style is None and node.tag in _IMPLICIT:
        return go_resolve(node.value)
    return node.value


def load_comment_free(data: bytes) -> list[Any]:
    """Test-only loader for inputs without comments (PyYAML composes, we type)."""
    return [_to_tree(doc) for doc in yaml.compose_all(data.decode("utf-8"), Loader=yaml.SafeLoader)]


needs_sops = requires_sops


class Sops:
    def __init__(self, root: Path) -> None:
        self.key = AgeKeyPair.generate()
        self.home = root / "home"
        self.home.mkdir()
        self.cwd = root / "w"
        self.cwd.mkdir()
        self.n = 0

    def run(self, args: list[str], data: bytes, name: str) -> bytes:
        self.n += 1
        path = self.cwd / f"{self.n}-{name}"
        path.write_bytes(data)
        res = run_sops(
            [*args, str(path)],
            cwd=self.cwd,
            home=self.home,
            env={"SOPS_AGE_KEY": self.key.identity},
        )
        assert res.returncode == 0, res.stderr
        return res.stdout

    def encrypt(self, data: bytes, *extra: str, name: str = "in.yaml") -> bytes:
        return self.run(["encrypt", "--age", self.key.recipient, *extra], data, name)

    def decrypt(self, data: bytes) -> bytes:
        return self.run(["decrypt"], data, "x.enc.yaml")

    def roundtrip(self, data: bytes) -> bytes:
        return self.decrypt(self.encrypt(data))


@pytest.fixture(scope="module")
def sops(tmp_path_factory: pytest.TempPathFactory) -> Sops:
    return Sops(tmp_path_factory.mktemp("sops"))


def _yaml_dq(s: str) -> str:
    """A YAML double-quoted form that yaml.v3 reads back as ``s``."""
    out = []
    for ch in s:
        cp = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif cp < 0x20 or 0x7F <= cp < 0xA0 or cp in (0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF):
            out.append(f"\\u{cp:04x}")
        elif cp > 0xFFFF:
            out.append(f"\\U{cp:08x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


_MORE_LOOKALIKES = [
    "1.5",
    "1.",
    "1.e5",
    ".5",
    "0.",
    "-.5",
    "+.5",
    "1e+06",
    "1E5",
    "0X1F",
    "0B11",
    "0O7",
    "-0o7",
    "0b+1",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999999",
    "18446744073709551616",
    "1__0",
    "_1",
    "1_",
    "+",
    "-.",
    "+-1",
    "1:2",
    "1_2:3",
    "+1:2.5",
    "2001-12-14T21:59:43Z",
    "2001-13-01",
    "--",
    "---x",
    "..x",
    ":",
    "?",
    ",x",
    "x}",
    "#x",
    "'quoted'",
    "ENC[AES256_GCM,data:abc=,iv:x==,tag:y==,type:str]",
    "@",
    "`",
    "%",
]
LOOKALIKES = [
    *(v for v, _ in SCALARS if isinstance(v, str)),
    *_MORE_LOOKALIKES,
    *["2001-12-14 21:59", ": x", "\tx", "\ufffe", "\uffff", "ps\u2029x", "\n\n", "  two\nlines"],
]


@needs_sops
def test_every_lookalike_string_matches_sops(sops: Sops) -> None:
    doc = "".join(f"k{i}: {_yaml_dq(s)}\n" for i, s in enumerate(LOOKALIKES))
    tree = B([(f"k{i}", s) for i, s in enumerate(LOOKALIKES)])
    assert emit_plain([tree]).decode() == sops.roundtrip(doc.encode()).decode()


DIFF_CORPUS = {
    "nested": """a:
  b:
    c:
      d: [1, 2, {e: f, g: [h, [i, j], {}]}]
  l: [[[]], [[x]], [{a: 1}], {b: [], c: {}}]
top: [{x: 1, y: {z: [1, 2]}}, [a, {b: c}], "m\\nl", []]
""",
    "keys": (
        '? "multi\\nline key"\n: v\n? "multi\\nline key\\n"\n: [a, b]\n'
        f'"{"k" * 128}": long\n"{"k" * 129}": longer\n"{"é" * 63}": longu\n'
        '"": empty\n" sp": x\n"a: b": x\n"yes": x\n'
        f'nested:\n  ? "k\\nm"\n  : {{a: 1}}\n  ? "{"z" * 130}"\n  : [1]\n'
    ),
    "floats": "".join(
        f"f{i}: {v}\n"
        for i, v in enumerate(
            [
                "1.0",
                "1e6",
                "1234567.0",
                "123456.0",
                "0.0001",
                "0.00001",
                "-0.0",
                "1e21",
                "1e-7",
                "3.14",
                "1.2345678901234567e19",
                ".inf",
                "-.inf",
                ".nan",
                "1e308",
                "5e-324",
                "2.5e-5",
                "100000.0",
                "999999.0",
                "1000000.0",
                "0.1",
                "-1.5e-10",
                "1_000.5",
                "+1.5",
                "12345678901234567890123",
            ]
        )
    ),
    "ints": "a: 0x1F\nb: 017\nc: 0o17\nd: 0b101\ne: -0b101\nf: +12\ng: 1_000\n"
    "h: 9223372036854775807\ni: -9223372036854775808\nj: 0\nk: -0\n",
    "times": "a: 2001-12-14\nb: 2001-12-14T21:59:43.10-05:00\nc: 2001-12-14 21:59:43.10\n"
    "d: 2001-12-14t21:59:43Z\ne: 2001-1-2T3:4:5.123456789+00:00\n"
    "f: 2001-12-14T21:59:43.1234567891Z\n",
    "nulls": "a: null\nb: ~\nc:\nd: [null, ~, ]\ne: {x: }\n",
    "multidoc": "a: 1\n---\nb: [1, 2]\n---\nc: |+\n  keep\n\n---\nd: {}\n",
    "blocks": "a:\n  - - - |\n        x\n        y\n      - k: |-\n          z\n"
    "  - m:\n      - n: |\n          deep\n"
    's:\n  - ? "a\\nb"\n    : 1\n',
    "binary": "b: !!binary aGVsbG8=\nc: !!binary /w==\nd: !!binary "
    + base64.b64encode(b"\xff" * 100).decode()
    + "\nk: !!binary "
    + base64.b64encode(b"\xfe" * 51).decode()
    + "\nl: [!!binary /w==]\n",
    "merge": "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  r: 2\nl:\n  - <<: *b\n",
    "unicode": 'é: 1\n日本: [2]\n"😀": 3\n',
}


@needs_sops
@pytest.mark.parametrize("name", sorted(DIFF_CORPUS))
def test_structures_match_sops(sops: Sops, name: str) -> None:
    data = DIFF_CORPUS[name].encode()
    assert emit_plain(load_comment_free(data)).decode() == sops.roundtrip(data).decode()


@needs_sops
def test_whole_encrypted_file_with_nothing_encrypted_matches_sops(sops: Sops) -> None:
    data = (DIFF_CORPUS["nested"] + "---\n" + DIFF_CORPUS["keys"]).encode()
    enc = sops.encrypt(data, "--encrypted-regex", "^NEVER$")
    docs = load_comment_free(enc)
    metadata = docs[0].get("sops")
    branches = [B([(k, v) for k, v in doc if k != "sops"]) for doc in docs]
    assert emit_encrypted(branches, metadata) == enc


@needs_sops
def test_encrypted_values_and_metadata_match_sops(sops: Sops) -> None:
    enc = sops.encrypt(DIFF_CORPUS["floats"].encode() + b"s: |\n  multi\n  line\n")
    docs = load_comment_free(enc)
    metadata = docs[0].get("sops")
    assert emit_encrypted([B([(k, v) for k, v in docs[0] if k != "sops"])], metadata) == enc


def _dotenv_tree(text_: str) -> Branch:
    tree = B()
    for line in text_.split("\n"):
        if line.startswith("#"):
            tree.append((C(line[1:]), None))
        elif line:
            key, value = line.split("=", 1)
            tree.append((key, value))
    return tree


@needs_sops
@pytest.mark.parametrize(
    "dotenv",
    ["#c1\nA=1\n#c2\nB=2\n#c3\n", "#only\n", "A=1\n#t1\n#t2\n", "# lead\n#\n#  x\nA=x y\n"],
)
def test_top_level_comment_trees_match_sops(sops: Sops, dotenv: str) -> None:
    enc = sops.encrypt(
        dotenv.encode(),
        "--input-type",
        "dotenv",
        "--output-type",
        "yaml",
        "--encrypted-regex",
        "^NEVER$",
        name="in.env",
    )
    tree = _dotenv_tree(dotenv)
    metadata = load_comment_free(enc)[0].get("sops")
    assert emit_encrypted([tree], metadata) == enc
    assert emit_plain([tree]) == sops.decrypt(enc)


@needs_sops
def test_nested_comment_trees_from_ini_match_sops(sops: Sops) -> None:
    ini = "; top\n[s]\nk1=a\n; c1\n; c2\nk2=b\n[t]\n; cx\nx=1\n[u]\nk=v\n"
    tree = B(
        [
            ("DEFAULT", B()),
            ("s", B([(C("top"), None), ("k1", "a"), ("k2", "b"), (C("c1\n; c2"), None)])),
            ("t", B([("x", "1"), (C("cx"), None)])),
            ("u", B([("k", "v")])),
        ]
    )
    enc = sops.encrypt(
        ini.encode(),
        "--input-type",
        "ini",
        "--output-type",
        "yaml",
        "--encrypted-regex",
        "^NEVER$",
        name="in.ini",
    )
    assert emit_plain([tree]) == sops.decrypt(enc)


@needs_sops
@pytest.mark.parametrize("name", sorted(COMMENT_CASES))
def test_comment_cases_match_sops(sops: Sops, name: str) -> None:
    source, _, expected = COMMENT_CASES[name]
    assert sops.roundtrip(source.encode()).decode() == expected


# -- random trees -------------------------------------------------------------

_KEYS = ["a", "b", "yes", "k k", "é", "1", "x: y", "~", "<<", "-", " sp"]
_VALUES: list[Any] = [
    "x", "multi\nline\n", "", "1", "no", 2, 1.5, 1e6, None, True, "tail\n\n", "a: b", "😀", "\t",
    GoTime("2001-12-14T21:59:43.1-05:00"), "ENC[AES256_GCM,data:abc=,iv:x==,tag:y==,type:str]",
]  # fmt: skip


def _random_tree(rng: Any, depth: int, markers: list[int] | None) -> Any:
    """A random mapping; with ``markers``, lists also get ``CMT<n>`` items."""

    def value(d: int) -> Any:
        pick = rng.random()
        if d < 4 and pick < 0.3:
            return mapping(d + 1)
        if d < 4 and pick < 0.6:
            return sequence(d + 1)
        return rng.choice(_VALUES)

    def mapping(d: int) -> Branch:
        return B([(k, value(d)) for k in rng.sample(_KEYS, rng.randint(0, 3))])

    def marker() -> str:
        assert markers is not None
        markers[0] += 1
        return f"CMT{markers[0] % 3}"

    def sequence(d: int) -> list[Any]:
        out: list[Any] = []
        for _ in range(rng.randint(0, 3)):
            if markers is not None and rng.random() < 0.35:
                out.append(marker())
            out.append(value(d))
        if markers is not None and rng.random() < 0.35:
            out.append(marker())
        return out

    return B([("top", sequence(depth)), ("after", mapping(depth + 1)), ("z", 1)])


def _comparable(value: Any) -> Any:
    """What a value reads back as (1.0 and 1e6 print as ints/floats alike)."""
    if isinstance(value, Branch):
        return [(_comparable(k), _comparable(v)) for k, v in value]
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e6:
        return int(value)
    if isinstance(value, GoTime):
        return ("time", value.text)
    return (type(value).__name__, value)


@needs_sops
def test_random_trees_are_printed_and_read_back_by_sops_unchanged(sops: Sops) -> None:
    import random

    rng = random.Random(20261129)
    docs = [_random_tree(rng, 0, None) for _ in range(60)]
    # " lead"-style strings in sequences make yaml.v3 print YAML it cannot read
    # back (a "|4" hint below a "- "); the generator has none.
    mine = emit_plain(docs)
    printed = sops.roundtrip(mine)
    assert printed == mine
    assert [_comparable(d) for d in load_comment_free(printed)] == [_comparable(d) for d in docs]


_ENC = r"ENC\[AES256_GCM,data:([^,]*),iv:([^,]*),tag:([^,]*),type:([a-z]*)\]"
_COMMENTS = {0: " zero", 1: "#one", 2: " x: y # z"}


def _with_comments(value: Any) -> Any:
    if isinstance(value, Branch):
        return B([(k, _with_comments(v)) for k, v in value])
    if isinstance(value, list):
        return [
            C(_COMMENTS[int(v[3:])])
            if isinstance(v, str) and v.startswith("CMT")
            else _with_comments(v)
            for v in value
        ]
    return value


def _sops_print_with_list_comments(sops: Sops, docs: list[Branch]) -> bytes:
    """sops' output for ``docs`` once every ``CMT<n>`` list item is a comment.

    sops turns a list item ``ENC[...,type:comment]`` back into a comment at
    exactly that place when it decrypts, so: encrypt the documents with the
    markers as strings, swap each marker's ciphertext for an encrypted comment
    under the same data key and AAD, and decrypt (the MAC no longer matches)."""
    import os
    import re

    import pyrage
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    encrypted = sops.encrypt(emit_plain(docs))
    first = load_comment_free(encrypted)[0]
    armor = first.get("sops").get("age")[0].get("enc")
    data_key = pyrage.decrypt(armor.encode(), [pyrage.x25519.Identity.from_str(sops.key.identity)])
    aes = AESGCM(data_key)
    swaps: dict[str, str] = {}

    def walk(value: Any, path: list[str]) -> None:
        if isinstance(value, Branch):
            for k, v in value:
                if k != "sops":
                    walk(v, [*path, k])
        elif isinstance(value, list):
            for v in value:
                walk(v, path)
        elif isinstance(value, str) and (m := re.fullmatch(_ENC, value)):
            aad = (":".join(path) + ":").encode()
            data, iv, tag = (base64.b64decode(m.group(i)) for i in (1, 2, 3))
            plain = aes.decrypt(iv, data + tag, aad).decode()
            if plain.startswith("CMT"):
                iv = os.urandom(32)
                ct = aes.encrypt(iv, _COMMENTS[int(plain[3:])].encode(), aad)
                b64 = [base64.b64encode(x).decode() for x in (ct[:-16], iv, ct[-16:])]
                swaps[value] = (
                    f"ENC[AES256_GCM,data:{b64[0]},iv:{b64[1]},tag:{b64[2]},type:comment]"
                )

    for doc in load_comment_free(encrypted):
        walk(doc, [])
    assert swaps
    text_ = encrypted.decode()
    for old, new in swaps.items():
        text_ = text_.replace(old, new)
    return sops.run(["decrypt", "--ignore-mac"], text_.encode(), "x.enc.yaml")


@needs_sops
def test_comments_inside_lists_are_placed_exactly_like_sops(sops: Sops) -> None:
    import random

    rng = random.Random(7)
    hand = [
        B([("l", [["CMT0", ["x"]]])]),
        B([("l", ["CMT0"]), ("k", 1)]),
        B([("l", [B([("a", 1)]), "CMT0"]), ("k", 2)]),
        B([("l", [[["x"], "CMT0"]]), ("k", [1])]),
        B([("l", ["CMT0", B([("a", ["CMT1", "y", "CMT2"])]), "CMT1"])]),
        # late foot comments land between "k:" and "{}" (sops prints this unreadable YAML)
        B([("l", [["x"], "CMT0"]), ("k", B()), ("m", [[1], "CMT1"]), ("n", [])]),
    ]
    docs = hand + [_random_tree(rng, 0, [0]) for _ in range(60)]
    assert emit_plain([_with_comments(d) for d in docs]) == _sops_print_with_list_comments(
        sops, docs
    )


def _random_commented_tree(rng: Any) -> Branch:
    """A random document with comments in maps and lists at every depth."""
    texts = [" c", " hello world", "#x", " ENC-ish", ""]
    keys = ["a", "b", "yes", "k k", "é", "1", "~", "-"]

    def value(d: int) -> Any:
        pick = rng.random()
        if d < 3 and pick < 0.25:
            return mapping(d + 1)
        if d < 3 and pick < 0.5:
            return sequence(d + 1)
        return rng.choice(["x", "multi\nline\n", "", "no", 2, 1.5, None, True, "a: b"])

    def mapping(d: int) -> Branch:
        out = B()
        for k in rng.sample(keys, rng.randint(0, 3)):
            if rng.random() < 0.3:
                out.append((C(rng.choice(texts)), None))
            out.append((k, value(d)))
        if out and rng.random() < 0.3:
            out.append((C(rng.choice(texts)), None))
        return out

    def sequence(d: int) -> list[Any]:
        out: list[Any] = []
        for _ in range(rng.randint(0, 3)):
            if rng.random() < 0.3:
                out.append(C(rng.choice(texts[:-1])))  # sops turns "" into an item
            out.append(value(d))
        if rng.random() < 0.3:
            out.append(C(rng.choice(texts[:-1])))
        return out

    return B([("first", 0), *mapping(0), ("last", value(1))])


@needs_sops
def test_random_commented_trees_round_trip_through_the_loader_like_sops(sops: Sops) -> None:
    """sops prints our file back (comments kept clear) exactly as we print
    what our loader reads from it: checks the emitter on every comment shape
    the loader produces, wherever sops re-attaches a comment."""
    import random

    rng = random.Random(42)
    docs = [_random_commented_tree(rng) for _ in range(40)]
    ours = emit_plain(docs)
    encrypted = sops.encrypt(ours, "--encrypted-regex", "^NEVER$")
    metadata = load_comment_free(encrypted)[0].get("sops")
    assert emit_encrypted(yaml_load.load_plain(ours), metadata) == encrypted
    branches, _ = yaml_load.load_encrypted(encrypted)
    assert emit_plain(branches) == sops.decrypt(encrypted)


@needs_sops
def test_head_comment_of_an_empty_mapping_is_written_inside_the_braces(sops: Sops) -> None:
    # ini.v1 gives a comment above an empty section to that section
    enc = sops.encrypt(
        b"; c\n[s]\n[t]\nk=v\n",
        *("--input-type", "ini", "--output-type", "yaml", "--encrypted-regex", "^NEVER$"),
        name="in.ini",
    )
    tree = B([("DEFAULT", B()), ("s", B([(C("c"), None)])), ("t", B([("k", "v")]))])
    metadata = load_comment_free(enc)[0].get("sops")
    assert emit_encrypted([tree], metadata) == enc
    assert enc.startswith(b"DEFAULT: {}\ns: {\n    #c\n}\nt:\n    k: v\n")


# ---------------------------------------------------------------------------
# Round trip through our loader
# ---------------------------------------------------------------------------

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@needs_sops
@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.yaml")), ids=lambda p: p.name)
def test_loader_and_emitter_round_trip_like_sops(sops: Sops, path: Path) -> None:
    data = path.read_bytes()
    assert emit_plain(yaml_load.load_plain(data)) == sops.roundtrip(data)
