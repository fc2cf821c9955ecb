"""Interop with the real sops binary, both ways, byte for byte.

For every corpus file and encryption option:

* sops encrypts → we decrypt to exactly the bytes ``sops decrypt`` prints;
* we encrypt → ``sops decrypt`` prints exactly those bytes too;
* our encrypted file has the same shape as sops' (same lines once the random
  parts — ciphertexts, IVs, tags, age armor, timestamps — are masked).
"""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import pytest

from support.sops_oracle import AgeKeyPair, requires_sops, run_ours, run_sops

pytestmark = requires_sops

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(scope="module")
def keys() -> list[AgeKeyPair]:
    return [AgeKeyPair.generate() for _ in range(3)]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    (tmp_path / "w").mkdir()
    return tmp_path


def _ext(name: str) -> str:
    return Path(name).suffix


_RANDOM = [
    (re.compile(r"ENC\[AES256_GCM,data:[^,]*,iv:[^,]*,tag:[^,]*,type:"), "ENC[AES256_GCM,~,type:"),
    (
        re.compile(r"-----BEGIN AGE ENCRYPTED FILE-----.*?-----END AGE ENCRYPTED FILE-----", re.S),
        "AGE",
    ),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"), "TIME"),
]


def shape(data: bytes, fmt: str) -> list[str]:
    text = data.decode("utf-8", "replace")
    for rx, repl in _RANDOM:
        text = rx.sub(repl, text)
    lines = text.split("\n")
    if fmt == "ini" and "[sops]" in lines:  # sops 3.11 writes [sops] in random order
        i = lines.index("[sops]")
        lines = lines[:i] + sorted(re.sub(r"\s+=", " =", line) for line in lines[i:])
    return lines


CASES = [
    ("scalars.yaml", []),
    ("nested.yaml", []),
    ("comments.yaml", []),
    ("multiline.yaml", []),
    ("anchors.yaml", []),
    ("multidoc.yaml", []),
    ("crlf.yaml", []),
    ("data.json", []),
    ("app.env", []),
    ("settings.ini", []),
    ("blob.bin", []),
    ("nested.yaml", ["--encrypted-regex", "^pass"]),
    ("nested.yaml", ["--unencrypted-regex", "^(user|port|ip)$"]),
    ("nested.yaml", ["--encrypted-suffix", "word"]),
    ("nested.yaml", ["--unencrypted-suffix", "_clear"]),
    ("comments.yaml", ["--encrypted-comment-regex", "before"]),
    ("comments.yaml", ["--unencrypted-comment-regex", "inside"]),
    ("nested.yaml", ["--mac-only-encrypted"]),
    ("data.json", ["--encrypted-regex", "^pass"]),
    ("app.env", ["--unencrypted-regex", "^DATABASE"]),
    ("settings.ini", ["--encrypted-regex", "^(password|token)$"]),
    ("nested.yaml", ["--output-type", "json"]),
    ("data.json", ["--output-type", "yaml"]),
    ("app.env", ["--output-type", "yaml"]),
    ("blob.bin", ["--output-type", "yaml"]),
    ("nested.yaml", ["--indent", "2"]),
    ("data.json", ["--indent", "4"]),
]


def _id(case: tuple[str, list[str]]) -> str:
    return "-".join([case[0], *[a.strip("-") for a in case[1][:2]]])


def _encrypted_name(name: str, opts: list[str]) -> str:
    if "--output-type" in opts:
        return f"enc.{ {'yaml': 'yaml', 'json': 'json'}[opts[opts.index('--output-type') + 1]] }"
    return "enc" + _ext(name)


def _type_args(name: str, enc_name: str) -> list[str]:
    """Decrypting `enc.yaml` made from a .bin/.env file needs the output type back."""
    src = {".env": "dotenv", ".ini": "ini", ".bin": "binary", ".json": "json"}.get(
        _ext(name), "yaml"
    )
    enc = {".json": "json", ".yaml": "yaml"}.get(_ext(enc_name), src)
    return ["--input-type", enc, "--output-type", src]


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_both_ways_byte_for_byte(case, keys, work):
    name, opts = case
    src = work / "w" / name
    shutil.copyfile(CORPUS / name, src)
    key = keys[0]
    enc_name = _encrypted_name(name, opts)
    types = _type_args(name, enc_name)
    home, cwd = work / "home", work / "w"
    env = {"SOPS_AGE_KEY": key.identity}

    # sops encrypts (legacy flag form: 3.11 only honours some flags there)
    theirs = run_sops(["--age", key.recipient, *opts, "-e", name], cwd=cwd, home=home)
    assert theirs.returncode == 0, theirs.stderr
    (cwd / f"theirs.{enc_name}").write_bytes(theirs.stdout)
    expected = run_sops(["decrypt", *types, f"theirs.{enc_name}"], cwd=cwd, home=home, env=env)
    assert expected.returncode == 0, expected.stderr

    # we decrypt sops' file
    got = run_ours(["decrypt", *types, f"theirs.{enc_name}"], cwd=cwd, home=home, env=env)
    assert got.returncode == 0, got.stderr
    assert got.stdout == expected.stdout

    # we encrypt; sops decrypts ours to the same bytes
    ours = run_ours(["encrypt", "--age", key.recipient, *opts, name], cwd=cwd, home=home)
    assert ours.returncode == 0, ours.stderr
    (cwd / f"ours.{enc_name}").write_bytes(ours.stdout)
    back = run_sops(["decrypt", *types, f"ours.{enc_name}"], cwd=cwd, home=home, env=env)
    assert back.returncode == 0, back.stderr
    assert back.stdout == expected.stdout

    # and our file looks like theirs, line for line
    fmt = types[1] if _ext(enc_name) not in (".json", ".yaml") else _ext(enc_name)[1:]
    assert shape(ours.stdout, fmt) == shape(theirs.stdout, fmt)


def test_several_recipients_each_open_the_file(keys, work):
    home, cwd = work / "home", work / "w"
    shutil.copyfile(CORPUS / "nested.yaml", cwd / "n.yaml")
    recipients = ",".join(k.recipient for k in keys)
    theirs = run_sops(["encrypt", "--age", recipients, "n.yaml"], cwd=cwd, home=home)
    ours = run_ours(["encrypt", "--age", recipients, "n.yaml"], cwd=cwd, home=home)
    (cwd / "theirs.yaml").write_bytes(theirs.stdout)
    (cwd / "ours.yaml").write_bytes(ours.stdout)
    for key in keys:
        env = {"SOPS_AGE_KEY": key.identity}
        a = run_ours(["decrypt", "theirs.yaml"], cwd=cwd, home=home, env=env)
        b = run_sops(["decrypt", "ours.yaml"], cwd=cwd, home=home, env=env)
        assert a.returncode == b.returncode == 0
        assert a.stdout == b.stdout


SHAMIR_CONFIG = """creation_rules:
  - path_regex: \\.yaml$
    shamir_threshold: 2
    key_groups:
      - age: [{k0}]
      - age: [{k1}]
      - age: [{k2}]
"""


def test_shamir_two_of_three_any_two_keys_open_one_does_not(keys, work):
    home, cwd = work / "home", work / "w"
    (cwd / ".sops.yaml").write_text(
        SHAMIR_CONFIG.format(**{f"k{i}": k.recipient for i, k in enumerate(keys)})
    )
    shutil.copyfile(CORPUS / "nested.yaml", cwd / "n.yaml")
    theirs = run_sops(["encrypt", "n.yaml"], cwd=cwd, home=home)
    assert theirs.returncode == 0, theirs.stderr
    ours = run_ours(["encrypt", "n.yaml"], cwd=cwd, home=home)
    assert ours.returncode == 0, ours.stderr
    assert shape(ours.stdout, "yaml") == shape(theirs.stdout, "yaml")
    (cwd / "theirs.yaml").write_bytes(theirs.stdout)
    (cwd / "ours.yaml").write_bytes(ours.stdout)
    plain = None
    for pair in itertools.combinations(keys, 2):
        env = {"SOPS_AGE_KEY": "\n".join(k.identity for k in pair)}
        a = run_ours(["decrypt", "theirs.yaml"], cwd=cwd, home=home, env=env)
        b = run_sops(["decrypt", "ours.yaml"], cwd=cwd, home=home, env=env)
        assert a.returncode == 0, a.stderr
        assert b.returncode == 0, b.stderr
        assert a.stdout == b.stdout
        plain = plain or a.stdout
        assert a.stdout == plain
    for key in keys:
        env = {"SOPS_AGE_KEY": key.identity}
        a = run_ours(["decrypt", "theirs.yaml"], cwd=cwd, home=home, env=env)
        b = run_sops(["decrypt", "ours.yaml"], cwd=cwd, home=home, env=env)
        assert a.returncode == 128
        assert b.returncode == 128
        assert "Shamir threshold of 2" in a.stderr


# Found by differential testing against sops (named regression cases).
FOUND = [
    # a !!binary key is a (Go) string key: sops writes `hi: "on"`
    ("binary-key", "bk.yaml", b"!!binary aGk=: on\n!!binary /w==: x\n"),
    # blank lines after a block scalar in a list, then a comment: the comment
    # is the foot of `k` (column 0), not of the list
    ("comment-after-block-scalar", "cm.yaml", b"k:\n  - |\n    v\n\n  # comm\n"),
    ("comment-after-block-scalar-then-key", "cm2.yaml", b"k:\n  - |\n    v\n\n  # c\nz: 1\n"),
    ("upper-case-extension-is-binary", "P.YAML", b"a: 1\n"),
]


@pytest.mark.parametrize(("label", "name", "text"), FOUND, ids=[f[0] for f in FOUND])
def test_found_by_differential_testing(label, name, text, keys, work):
    home, cwd = work / "home", work / "w"
    (cwd / name).write_bytes(text)
    key = keys[0]
    env = {"SOPS_AGE_KEY": key.identity}
    theirs = run_sops(["encrypt", "--age", key.recipient, name], cwd=cwd, home=home)
    ours = run_ours(["encrypt", "--age", key.recipient, name], cwd=cwd, home=home)
    assert ours.returncode == theirs.returncode == 0, (theirs.stderr, ours.stderr)
    fmt = "json" if name.endswith(".YAML") else "yaml"
    assert shape(ours.stdout, fmt) == shape(theirs.stdout, fmt)
    (cwd / "theirs.enc").write_bytes(theirs.stdout)
    (cwd / "ours.enc").write_bytes(ours.stdout)
    types = ["--input-type", fmt, "--output-type", "binary" if fmt == "json" else "yaml"]
    expected = run_sops(["decrypt", *types, "theirs.enc"], cwd=cwd, home=home, env=env)
    assert expected.returncode == 0, expected.stderr
    got = run_ours(["decrypt", *types, "theirs.enc"], cwd=cwd, home=home, env=env)
    assert got.stdout == expected.stdout
    back = run_sops(["decrypt", *types, "ours.enc"], cwd=cwd, home=home, env=env)
    assert back.stdout == expected.stdout
