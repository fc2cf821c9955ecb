"""`homelab-secrets rekey` after `init` on the fixture repository, judged by
the real sops: new data keys; recipients from `.sops.yaml`; `--new-age-key`
leaves every file decryptable by the new key only, with CI (the key in the
fake Doppler) able to decrypt at every step, a crash half-way finished by a
rerun with the same new key, and the old key retired last."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyrage
import pytest
import yaml
from onboard_world import ENCRYPTED, PLAIN, World, recipient_of, same_content, snapshot, world

from homelab_secrets import fsutil
from homelab_secrets.errors import UserError
from homelab_secrets.onboard.agekey import ROTATION_MARKER
from homelab_secrets.rekey.rewrap import recipients
from homelab_secrets.sops.stores import format_for_path
from support.sops_oracle import requires_sops, run_sops

pytestmark = requires_sops
FILES = sorted(ENCRYPTED.values())
SOURCE = {target: source for source, target in ENCRYPTED.items()}


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with world(tmp_path) as it:
        assert it.init().returncode == 0
        yield it


def rekey(w: World, *args: str, env: dict[str, str] | None = None) -> Any:
    return w.run("rekey", "--api-host", w.doppler_url, *args, env=env)


def file_recipients(w: World, rel: str) -> set[str]:
    groups = recipients((w.repo / rel).read_bytes(), format_for_path(rel))
    return {r for g in groups for r in g}


def opens(w: World, rel: str, key: str) -> bool:
    out = w.sops_decrypt(rel, key)
    return out.returncode == 0 and same_content(rel, PLAIN[SOURCE[rel]], out.stdout)


def test_rekey_gives_every_file_a_new_data_key(w: World) -> None:
    key = w.key()
    before = snapshot(w.repo)
    dry = w.run("rekey", "--dry-run", env={"SOPS_AGE_KEY": key})
    assert dry.returncode == 0, dry.stderr
    assert snapshot(w.repo) == before
    out = w.run("rekey", env={"SOPS_AGE_KEY": key})
    assert out.returncode == 0, out.stderr
    for rel in FILES:
        assert (w.repo / rel).read_bytes() != before[rel][0]
        assert opens(w, rel, key), rel
        assert f"re-key {rel}: a new data key" in out.stdout.decode()
    assert w.doppler_writes() == 1  # init's, nothing since


def test_rekey_follows_recipients_changed_in_sops_yaml(w: World) -> None:
    key = w.key()
    (ci,) = recipient_of(key)
    extra = pyrage.x25519.Identity.generate()
    config = w.repo / ".sops.yaml"
    config.write_text(config.read_text().replace(ci, f"{ci},{extra.to_public()}"))
    out = w.run("rekey", env={"SOPS_AGE_KEY": key})
    assert out.returncode == 0, out.stderr
    for rel in FILES:
        assert file_recipients(w, rel) == {ci, str(extra.to_public())}
        assert opens(w, rel, str(extra)), rel


def test_new_age_key_leaves_every_file_decryptable_by_the_new_key_only(w: World) -> None:
    old = w.key()
    (old_recipient,) = recipient_of(old)
    before = snapshot(w.repo)
    dry = rekey(w, "--new-age-key", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert snapshot(w.repo) == before
    assert w.key() == old

    out = rekey(w, "--new-age-key")
    assert out.returncode == 0, out.stderr
    held = w.key()
    assert held.splitlines()[0] == ROTATION_MARKER
    new_recipient, kept = recipient_of(held)
    assert kept == old_recipient
    new = next(line for line in held.splitlines() if line.startswith("AGE-SECRET-KEY"))
    assert new not in out.stdout.decode() + out.stderr
    rules = yaml.safe_load((w.repo / ".sops.yaml").read_text())["creation_rules"]
    assert {r["age"] for r in rules} == {new_recipient}
    for rel in FILES:
        assert file_recipients(w, rel) == {new_recipient}
        assert opens(w, rel, new), rel
        assert not opens(w, rel, old), rel
        assert opens(w, rel, held), rel  # what CI reads
    assert "rekey --retire-old-key" in out.stdout.decode()

    settled = snapshot(w.repo)
    retired = rekey(w, "--retire-old-key")
    assert retired.returncode == 0, retired.stderr
    assert w.key() == new
    assert snapshot(w.repo) == settled  # retiring touches no file


def test_a_crash_half_way_leaves_every_file_open_to_ci_and_a_rerun_finishes(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = w.key()
    real = fsutil.write_atomic
    written: list[str] = []

    def crash_on_the_third(path: str, data: bytes, **kwargs: Any) -> None:
        if len(written) == 2 and path.endswith(tuple(FILES)):
            raise RuntimeError("the machine went away")
        real(path, data, **kwargs)
        written.append(path)

    monkeypatch.setattr(fsutil, "write_atomic", crash_on_the_third)
    crashed = rekey(w, "--new-age-key")
    assert crashed.returncode == 70  # an internal error: the process died half-way
    monkeypatch.setattr(fsutil, "write_atomic", real)

    held = w.key()
    new_recipient, _ = recipient_of(held)
    done = [rel for rel in FILES if file_recipients(w, rel) == {new_recipient}]
    assert 0 < len(done) < len(FILES)  # really half-way
    for rel in FILES:
        assert opens(w, rel, held), rel  # CI can decrypt every file

    rerun = rekey(w, "--new-age-key")
    assert rerun.returncode == 0, rerun.stderr
    assert "a rotation under way: finishing it" in rerun.stdout.decode()
    assert w.key() == held  # the same new key, not a third one
    for rel in done:
        assert f"re-key {rel}" not in rerun.stdout.decode()  # finished before
    new = held.splitlines()[1]
    for rel in FILES:
        assert file_recipients(w, rel) == {new_recipient}
        assert opens(w, rel, new), rel
        assert not opens(w, rel, old), rel


def test_the_old_key_is_not_retired_while_a_file_needs_it(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from homelab_secrets.rekey import rewrap

    real = rewrap.rekey

    def refuse_one(data: bytes, fmt: str, **kwargs: Any) -> bytes:
        if b"ansible_host" in data or (fmt == "binary" and b"pve.lab" in data):
            raise UserError("cannot write (test)")
        return real(data, fmt, **kwargs)

    monkeypatch.setattr(rewrap, "rekey", refuse_one)
    out = rekey(w, "--new-age-key", "--retire-old-key")
    assert out.returncode == 1
    assert "could not be re-keyed" in out.stderr
    held = w.key()
    assert held.splitlines()[0] == ROTATION_MARKER  # both keys kept
    for rel in FILES:
        assert opens(w, rel, held), rel
    monkeypatch.setattr(rewrap, "rekey", real)
    alone = rekey(w, "--retire-old-key")
    assert alone.returncode == 1
    assert "still needed by" in alone.stderr
    assert w.key() == held
    assert rekey(w, "--new-age-key", "--retire-old-key").returncode == 0
    assert w.key() == held.splitlines()[1]


def test_new_key_into_sops_keys_file_and_nothing_to_retire_afterwards(w: World) -> None:
    keys = w.home / ".config" / "sops" / "age" / "keys.txt"
    out = rekey(w, "--new-age-key", "--retire-old-key", "--local-key", "file")
    assert out.returncode == 0, out.stderr
    new = w.key()
    assert new in keys.read_text().splitlines()
    theirs = run_sops(["decrypt", "host_vars/web1.yml"], cwd=w.repo, home=w.home)
    assert theirs.returncode == 0, theirs.stderr
    again = rekey(w, "--retire-old-key")
    assert again.returncode == 0
    assert "nothing to retire" in again.stdout.decode()
    assert w.key() == new
