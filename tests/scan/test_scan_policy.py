"""Policy: what .sops.yaml says must be encrypted, values a SOPS file's own
rules encrypt, and files that must never be committed."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import CORPUS

from homelab_secrets.scan import Policy, scan_bytes
from homelab_secrets.scan.model import Finding

AGE = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
SOPS_CONFIG = f"""creation_rules:
  - path_regex: secrets/.*\\.yaml$
    age: {AGE}
  - age: {AGE}
"""


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    (tmp_path / ".sops.yaml").write_text(SOPS_CONFIG)
    return Policy.load(str(tmp_path), [""])


def _encrypt(plain: str, **rules: str) -> str:
    from homelab_secrets.sops.metadata import AgeKey
    from homelab_secrets.sops.pipeline import Encryption, encrypt
    from homelab_secrets.sops.tree import Rules

    plan = Encryption([[AgeKey(AGE)]], Rules(**rules), 0)
    return encrypt(plain.encode(), in_fmt="yaml", out_fmt="yaml", plan=plan, config=None).decode()


def _rules(findings: list[Finding]) -> list[tuple[int, str]]:
    return [(f.line, f.rule) for f in findings]


def test_a_sops_named_file_never_encrypted(policy: Policy) -> None:
    found = scan_bytes("db.sops.yaml", b"db:\n  password: Plain-Text-pw\n", policy)
    assert _rules(found) == [(1, "sops-unencrypted-file"), (2, "generic-password")]
    assert "named *.sops.*" in found[0].title


def test_a_file_matched_by_sops_yaml_but_plaintext(policy: Policy) -> None:
    found = scan_bytes("secrets/app.yaml", b"name: app\nreplicas: 2\n", policy)
    assert _rules(found) == [(1, "sops-unencrypted-file")]
    assert ".sops.yaml creation rule 0 (path_regex)" in found[0].title


def test_the_same_file_encrypted_is_fine(policy: Policy) -> None:
    encrypted = _encrypt("name: app\ndb_password: Encrypted-pw\n")
    assert scan_bytes("secrets/app.yaml", encrypted.encode(), policy) == []


def test_a_rule_without_path_regex_does_not_make_every_file_a_secret(policy: Policy) -> None:
    assert scan_bytes("docs/readme.yaml", b"name: app\n", policy) == []


def test_a_new_clear_password_in_a_partly_encrypted_file(policy: Policy) -> None:
    encrypted = _encrypt(
        "stringData:\n    db_password: Enc-pw-1\n    username: app\n",
        encrypted_regex="_password$",
    )
    assert scan_bytes("secrets/app.yaml", encrypted.encode(), policy) == []  # username: clear, fine
    edited = encrypted.replace(
        "    username: app\n", "    username: app\n    admin_password: Typed-In-Clear-9\n"
    )
    found = scan_bytes("secrets/app.yaml", edited.encode(), policy)
    line = edited.splitlines().index("    admin_password: Typed-In-Clear-9") + 1
    assert _rules(found) == [(line, "sops-unencrypted-value"), (line, "generic-password")]
    assert found[0].key == "stringData.admin_password"
    assert "Typed" not in repr(found)
    assert "Typed" not in found[0].title


def test_a_clear_value_can_be_allowed_inline(policy: Policy) -> None:
    edited = _encrypt("a: secret-a\n").replace(
        "sops:\n", "port: 5432 # homelab-secrets:allow (not a secret)\nsops:\n", 1
    )
    assert scan_bytes("secrets/app.yaml", edited.encode(), policy) == []


def test_a_clear_number_typed_into_a_fully_encrypted_file(policy: Policy) -> None:
    edited = _encrypt("a: secret-a\n").replace("sops:\n", "port: 5432\nsops:\n", 1)
    found = scan_bytes("secrets/app.yaml", edited.encode(), policy)
    assert [(f.rule, f.key) for f in found] == [("sops-unencrypted-value", "port")]


def test_clear_keys_in_sops_files_still_go_through_the_patterns(policy: Policy) -> None:
    encrypted = _encrypt(
        "password: enc-1\nsettings_unencrypted:\n    db_password: Clear-By-Rule-7\n"
    )
    found = scan_bytes("secrets/app.yaml", encrypted.encode(), policy)
    assert [f.rule for f in found] == ["generic-password"]  # allowed in clear, but a password


def test_the_sops_block_and_enc_values_are_never_findings() -> None:
    for path in sorted((CORPUS / "secrets").glob("*.enc.*")):
        if "partial" in path.name:
            continue
        assert scan_bytes(f"secrets/{path.name}", path.read_bytes()) == [], path.name


def test_sops_yaml_itself_is_never_a_finding(policy: Policy) -> None:
    text = b"creation_rules:\n  - path_regex: x\n    hc_vault_transit_uri: https://u:Pw-in-uri-9@vault/\n"
    assert scan_bytes(".sops.yaml", text, policy) == []
    assert scan_bytes("deploy/.sops.yaml", text, policy) == []


def test_an_enc_file_may_be_any_ciphertext() -> None:
    vault = b"$ANSIBLE_VAULT;1.1;AES256\n6134\n"
    assert scan_bytes("group_vars/vault.enc.yml", vault) == []
    found = scan_bytes("group_vars/vault.enc.yml", b"vault_pw: Wh1te-Rabbit-9\n")
    assert [f.rule for f in found] == ["sops-unencrypted-file", "generic-password"]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("terraform.tfstate", b'{"version": 4}'),
        ("envs/prd/terraform.tfstate.backup", b'{"version": 4}'),
        ("prd.tfstate", b"{}"),
        ("terraform.tfstate.1700000000.backup", b"{}"),
        ("home/.terraform.d/credentials.tfrc.json", b"{}"),
        ("ansible/.vault_pass", b"x\n"),
        ("ansible/vault_password.txt", b"x\n"),
        (".git-credentials", b"https://u:t@github.com\n"),
        ("certs/client.p12", b"\x30\x82"),
        ("keys.txt", b"# created\nAGE-SECRET-KEY-1QQQ\n"),
        ("kubeconfig", b"kind: Config\nusers:\n- name: a\n  user:\n    token: abc.def\n"),
        (
            "clusters/lab.yaml",
            b"kind: Config\nclusters: []\nusers:\n- user:\n    client-key-data: LS0t\n",
        ),
    ],
)
def test_forbidden_files(path: str, data: bytes) -> None:
    rules = [(f.line, f.rule) for f in scan_bytes(path, data) if f.rule == "forbidden-file"]
    assert rules == [(1, "forbidden-file")]


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("docs/keys.txt", b"keyboard shortcuts\n"),
        (
            "kubeconfig",
            b"kind: Config\nusers:\n- name: a\n  user:\n    exec:\n      command: kubelogin\n",
        ),
        ("terraform.tfvars", b'region = "home"\n'),
        ("state.tf", b'terraform { backend "s3" {} }\n'),
    ],
)
def test_allowed_files(path: str, data: bytes) -> None:
    assert [f.rule for f in scan_bytes(path, data) if f.rule == "forbidden-file"] == []
