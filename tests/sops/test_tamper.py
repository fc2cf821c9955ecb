"""Tampered, mis-keyed or foreign files fail with sops' exit code, a message that
names the file and key path, no plaintext, and no output written."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from support.sops_oracle import AgeKeyPair, requires_sops, run_ours, run_sops

pytestmark = requires_sops

PLAIN = """\
db:
    user: admin
    password: correct-horse-battery
list:
    - first-item-secret
    - second-item-secret
clear_unencrypted: visible
other: another-secret-value
"""
SECRETS = [
    "admin",
    "correct-horse-battery",
    "first-item-secret",
    "second-item-secret",
    "another-secret-value",
]


@pytest.fixture(scope="module")
def key() -> AgeKeyPair:
    return AgeKeyPair.generate()


@pytest.fixture
def encrypted(tmp_path: Path, key: AgeKeyPair) -> tuple[Path, Path, bytes]:
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "plain.yaml").write_text(PLAIN)
    res = run_sops(["encrypt", "--age", key.recipient, "plain.yaml"], cwd=tmp_path, home=home)
    assert res.returncode == 0, res.stderr
    return tmp_path, home, res.stdout


def _line(data: bytes, key_name: str) -> str:
    return next(
        line for line in data.decode().splitlines() if line.strip().startswith(f"{key_name}:")
    )


def _flip(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def tamper_field(data: bytes, key_name: str, field: str) -> bytes:
    line = _line(data, key_name)
    m = re.search(rf"{field}:([^,\]]+)", line)
    assert m
    return data.replace(line.encode(), line.replace(m[1], _flip(m[1])).encode())


def swap_values(data: bytes, a: str, b: str) -> bytes:
    la, lb = _line(data, a), _line(data, b)
    va, vb = la.split(": ", 1)[1], lb.split(": ", 1)[1]
    text = data.decode().replace(la, la.replace(va, "@@A@@")).replace(lb, lb.replace(vb, va))
    return text.replace("@@A@@", vb).encode()


def swap_list_items(data: bytes) -> bytes:
    lines = data.decode().split("\n")
    i = next(n for n, line in enumerate(lines) if line.startswith("list:"))
    lines[i + 1], lines[i + 2] = lines[i + 2], lines[i + 1]
    return "\n".join(lines).encode()


def change_mac(data: bytes) -> bytes:
    return tamper_field(data, "mac", "data")


def change_lastmodified(data: bytes) -> bytes:
    return re.sub(
        rb'lastmodified: "(\d{4})', lambda m: b'lastmodified: "' + str(int(m[1]) - 1).encode(), data
    )


def edit_clear_value(data: bytes) -> bytes:
    return data.replace(b"clear_unencrypted: visible", b"clear_unencrypted: edited!")


CASES = {
    "flipped data bit": (lambda d: tamper_field(d, "password", "data"), 25, "db.password"),
    "flipped iv bit": (lambda d: tamper_field(d, "password", "iv"), 25, "db.password"),
    "flipped tag bit": (lambda d: tamper_field(d, "password", "tag"), 25, "db.password"),
    "values swapped between keys": (
        lambda d: swap_values(d, "password", "other"),
        25,
        "db.password",
    ),
    "reordered list items": (swap_list_items, 51, "MAC"),
    "changed mac": (change_mac, 51, "MAC"),
    "changed lastmodified": (change_lastmodified, 51, "MAC"),
    "edited unencrypted value": (edit_clear_value, 51, "MAC"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_tampering_fails_like_sops_and_leaks_nothing(name, encrypted, key):
    cwd, home, data = encrypted
    tamper, code, where = CASES[name]
    bad = tamper(data)
    assert bad != data
    (cwd / "bad.yaml").write_bytes(bad)
    (cwd / "out.yaml").write_text("previous content\n")
    env = {"SOPS_AGE_KEY": key.identity}
    theirs = run_sops(["decrypt", "bad.yaml"], cwd=cwd, home=home, env=env)
    ours = run_ours(["decrypt", "--output", "out.yaml", "bad.yaml"], cwd=cwd, home=home, env=env)
    assert theirs.returncode == code
    assert ours.returncode == code, ours.stderr
    assert where in ours.stderr
    assert ours.stderr.count("\n") == 1  # one line
    assert ours.stdout == b""
    for secret in SECRETS:
        assert secret not in ours.stderr
    assert (cwd / "out.yaml").read_text() == "previous content\n"
    assert sorted(p.name for p in cwd.iterdir()) == ["bad.yaml", "home", "out.yaml", "plain.yaml"]


def test_ignore_mac_reads_a_file_whose_mac_no_longer_matches(encrypted, key):
    cwd, home, data = encrypted
    (cwd / "bad.yaml").write_bytes(edit_clear_value(data))
    env = {"SOPS_AGE_KEY": key.identity}
    theirs = run_sops(["decrypt", "--ignore-mac", "bad.yaml"], cwd=cwd, home=home, env=env)
    ours = run_ours(["decrypt", "--ignore-mac", "bad.yaml"], cwd=cwd, home=home, env=env)
    assert ours.returncode == theirs.returncode == 0
    assert ours.stdout == theirs.stdout


def test_wrong_key_is_exit_128_naming_the_recipient(encrypted, key):
    cwd, home, data = encrypted
    (cwd / "f.yaml").write_bytes(data)
    stranger = AgeKeyPair.generate()
    env = {"SOPS_AGE_KEY": stranger.identity}
    theirs = run_sops(["decrypt", "f.yaml"], cwd=cwd, home=home, env=env)
    ours = run_ours(["decrypt", "f.yaml"], cwd=cwd, home=home, env=env)
    assert theirs.returncode == ours.returncode == 128
    assert key.recipient in ours.stderr
    assert stranger.identity not in ours.stderr


def test_no_key_at_all_is_exit_128_listing_where_it_looked(encrypted):
    cwd, home, data = encrypted
    (cwd / "f.yaml").write_bytes(data)
    ours = run_ours(["decrypt", "f.yaml"], cwd=cwd, home=home)
    assert ours.returncode == 128
    assert "SOPS_AGE_KEY_FILE" in ours.stderr


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        (b"a: 1\n", "plain.yaml", 1),
        (b'{"a": 1}', "plain.json", 1),
        (b"A=1\n", "plain.env", 1),
    ],
)
def test_a_file_that_is_not_encrypted_says_so(tmp_path, content, name, code):
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / name).write_bytes(content)
    theirs = run_sops(["decrypt", name], cwd=tmp_path, home=home)
    ours = run_ours(["decrypt", name], cwd=tmp_path, home=home)
    assert theirs.returncode == ours.returncode == code
    assert "sops metadata not found" in ours.stderr
    assert name in ours.stderr


def test_missing_file_is_exit_100(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    theirs = run_sops(["decrypt", "nope.yaml"], cwd=tmp_path, home=home)
    ours = run_ours(["decrypt", "nope.yaml"], cwd=tmp_path, home=home)
    assert theirs.returncode == ours.returncode == 100
    assert "non-existent file" in ours.stderr


def test_in_place_failure_leaves_the_encrypted_file_untouched(encrypted, key):
    cwd, home, data = encrypted
    bad = tamper_field(data, "password", "tag")
    (cwd / "f.yaml").write_bytes(bad)
    ours = run_ours(
        ["decrypt", "-i", "f.yaml"], cwd=cwd, home=home, env={"SOPS_AGE_KEY": key.identity}
    )
    assert ours.returncode == 25
    assert (cwd / "f.yaml").read_bytes() == bad


def test_decrypted_output_file_is_private(encrypted, key, tmp_path):
    cwd, home, data = encrypted
    (cwd / "f.yaml").write_bytes(data)
    ours = run_ours(
        ["decrypt", "--output", "plain-out.yaml", "f.yaml"],
        cwd=cwd,
        home=home,
        env={"SOPS_AGE_KEY": key.identity},
    )
    assert ours.returncode == 0, ours.stderr
    assert (cwd / "plain-out.yaml").stat().st_mode & 0o777 == 0o600
    assert (cwd / "plain-out.yaml").read_text() == PLAIN


def test_encrypting_an_encrypted_file_is_refused(encrypted, key):
    cwd, home, data = encrypted
    (cwd / "f.yaml").write_bytes(data)
    theirs = run_sops(["encrypt", "--age", key.recipient, "f.yaml"], cwd=cwd, home=home)
    ours = run_ours(["encrypt", "--age", key.recipient, "f.yaml"], cwd=cwd, home=home)
    assert theirs.returncode == ours.returncode == 203


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"- a\n- b\n", 2), (b"", 92), (b"a: 1\na: 2\n", 2), (b"1: a\n", 23)],
    ids=["top-level list", "empty", "duplicate key", "non-string key"],
)
def test_plain_inputs_sops_refuses_we_refuse(tmp_path, key, content, code):
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "x.yaml").write_bytes(content)
    theirs = run_sops(["encrypt", "--age", key.recipient, "x.yaml"], cwd=tmp_path, home=home)
    ours = run_ours(["encrypt", "--age", key.recipient, "x.yaml"], cwd=tmp_path, home=home)
    assert theirs.returncode == code
    assert ours.returncode == code, ours.stderr
