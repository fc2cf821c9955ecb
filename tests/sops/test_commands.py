"""The sops-compatible commands beyond plain decrypt/encrypt: --extract,
.sops.yaml lookup and rules, updatekeys, rotate, files with other key types."""

from __future__ import annotations

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
def ws(tmp_path: Path) -> tuple[Path, Path]:
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "repo"
    work.mkdir()
    return work, home


def _recipients(path: Path) -> list[str]:
    return re.findall(r"recipient: (age1\w+)", path.read_text())


@pytest.mark.parametrize(
    "path",
    [
        '["db"]["password"]',
        '["db"]["port"]',
        '["db"]',
        '["servers"][1]["nested"]',
        '["servers"][0]["tags"][1]',
        '["matrix"]',
        '["db"]["options"]["timeout"]',
        "['db']['user']",
    ],
)
def test_extract_prints_what_sops_prints(ws, keys, path):
    work, home = ws
    shutil.copyfile(CORPUS / "nested.yaml", work / "n.yaml")
    enc = run_sops(["encrypt", "--age", keys[0].recipient, "n.yaml"], cwd=work, home=home)
    (work / "n.enc.yaml").write_bytes(enc.stdout)
    env = {"SOPS_AGE_KEY": keys[0].identity}
    theirs = run_sops(["decrypt", "--extract", path, "n.enc.yaml"], cwd=work, home=home, env=env)
    ours = run_ours(["decrypt", "--extract", path, "n.enc.yaml"], cwd=work, home=home, env=env)
    assert ours.returncode == theirs.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout


@pytest.mark.parametrize(("path", "code"), [('["nope"]', 1), ('["db"', 91), ("[x]", 91)])
def test_bad_extract_paths_fail(ws, keys, path, code):
    work, home = ws
    shutil.copyfile(CORPUS / "nested.yaml", work / "n.yaml")
    enc = run_ours(["encrypt", "--age", keys[0].recipient, "n.yaml"], cwd=work, home=home)
    (work / "n.enc.yaml").write_bytes(enc.stdout)
    ours = run_ours(
        ["decrypt", "--extract", path, "n.enc.yaml"],
        cwd=work,
        home=home,
        env={"SOPS_AGE_KEY": keys[0].identity},
    )
    assert ours.returncode == code
    assert ours.stdout == b""


def test_config_is_found_from_the_working_directory_and_matched_relative_to_it(ws, keys):
    work, home = ws
    (work / ".sops.yaml").write_text(
        "creation_rules:\n"
        f"  - path_regex: ^sub/first\\.yaml$\n    age: {keys[0].recipient}\n"
        f"  - path_regex: \\.yaml$\n    age: ' {keys[1].recipient} ,{keys[2].recipient}, '\n"
        "    encrypted_regex: ^password$\n"
    )
    (work / "sub").mkdir()
    shutil.copyfile(CORPUS / "nested.yaml", work / "sub" / "first.yaml")
    shutil.copyfile(CORPUS / "nested.yaml", work / "sub" / "second.yaml")
    for cwd in (work, work / "sub"):
        for name, want in (("first", [keys[0]]), ("second", keys[1:])):
            ours = run_ours(
                ["encrypt", f"{name}.yaml"] if cwd != work else ["encrypt", f"sub/{name}.yaml"],
                cwd=cwd,
                home=home,
            )
            assert ours.returncode == 0, ours.stderr
            out = work / f"{name}.enc.yaml"
            out.write_bytes(ours.stdout)
            assert _recipients(out) == [k.recipient for k in want]
    text = (work / "second.enc.yaml").read_text()
    assert "encrypted_regex: ^password$" in text
    assert "user: admin" in text  # not encrypted by that rule
    theirs = run_sops(["encrypt", "sub/second.yaml"], cwd=work, home=home)
    assert _recipients(work / "second.enc.yaml") == re.findall(
        r"recipient: (age1\w+)", theirs.stdout.decode()
    )


def test_no_matching_rule_is_an_error_even_with_age_like_sops(ws, keys):
    work, home = ws
    (work / ".sops.yaml").write_text(
        f"creation_rules:\n  - path_regex: \\.json$\n    age: {keys[0].recipient}\n"
    )
    shutil.copyfile(CORPUS / "nested.yaml", work / "n.yaml")
    theirs = run_sops(["encrypt", "--age", keys[0].recipient, "n.yaml"], cwd=work, home=home)
    ours = run_ours(["encrypt", "--age", keys[0].recipient, "n.yaml"], cwd=work, home=home)
    assert theirs.returncode == ours.returncode == 1
    assert "no matching creation rules" in ours.stderr


def test_no_config_and_no_keys_is_an_error(ws):
    work, home = ws
    shutil.copyfile(CORPUS / "nested.yaml", work / "n.yaml")
    theirs = run_sops(["encrypt", "n.yaml"], cwd=work, home=home)
    ours = run_ours(["encrypt", "n.yaml"], cwd=work, home=home)
    assert theirs.returncode == ours.returncode == 1
    assert "no keys provided" in ours.stderr


def test_updatekeys_rewraps_for_the_new_recipients_and_keeps_the_values(ws, keys):
    work, home = ws
    config = work / ".sops.yaml"
    config.write_text(f"creation_rules:\n  - age: {keys[0].recipient}\n")
    shutil.copyfile(CORPUS / "comments.yaml", work / "c.yaml")
    enc = run_sops(["encrypt", "c.yaml"], cwd=work, home=home)
    (work / "c.yaml").write_bytes(enc.stdout)
    before = (work / "c.yaml").read_text()
    config.write_text(f"creation_rules:\n  - age: {keys[1].recipient},{keys[2].recipient}\n")
    env = {"SOPS_AGE_KEY": keys[0].identity}
    ours = run_ours(["updatekeys", "-y", "c.yaml"], cwd=work, home=home, env=env)
    assert ours.returncode == 0, ours.stderr
    assert _recipients(work / "c.yaml") == [keys[1].recipient, keys[2].recipient]
    after = (work / "c.yaml").read_text()
    values = lambda t: [ln for ln in t.splitlines() if "type:str]" in ln]  # noqa: E731
    assert values(after) == values(before)  # same data key: values untouched
    for key in keys[1:]:
        dec = run_sops(
            ["decrypt", "c.yaml"], cwd=work, home=home, env={"SOPS_AGE_KEY": key.identity}
        )
        assert dec.returncode == 0, dec.stderr
    old = run_sops(["decrypt", "c.yaml"], cwd=work, home=home, env=env)
    assert old.returncode == 128
    again = run_ours(["updatekeys", "-y", "c.yaml"], cwd=work, home=home, env=env)
    assert again.returncode == 0
    assert "already up to date" in again.stderr


def test_rotate_makes_a_new_data_key_and_can_add_and_remove_recipients(ws, keys):
    work, home = ws
    shutil.copyfile(CORPUS / "nested.yaml", work / "n.yaml")
    enc = run_sops(["encrypt", "--age", keys[0].recipient, "n.yaml"], cwd=work, home=home)
    (work / "n.yaml").write_bytes(enc.stdout)
    env = {"SOPS_AGE_KEY": keys[0].identity}
    plain = run_sops(["decrypt", "n.yaml"], cwd=work, home=home, env=env).stdout
    ours = run_ours(
        ["rotate", "-i", "--add-age", keys[1].recipient, "--rm-age", keys[0].recipient, "n.yaml"],
        cwd=work,
        home=home,
        env=env,
    )
    assert ours.returncode == 0, ours.stderr
    rotated = (work / "n.yaml").read_text()
    assert _recipients(work / "n.yaml") == [keys[1].recipient]
    new_values = [ln for ln in rotated.splitlines() if "ENC[" in ln]
    old_values = [ln for ln in enc.stdout.decode().splitlines() if "ENC[" in ln]
    assert not set(new_values) & set(old_values)  # every value re-encrypted
    back = run_sops(
        ["decrypt", "n.yaml"], cwd=work, home=home, env={"SOPS_AGE_KEY": keys[1].identity}
    )
    assert back.returncode == 0, back.stderr
    assert back.stdout == plain


def test_a_file_only_pgp_can_open_fails_naming_the_key_types(ws, keys):
    work, home = ws
    shutil.copyfile(CORPUS / "nested.yaml", work / "n.yaml")
    enc = run_sops(["encrypt", "--age", keys[0].recipient, "n.yaml"], cwd=work, home=home).stdout
    text = enc.decode()
    start = text.index("    age:")
    end = text.index("    lastmodified:")
    pgp = (
        "    pgp:\n"
        '        - created_at: "2024-01-01T00:00:00Z"\n'
        "          enc: |-\n"
        "            -----BEGIN PGP MESSAGE-----\n"
        "            wcBMA0l4cQYAAAAAAQgAabcdef\n"
        "            -----END PGP MESSAGE-----\n"
        "          fp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n"
    )
    (work / "pgp.yaml").write_text(
        text[:start] + text[end:].replace("    unencrypted_suffix", pgp + "    unencrypted_suffix")
    )
    ours = run_ours(
        ["decrypt", "pgp.yaml"], cwd=work, home=home, env={"SOPS_AGE_KEY": keys[0].identity}
    )
    assert ours.returncode == 128
    assert "pgp key FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4" in ours.stderr
    assert "only age" in ours.stderr


def test_other_key_types_are_kept_when_age_opens_the_file(ws, keys):
    work, home = ws
    shutil.copyfile(CORPUS / "nested.yaml", work / "n.yaml")
    text = run_sops(
        ["encrypt", "--age", keys[0].recipient, "n.yaml"], cwd=work, home=home
    ).stdout.decode()
    kms = (
        "    kms:\n"
        "        - arn: arn:aws:kms:eu-west-1:000000000000:key/demo\n"
        '          created_at: "2024-01-01T00:00:00Z"\n'
        "          enc: AQICAHdemoblob\n"
        '          aws_profile: ""\n'
    )
    (work / "k.yaml").write_text(text.replace("    age:\n", kms + "    age:\n", 1))
    env = {"SOPS_AGE_KEY": keys[0].identity}
    theirs = run_sops(["decrypt", "k.yaml"], cwd=work, home=home, env=env)
    ours = run_ours(["decrypt", "k.yaml"], cwd=work, home=home, env=env)
    assert theirs.returncode == ours.returncode == 0
    assert ours.stdout == theirs.stdout
    (work / ".sops.yaml").write_text(
        "creation_rules:\n  - kms: arn:aws:kms:eu-west-1:000000000000:key/demo\n"
        f"    age: {keys[0].recipient},{keys[1].recipient}\n"
    )
    upd = run_ours(["updatekeys", "-y", "k.yaml"], cwd=work, home=home, env=env)
    assert upd.returncode == 0, upd.stderr
    after = (work / "k.yaml").read_text()
    assert "enc: AQICAHdemoblob" in after  # kept verbatim: the data key did not change
    assert _recipients(work / "k.yaml") == [keys[0].recipient, keys[1].recipient]
    check = run_sops(
        ["decrypt", "k.yaml"], cwd=work, home=home, env={"SOPS_AGE_KEY": keys[1].identity}
    )
    assert check.returncode == 0, check.stderr


def test_two_encryption_rules_on_the_command_line_are_refused_like_sops(ws, keys):
    work, home = ws
    shutil.copyfile(CORPUS / "nested.yaml", work / "n.yaml")
    args = ["--age", keys[0].recipient, "--encrypted-regex", "a", "--unencrypted-suffix", "_x"]
    theirs = run_sops([*args, "-e", "n.yaml"], cwd=work, home=home)
    ours = run_ours(["encrypt", *args, "n.yaml"], cwd=work, home=home)
    assert theirs.returncode == ours.returncode == 8
    assert ours.stdout == b""
