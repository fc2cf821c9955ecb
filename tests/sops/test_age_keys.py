"""age identities are found where sops finds them and never shown."""

from __future__ import annotations

import os
import stat
import sys

import pyrage
import pytest

from homelab_secrets.sops.keys import age


@pytest.fixture
def key():
    ident = pyrage.x25519.Identity.generate()
    return str(ident), str(ident.to_public())


def env(tmp_path, **extra):
    return {"HOME": str(tmp_path), **extra}


def test_wrapped_data_key_is_armored_and_unwraps(key):
    identity, recipient = key
    enc = age.encrypt_data_key(b"d" * 32, recipient)
    assert enc.startswith("-----BEGIN AGE ENCRYPTED FILE-----\n")
    assert enc.endswith("-----END AGE ENCRYPTED FILE-----\n")
    ids = age.load_identities({"SOPS_AGE_KEY": identity, "HOME": "/nonexistent"})
    assert age.decrypt_data_key(enc, ids.identities) == b"d" * 32


def test_sops_age_key_holds_several_identities_and_comments(key, tmp_path):
    other = pyrage.x25519.Identity.generate()
    text = f"# created: today\n{other}\n\n{key[0]}\r\n"
    ids = age.load_identities(env(tmp_path, SOPS_AGE_KEY=text))
    assert len(ids.identities) == 2
    assert ids.errors == []


def test_every_source_is_loaded(key, tmp_path):
    other = pyrage.x25519.Identity.generate()
    third = pyrage.x25519.Identity.generate()
    key_file = tmp_path / "k.txt"
    key_file.write_text(str(other) + "\n")
    config = tmp_path / ".config" / "sops" / "age"
    config.mkdir(parents=True)
    (config / "keys.txt").write_text(str(third) + "\n")
    ids = age.load_identities(env(tmp_path, SOPS_AGE_KEY=key[0], SOPS_AGE_KEY_FILE=str(key_file)))
    assert len(ids.identities) == 3


def test_xdg_config_home_moves_the_default_keys_file(key, tmp_path):
    config = tmp_path / "xdg" / "sops" / "age"
    config.mkdir(parents=True)
    (config / "keys.txt").write_text(key[0] + "\n")
    ids = age.load_identities(env(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "xdg")))
    assert len(ids.identities) == 1


def test_key_command_runs_without_a_shell(key, tmp_path):
    script = tmp_path / "print key.py"
    script.write_text(f"print({key[0]!r})\n")
    command = f"{sys.executable} '{script}'"
    ids = age.load_identities(env(tmp_path, SOPS_AGE_KEY_CMD=command))
    assert len(ids.identities) == 1
    assert ids.errors == []


def test_a_failing_key_command_is_reported_by_exit_status(tmp_path):
    ids = age.load_identities(env(tmp_path, SOPS_AGE_KEY_CMD="false"))
    assert ids.identities == []
    assert "exit status 1" in ids.errors[0]


def test_malformed_identity_is_reported_by_location_and_line_only(tmp_path):
    secretish = "AGE-SECRET-KEY-1NOTVALIDATALL"
    ids = age.load_identities(env(tmp_path, SOPS_AGE_KEY=f"# c\n{secretish}"))
    assert ids.identities == []
    assert ids.errors == [
        "failed to parse 'SOPS_AGE_KEY' age identities: line 2: malformed secret key"
    ]
    assert secretish not in ids.describe_failure()


def test_trailing_space_is_not_trimmed_like_sops(key, tmp_path):
    ids = age.load_identities(env(tmp_path, SOPS_AGE_KEY=key[0] + " "))
    assert ids.identities == []
    assert "line 1" in ids.errors[0]


def test_unknown_identity_type_is_an_error(tmp_path):
    ids = age.load_identities(env(tmp_path, SOPS_AGE_KEY="hello"))
    assert "unknown identity type" in ids.errors[0]


def test_failure_lists_the_locations_searched(tmp_path):
    ids = age.load_identities(env(tmp_path))
    text = ids.describe_failure()
    for name in ("SOPS_AGE_KEY", "SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY_CMD", "keys.txt"):
        assert name in text


def test_wrong_identity_fails_with_sops_reason(key):
    enc = age.encrypt_data_key(b"d" * 32, key[1])
    stranger = pyrage.x25519.Identity.generate()
    with pytest.raises(age.AgeError, match="did not match any of the recipients"):
        age.decrypt_data_key(enc, [stranger])


def test_identity_sources_report_names_and_presence_never_values(key, tmp_path):
    key_file = tmp_path / "k.txt"
    key_file.write_text(key[0])
    os.chmod(key_file, stat.S_IRUSR)
    sources = age.identity_sources(
        env(tmp_path, SOPS_AGE_KEY=key[0], SOPS_AGE_KEY_FILE=str(key_file))
    )
    assert [s.name for s in sources] == [
        "SOPS_AGE_KEY",
        "SOPS_AGE_KEY_FILE",
        "SOPS_AGE_KEY_CMD",
        "keys.txt",
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
        "id_ed25519",
        "id_rsa",
    ]
    assert [s.available for s in sources][:3] == [True, True, False]
    assert all(key[0] not in repr(s) for s in sources)


@pytest.mark.parametrize("bad", ["", "age1notbech32", "nope"])
def test_bad_recipients_are_refused(bad):
    with pytest.raises(age.AgeError):
        age.parse_recipient(bad)


def test_the_user_keys_file_is_where_sops_looks_on_each_platform() -> None:
    from homelab_secrets.sops.keys.age import user_config_keys_path

    home = {"HOME": "/home/u"}
    assert user_config_keys_path(home, "linux") == "/home/u/.config/sops/age/keys.txt"
    assert user_config_keys_path(home, "darwin") == (
        "/home/u/Library/Application Support/sops/age/keys.txt"
    )
    xdg = {**home, "XDG_CONFIG_HOME": "/x"}
    assert user_config_keys_path(xdg, "darwin") == "/x/sops/age/keys.txt"
    assert user_config_keys_path(xdg, "linux") == "/x/sops/age/keys.txt"
