"""`homelab-secrets init` end to end (issue 13's proof): a fixture repository
with the roadmap's Terraform + Ansible layout, the fake Doppler (and the fake
Infisical) on 127.0.0.1, the real sops as the judge.

* the dry run shows every change and makes none;
* the run stores the key in the manager (and nowhere else), encrypts exactly
  the covered plaintext files (moving the gitignored `.env/terraform.tfvars`
  and the names Terraform auto-loads), and the real sops decrypts each with
  the key read from the fake manager to the original content;
* the hook entry and the workflows it writes pass zizmor and actionlint;
* the plaintext guard is satisfied afterwards;
* the second run changes nothing (no byte, no write to the manager);
* a file that cannot be encrypted, or a manager that refuses the write,
  changes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyrage
import pytest
import yaml
from onboard_world import (
    ACTION,
    CLIENT_ID,
    ENCRYPTED,
    INFISICAL_PROJECT,
    PLAIN,
    READ_ONLY,
    World,
    git,
    recipient_of,
    same_content,
    snapshot,
    world,
)

from conftest import ROOT
from support.sops_oracle import requires_sops, run_sops

pytestmark = requires_sops
BIN = Path(sys.executable).parent


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with world(tmp_path) as it:
        yield it


def _tool(name: str) -> str:
    found = shutil.which(name, path=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]))
    assert found, f"{name} is not installed: run `make setup`"
    return found


def test_dry_run_shows_every_change_and_makes_none(w: World) -> None:
    before = snapshot(w.repo)
    out = w.init("--dry-run")
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert snapshot(w.repo) == before
    assert "SOPS_AGE_KEY" not in w.doppler.values("iac-conf-mgmt", "prd")
    assert w.doppler_writes() == 0
    assert "<the new age public key>" in text
    assert "AGE-SECRET-KEY" not in text
    for source, target in ENCRYPTED.items():
        assert (
            f"encrypt {source} in place" if source == target else f"encrypt {source} -> {target}"
        ) in text
    assert "+creation_rules:" in text  # the diff of .sops.yaml
    assert "write .github/workflows/secrets-guard.yml" in text
    assert "group_vars/web/vault.yml: an Ansible Vault file" in text


def test_init_encrypts_the_right_files_and_real_sops_opens_them_with_the_managers_key(
    w: World,
) -> None:
    out = w.init()
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode() + out.stderr
    key = w.key()
    assert key.startswith("AGE-SECRET-KEY-1")
    assert key not in text
    (recipient,) = recipient_of(key)
    assert f"age key: {recipient} (new, stored as SOPS_AGE_KEY in doppler" in text

    for source, target in ENCRYPTED.items():
        decrypted = w.sops_decrypt(target, key)
        assert decrypted.returncode == 0, (target, decrypted.stderr)
        assert same_content(target, PLAIN[source], decrypted.stdout), target
        raw = (w.repo / target).read_bytes()
        assert b"ENC[AES256_GCM" in raw
        assert recipient.encode() in raw
        assert not any(
            v in raw for v in (b"Tf-Prd", b"Tf-Json", b"Old-Env", b"Ans-Db", b"Host-Root")
        )
    # moved: the plaintext and the retired folder are gone
    assert not (w.repo / ".env").exists()
    assert not (w.repo / "terraform.tfvars.json").exists()
    # not covered, or not SOPS's to touch: byte for byte as they were
    for rel in ("main.tf", "site.yml", "group_vars/all/vars.yml", "group_vars/web/vault.yml"):
        assert (w.repo / rel).read_bytes() == PLAIN[rel]
    # a wrong key does not open them
    other = str(pyrage.x25519.Identity.generate())
    wrong = w.sops_decrypt("host_vars/web1.yml", other)
    assert wrong.returncode == 128
    assert "no master key was able to decrypt" in wrong.stderr
    # what moved where, names only; the files committed in clear are named
    assert "encrypt .env/terraform.tfvars -> terraform.enc.tfvars (out of the .env/ folder" in text
    assert "committed in clear before" in text
    assert "envs/prd/prd.tfvars" in text


def test_the_key_never_touches_disk_or_output(w: World) -> None:
    out = w.init()
    assert out.returncode == 0, out.stderr
    key = w.key().encode()
    assert key not in out.stdout
    assert key.decode() not in out.stderr
    for path in [*w.repo.rglob("*"), *w.home.rglob("*")]:
        if path.is_file():
            assert key not in path.read_bytes(), path


def test_sops_yaml_is_what_real_sops_uses(w: World) -> None:
    assert w.init().returncode == 0
    (recipient,) = recipient_of(w.key())
    config = yaml.safe_load((w.repo / ".sops.yaml").read_text())
    assert [r["age"] for r in config["creation_rules"]] == [recipient] * 4
    # a new tfvars file, encrypted by the real sops with that config, opens with the key
    (w.repo / "envs" / "dev.tfvars").write_text('x = "1"\n')
    made = run_sops(["encrypt", "-i", "envs/dev.tfvars"], cwd=w.repo, home=w.home)
    assert made.returncode == 0, made.stderr
    assert w.sops_decrypt("envs/dev.tfvars", w.key()).stdout == b'x = "1"\n'


def test_hook_and_workflows_are_valid(w: World) -> None:
    assert w.init().returncode == 0
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    config = yaml.safe_load((w.repo / ".pre-commit-config.yaml").read_text())
    (repo,) = config["repos"]
    assert repo["repo"] == "https://github.com/me/homelab-secrets"
    assert repo["hooks"] == [{"id": hooks[0]["id"]}]
    workflows = w.repo / ".github" / "workflows"
    names = sorted(p.name for p in workflows.iterdir())
    assert names == ["secrets-decrypt.yml", "secrets-guard.yml"]
    decrypt = yaml.safe_load((workflows / "secrets-decrypt.yml").read_text())
    listed = decrypt["jobs"]["decrypt"]["steps"][1]["with"]["sops-files"].split()
    assert sorted(listed) == sorted(ENCRYPTED.values())
    zizmor = subprocess.run(
        [_tool("zizmor"), "--offline", "--persona", "pedantic", "--no-progress", str(workflows)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert zizmor.returncode == 0, zizmor.stdout + zizmor.stderr
    lint = subprocess.run(
        [_tool("actionlint"), "-no-color", "-shellcheck", _tool("shellcheck"), "-pyflakes", ""],
        cwd=w.repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_plaintext_guard_is_satisfied_afterwards(w: World) -> None:
    assert w.init().returncode == 0
    git(w.repo, "add", "-A")
    scan = w.run("scan", "--format", "json")
    findings = json.loads(scan.stdout)
    # only the Ansible Vault file init left alone (and said so) is not SOPS
    assert [(f["file"], f["rule"]) for f in findings] == [
        ("group_vars/web/vault.yml", "sops-unencrypted-file")
    ], findings


def test_second_run_changes_nothing(w: World) -> None:
    assert w.init().returncode == 0
    git(w.repo, "add", "-A")
    before, writes = snapshot(w.repo), w.doppler_writes()
    again = w.init()
    assert again.returncode == 0, again.stderr
    assert "Nothing to change" in again.stdout.decode()
    assert snapshot(w.repo) == before
    assert w.doppler_writes() == writes
    assert "found as SOPS_AGE_KEY in doppler" in again.stdout.decode()


def test_an_unencryptable_file_stops_everything_before_any_change(w: World) -> None:
    (w.repo / "host_vars" / "db1.yml").write_bytes(b"key: [unclosed\n")
    before = snapshot(w.repo)
    out = w.init()
    assert out.returncode == 23, out.stderr
    assert "host_vars/db1.yml" in out.stderr
    assert "nothing was changed" in out.stderr
    assert snapshot(w.repo) == before
    assert w.doppler_writes() == 0
    assert w.init("--exclude", "host_vars/db1.yml").returncode == 0


def test_a_read_only_token_fails_before_any_file_changes(w: World) -> None:
    before = snapshot(w.repo)
    out = w.init(env={"DOPPLER_TOKEN": READ_ONLY})
    assert out.returncode == 1
    assert "HTTP 403" in out.stderr
    assert "read/write service token" in out.stderr
    assert snapshot(w.repo) == before


def test_a_given_public_key_is_used_and_nothing_is_stored(w: World, tmp_path: Path) -> None:
    identity = pyrage.x25519.Identity.generate()
    keyfile = tmp_path / "mine.txt"
    keyfile.write_text(f"{identity}\n")
    out = w.init(
        "--age-recipient", str(identity.to_public()), env={"SOPS_AGE_KEY_FILE": str(keyfile)}
    )
    assert out.returncode == 0, out.stderr
    assert w.doppler_writes() == 0
    assert not w.doppler.requests
    assert w.sops_decrypt("host_vars/web1.yml", str(identity)).returncode == 0
    decrypt = (w.repo / ".github/workflows/secrets-decrypt.yml").read_text()
    assert "/actions/sops-decrypt@" in decrypt
    assert "secrets.SOPS_AGE_KEY" in decrypt
    assert "gh secret set SOPS_AGE_KEY" in out.stdout.decode()


def test_merges_into_an_existing_sops_yaml(w: World) -> None:
    mine = (
        "# my rules\n"
        "creation_rules:\n"
        "    # prod only\n"
        "    - path_regex: ^secrets/prod/\n"
        "      age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n"
        "    # the rest, for me\n"
        "    - age: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n"
    )
    (w.repo / ".sops.yaml").write_text(mine)
    assert w.init().returncode == 0
    text = (w.repo / ".sops.yaml").read_text()
    assert text.startswith(
        "# my rules\ncreation_rules:\n    # prod only\n    - path_regex: ^secrets/prod/\n"
    )
    assert text.endswith(
        "    # the rest, for me\n    - age: "
        "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n"
    )
    rules = yaml.safe_load(text)["creation_rules"]
    assert len(rules) == 6
    assert rules[0]["path_regex"] == "^secrets/prod/"
    assert "path_regex" not in rules[-1]
    (recipient,) = recipient_of(w.key())
    # the new rules keep the catch-all's recipient: nobody loses access
    assert (
        rules[1]["age"]
        == f"{recipient},age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
    )
    assert w.sops_decrypt("host_vars/web1.yml", w.key()).returncode == 0


def test_with_infisical_as_the_manager(tmp_path: Path) -> None:
    with world(tmp_path, infisical=True) as w:
        assert w.infisical is not None
        out = w.run(
            "init",
            "--provider",
            "infisical",
            "--api-url",
            w.infisical_url,
            "--project-id",
            INFISICAL_PROJECT,
            "--environment",
            "prod",
            *ACTION,
        )
        assert out.returncode == 0, out.stderr
        key = w.infisical.values(INFISICAL_PROJECT, "prod")["SOPS_AGE_KEY"]
        for target in ENCRYPTED.values():
            assert w.sops_decrypt(target, key).returncode == 0, target
        decrypt = (w.repo / ".github/workflows/secrets-decrypt.yml").read_text()
        assert "provider: infisical" in decrypt
        assert f'infisical-project-id: "{INFISICAL_PROJECT}"' in decrypt
        assert CLIENT_ID not in decrypt  # credentials come from secrets
        again = w.run(
            "init",
            "--provider",
            "infisical",
            "--api-url",
            w.infisical_url,
            "--project-id",
            INFISICAL_PROJECT,
            "--environment",
            "prod",
            *ACTION,
        )
        assert "Nothing to change" in again.stdout.decode(), again.stderr


def test_a_crash_half_way_is_finished_by_the_next_run(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from homelab_secrets.onboard import seal

    real = seal.write
    calls: list[str] = []

    def crash_on_the_third(root: Path, sealed: seal.Sealed, *args: object) -> None:
        calls.append(sealed.candidate.source)
        if len(calls) == 3:
            raise RuntimeError("the machine went away")
        real(root, sealed, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(seal, "write", crash_on_the_third)
    assert w.init().returncode == 70
    monkeypatch.setattr(seal, "write", real)
    key = w.key()
    rerun = w.init()
    assert rerun.returncode == 0, rerun.stderr
    assert w.key() == key  # the stored key is reused, not replaced
    text = rerun.stdout.decode()
    assert "store the new age private key" not in text
    for source in calls[:2]:
        assert f"encrypt {source}" not in text  # done by the first run
    for source, target in ENCRYPTED.items():
        decrypted = w.sops_decrypt(target, key)
        assert same_content(target, PLAIN[source], decrypted.stdout), target


def test_a_new_plaintext_file_later_is_encrypted_and_named_for_the_workflow(w: World) -> None:
    assert w.init().returncode == 0
    (w.repo / "host_vars" / "db1.yml").write_text("vault_root_password: Db-Root-99aa88bb\n")
    again = w.init()
    assert again.returncode == 0, again.stderr
    text = again.stdout.decode()
    assert "encrypt host_vars/db1.yml in place" in text
    assert "secrets-decrypt.yml exists with other content: left alone; add to its files: " in text
    assert "host_vars/db1.yml" in text.rsplit("add to its files:", 1)[1]


def test_encrypted_files_a_gitignore_would_hide_are_made_committable(w: World) -> None:
    # Terraform's usual .gitignore ignores every *.tfvars
    (w.repo / ".gitignore").write_text(".env/\n*.tfvars\n*.tfvars.json\n")
    (w.repo / "secret.tfvars").write_text('token = "Ignored-File-0f1e2d3c"\n')
    git(w.repo, "add", ".gitignore")
    out = w.init()
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert "encrypt secret.tfvars -> secret.enc.tfvars (git ignores the old name" in text
    ignore = (w.repo / ".gitignore").read_text()
    assert ignore.startswith(".env/\n*.tfvars\n*.tfvars.json\n# SOPS-encrypted")
    assert "!/secret.enc.tfvars\n" in ignore
    assert "!/terraform.enc.tfvars\n" in ignore
    status = git(w.repo, "status", "--porcelain", "--untracked-files=all")
    assert "?? secret.enc.tfvars" in status
    assert "?? terraform.enc.tfvars" in status
    assert "secret.tfvars\n" not in status
    assert (
        w.sops_decrypt("secret.enc.tfvars", w.key()).stdout == b'token = "Ignored-File-0f1e2d3c"\n'
    )
