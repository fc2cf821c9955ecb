"""Creation rules per kind of repository, and how a kind is recognised.

The roadmap's repositories are Terraform roots (terraform-proxmox) and
Ansible projects (ansible-proxmox-apps, ansible-splunk); dotenv files are the
third shape secrets take.  Each kind gives path-based rules (``path_regex``,
matched by sops against the path relative to ``.sops.yaml``; written for Go's
RE2 and Python alike: no look-arounds):

* **terraform**: ``*.tfvars`` and ``*.tfvars.json``, and the names
  ``homelab-secrets init`` gives them once encrypted (``.enc`` before the
  format's extension, so Terraform does not auto-load an encrypted file);
* **ansible**: ``group_vars/*/vault*.yml``, everything under ``host_vars/``,
  and ``*.enc.yaml``;
* **dotenv**: ``*.env`` (``.env`` included) and ``.env.<stage>`` files;
  templates (``.env.example``) are not matched.

A kind is recognised by files only it has (``*.tf``; ``ansible.cfg``,
``group_vars/``, ``host_vars/``, ``roles/``, a ``site.yml`` or playbook;
a dotenv file the rules would cover).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

KINDS = ("terraform", "ansible", "dotenv")


@dataclass(frozen=True)
class PresetRule:
    kind: str
    path_regex: str
    comment: str
    #: paths the rule must cover (used to tell whether an existing rule already does)
    samples: tuple[str, ...]


RULES: tuple[PresetRule, ...] = (
    PresetRule(
        "terraform",
        r"\.tfvars(\.enc)?(\.json)?$",
        "Terraform variable files: *.tfvars, *.tfvars.json (and their .enc names)",
        ("terraform.tfvars", "envs/prd/prd.tfvars", "terraform.tfvars.json"),
    ),
    PresetRule(
        "ansible",
        r"(^|/)group_vars/[^/]+/vault[^/]*\.ya?ml$",
        "Ansible: group_vars/<group>/vault*.yml",
        ("group_vars/all/vault.yml", "inventory/group_vars/web/vault.yaml"),
    ),
    PresetRule(
        "ansible",
        r"(^|/)host_vars/",
        "Ansible: everything under host_vars/",
        ("host_vars/web1.yml", "inventory/host_vars/db1/main.yml"),
    ),
    PresetRule(
        "ansible",
        r"\.enc\.ya?ml$",
        "Ansible and others: *.enc.yaml, *.enc.yml",
        ("vars/secrets.enc.yaml",),
    ),
    PresetRule(
        "dotenv",
        r"(^|/)([^/]*\.env|\.env\.(local|dev|development|test|staging|stg|prod|production|prd))$",
        "dotenv files: .env, *.env, .env.<stage> (not .env.example)",
        (".env", "app/prod.env", ".env.production"),
    ),
)

_PLAYBOOK = re.compile(r"(^|/)(site|playbook[^/]*)\.ya?ml$")
_ANSIBLE_DIRS = ("group_vars/", "host_vars/", "roles/")


def rules_for(kinds: Iterable[str]) -> list[PresetRule]:
    wanted = set(kinds)
    unknown = wanted - set(KINDS)
    if unknown:
        from homelab_secrets.errors import ExitCode, UserError

        raise UserError(
            f"unknown repository kind {', '.join(sorted(unknown))}: use {', '.join(KINDS)}",
            ExitCode.USAGE,
        )
    return [rule for rule in RULES if rule.kind in wanted]


def detect(files: Iterable[str]) -> list[str]:
    """The kinds ``files`` (paths relative to the repository root, POSIX)
    show, in :data:`KINDS` order."""
    found: set[str] = set()
    dotenv = re.compile(next(r.path_regex for r in RULES if r.kind == "dotenv"))
    for rel in files:
        name = rel.rsplit("/", 1)[-1]
        if name.endswith(".tf") or ".tfvars" in name:
            found.add("terraform")
        if (
            name == "ansible.cfg"
            or any(part in f"/{rel}" for part in (f"/{d}" for d in _ANSIBLE_DIRS))
            or (_PLAYBOOK.search(rel) and not rel.startswith(".github/"))
        ):
            found.add("ansible")
        if dotenv.search(rel):
            found.add("dotenv")
    return [kind for kind in KINDS if kind in found]
