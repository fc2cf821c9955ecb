"""Where init puts an encrypted file, which kinds it recognises, what the
preset rules cover (and do not), and what it skips."""

from __future__ import annotations

import re

import pytest

from homelab_secrets.onboard import discover, presets
from homelab_secrets.sops.stores import format_for_path


@pytest.mark.parametrize(
    ("name", "encrypted"),
    [
        ("terraform.tfvars", "terraform.enc.tfvars"),
        ("terraform.tfvars.json", "terraform.tfvars.enc.json"),
        ("prod.auto.tfvars", "prod.auto.enc.tfvars"),
        ("vault.yml", "vault.enc.yml"),
        (".env", ".enc.env"),
        (".env.production", "production.enc.env"),
        ("secrets.enc.yaml", "secrets.enc.yaml"),
        ("id_rsa", "id_rsa.enc"),
    ],
)
def test_encrypted_names_keep_the_format_sops_reads_them_as(name: str, encrypted: str) -> None:
    assert discover.encrypted_name(name) == encrypted
    if name.endswith((".json", ".yml", ".env")) and not name.startswith(".env."):
        assert format_for_path(encrypted) == format_for_path(name)


@pytest.mark.parametrize(
    ("rel", "ignored", "target"),
    [
        ("envs/prd/prd.tfvars", False, "envs/prd/prd.tfvars"),  # in place
        (".env/terraform.tfvars", True, "terraform.enc.tfvars"),  # the retired folder
        ("stacks/a/.env/prd.tfvars", True, "stacks/a/prd.enc.tfvars"),
        ("terraform.tfvars", False, "terraform.enc.tfvars"),  # Terraform auto-loads it
        ("x.auto.tfvars.json", False, "x.auto.tfvars.enc.json"),
        ("group_vars/all/vault.yml", True, "group_vars/all/vault.enc.yml"),  # gitignored
        ("group_vars/all/vault.yml", False, "group_vars/all/vault.yml"),
    ],
)
def test_target_for(rel: str, ignored: bool, target: str) -> None:
    assert discover.target_for(rel, ignored)[0] == target


def test_the_auto_loaded_new_names_are_not_auto_loaded() -> None:
    for name in (
        "terraform.tfvars",
        "terraform.tfvars.json",
        "a.auto.tfvars",
        "a.auto.tfvars.json",
    ):
        assert discover.autoloaded(name)
        assert not discover.autoloaded(discover.encrypted_name(name))


COVERED = [
    "terraform.tfvars",
    "envs/prd/prd.tfvars",
    "terraform.tfvars.json",
    "terraform.enc.tfvars",
    "terraform.tfvars.enc.json",
    "group_vars/all/vault.yml",
    "inventory/group_vars/web/vault_extra.yaml",
    "host_vars/web1.yml",
    "host_vars/db1/main.yml",
    "vars/secrets.enc.yaml",
    ".env",
    "app/prod.env",
    ".enc.env",
    ".env.production",
]
NOT_COVERED = [
    "main.tf",
    "group_vars/all/vars.yml",
    "group_vars/all.yml",
    "roles/app/tasks/main.yml",
    ".env.example",
    ".env/README.md",
    "site.yml",
]


def test_presets_cover_what_the_issue_names_and_nothing_else() -> None:
    patterns = [re.compile(r.path_regex) for r in presets.RULES]
    for rel in COVERED:
        assert any(p.search(rel) for p in patterns), rel
    for rel in NOT_COVERED:
        assert not any(p.search(rel) for p in patterns), rel
    for rule in presets.RULES:  # each rule covers its own samples
        assert all(re.search(rule.path_regex, s) for s in rule.samples)


def test_presets_are_re2_compatible() -> None:
    # Go's regexp (sops) has no look-arounds or back-references
    for rule in presets.RULES:
        assert not re.search(r"\(\?[=!<]|\\[1-9]", rule.path_regex), rule.path_regex


@pytest.mark.parametrize(
    ("files", "kinds"),
    [
        (["main.tf", "variables.tf"], ["terraform"]),
        (["ansible.cfg", "site.yml"], ["ansible"]),
        (["inventory/group_vars/all/vault.yml"], ["ansible"]),
        (["main.tf", "roles/app/tasks/main.yml", ".env"], ["terraform", "ansible", "dotenv"]),
        (["README.md", ".github/workflows/site.yml"], []),
    ],
)
def test_detect(files: list[str], kinds: list[str]) -> None:
    assert presets.detect(files) == kinds


def test_the_command_offers_exactly_the_preset_kinds() -> None:
    from homelab_secrets.commands import init

    assert init.KINDS == presets.KINDS


def test_sops_state() -> None:
    assert discover.sops_state(b"$ANSIBLE_VAULT;1.1;AES256\n00\n", "v.yml").startswith("an Ansible")
    assert discover.sops_state(b"  \n", "v.yml") == "empty"
    assert discover.sops_state(b"a: sops is a word here\n", "v.yml") == "plain"
    assert discover.sops_state(b"# encrypted with sops soon\nx = 1\n", "a.tfvars") == "plain"
