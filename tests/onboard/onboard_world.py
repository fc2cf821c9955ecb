"""The world the init/rekey tests run in: a fixture repository with the
roadmap's Terraform + Ansible layout (committed in git, with the old
gitignored ``.env/terraform.tfvars``), the fake Doppler and fake Infisical
served on 127.0.0.1, our CLI run in-process and the real sops beside it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyrage
import yaml

from fakes import serve
from fakes.doppler import FakeDoppler
from fakes.infisical import FakeInfisical
from support.sops_oracle import Result, run_ours, run_sops

TOKEN = "dp.st.prd.U2VydmljZVRva2VuT2ZQcmRDb25maWdPbmx5MTIzNDU2"  # read/write
READ_ONLY = "dp.st.prd.UmVhZE9ubHlTZXJ2aWNlVG9rZW5PZlByZENvbmZpZzEy"
PROJECT, CONFIG = "iac-conf-mgmt", "prd"
INFISICAL_PROJECT = "0b1c2d3e-0000-4000-8000-00000000abcd"
CLIENT_ID, CLIENT_SECRET = "cid-onboard", "csecret-onboard-0123456789"
PIN = "0123456789abcdef0123456789abcdef01234567"
#: init's flags for workflows that zizmor accepts (a pinned copy)
ACTION = ["--action-repo", "me/homelab-secrets", "--action-ref", PIN]

#: the plaintext files of the fixture, and what they hold
PLAIN: dict[str, bytes] = {
    "main.tf": b'variable "pm_password" { sensitive = true }\n',
    "envs/prd/prd.tfvars": (
        b'pm_api_url  = "https://pve.lab:8006/"\npm_password = "Tf-Prd-9f8e7d6c5b4a"\n'
    ),
    "terraform.tfvars.json": (
        b'{\n  "pm_token_secret": "Tf-Json-11aa22bb33cc",\n  "replicas": 3\n}\n'
    ),
    ".env/terraform.tfvars": b'pm_password = "Old-Env-Dir-7a6b5c4d3e2f"\n',
    "ansible.cfg": b"[defaults]\ninventory = inventory/hosts.ini\n",
    "site.yml": b"- hosts: all\n  roles: [app]\n",
    "inventory/hosts.ini": b"[web]\nweb1\n",
    "group_vars/all/vars.yml": b"ntp_server: pool.ntp.org\n",
    "group_vars/all/vault.yml": (
        b"# the vault of every host\n"
        b"vault_db_password: Ans-Db-0a9b8c7d6e5f  # rotated in May\n"
        b"vault_api_keys:\n"
        b"    - Ans-Key-1111aaaa\n"
        b"    - Ans-Key-2222bbbb\n"
    ),
    "group_vars/web/vault.yml": b"$ANSIBLE_VAULT;1.1;AES256\n6162636465660a\n",
    "host_vars/web1.yml": b"ansible_host: 10.0.0.11\nvault_root_password: Host-Root-5e4d3c2b\n",
    "roles/app/tasks/main.yml": b"- name: ping\n  ansible.builtin.ping:\n",
    "README.md": b"# infra\n",
    ".gitignore": b".env/\n.terraform/\n*.tfstate\n",
}
#: where each covered plaintext file ends up, encrypted
ENCRYPTED = {
    "envs/prd/prd.tfvars": "envs/prd/prd.tfvars",
    "terraform.tfvars.json": "terraform.tfvars.enc.json",
    ".env/terraform.tfvars": "terraform.enc.tfvars",
    "group_vars/all/vault.yml": "group_vars/all/vault.yml",
    "host_vars/web1.yml": "host_vars/web1.yml",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def make_repo(root: Path, files: dict[str, bytes] = PLAIN) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "infra")
    return root


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file (outside .git) with its bytes and mode."""
    out = {}
    for path in sorted(root.rglob("*")):
        if ".git" in path.relative_to(root).parts or not path.is_file():
            continue
        out[path.relative_to(root).as_posix()] = (
            path.read_bytes(),
            stat.S_IMODE(path.stat().st_mode),
        )
    return out


def same_content(rel: str, original: bytes, decrypted: bytes) -> bool:
    """sops prints YAML/JSON in its own layout: compare those as data."""
    if rel.endswith((".yml", ".yaml")):
        return bool(yaml.safe_load(original) == yaml.safe_load(decrypted))
    if rel.endswith(".json"):
        return bool(json.loads(original) == json.loads(decrypted))
    return original == decrypted


def recipient_of(identity_text: str) -> list[str]:
    lines = [line for line in identity_text.splitlines() if line.startswith("AGE-SECRET-KEY-")]
    return [str(pyrage.x25519.Identity.from_str(line).to_public()) for line in lines]


@dataclass
class World:
    repo: Path
    home: Path
    doppler: FakeDoppler
    doppler_url: str
    infisical: FakeInfisical | None = None
    infisical_url: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
        return run_ours(
            list(args), cwd=cwd or self.repo, home=self.home, env={**self.env, **(env or {})}
        )

    def init(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return self.run("init", "--api-host", self.doppler_url, *ACTION, *args, env=env)

    def key(self) -> str:
        return self.doppler.values(PROJECT, CONFIG)["SOPS_AGE_KEY"]

    def sops_decrypt(self, rel: str, key: str) -> Result:
        return run_sops(["decrypt", rel], cwd=self.repo, home=self.home, env={"SOPS_AGE_KEY": key})

    def doppler_writes(self) -> int:
        return sum(1 for r in self.doppler.requests if r.method == "POST")


@contextmanager
def world(tmp_path: Path, *, infisical: bool = False) -> Iterator[World]:
    doppler = FakeDoppler()
    doppler.add_config(PROJECT, CONFIG, {"PROXMOX_VE_ENDPOINT": "https://pve.lab:8006/"})
    doppler.add_service_token(TOKEN, PROJECT, CONFIG, write=True)
    doppler.add_service_token(READ_ONLY, PROJECT, CONFIG)
    home = tmp_path / "home"
    home.mkdir()
    repo = make_repo(tmp_path / "infra")
    env = {"DOPPLER_TOKEN": TOKEN, "PATH": os.environ.get("PATH", "")}
    with serve(doppler) as url:
        if not infisical:
            yield World(repo, home, doppler, url, env=env)
            return
        fake = FakeInfisical()
        fake.add_project(INFISICAL_PROJECT, "infra", environments=("dev", "prod"))
        fake.universal_identity(CLIENT_ID, CLIENT_SECRET)
        env.update(INFISICAL_CLIENT_ID=CLIENT_ID, INFISICAL_CLIENT_SECRET=CLIENT_SECRET)
        with serve(fake) as infisical_url:
            yield World(repo, home, doppler, url, fake, infisical_url, env=env)
