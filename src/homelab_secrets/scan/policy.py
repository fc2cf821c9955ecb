"""Policy: files that must be encrypted, values that must be, files that
must never be committed.

* ``sops-unencrypted-file``: a file that must be a SOPS file is not one.
  A file must be one when the first ``creation_rules`` entry of its
  ``.sops.yaml`` that matches it has a ``path_regex`` (sops' own matching,
  :meth:`homelab_secrets.sops.config.SopsConfig.rule_for`, against the
  nearest ``.sops.yaml`` in the file's folder or above, up to the scan
  root); or when it is named ``*.sops.*``.  A ``*.enc.*`` file must be
  encrypted (SOPS, Ansible Vault, age or PGP).  A rule without
  ``path_regex`` only chooses keys for whatever sops is asked to encrypt: it
  does not make every file of the repository a secret.
* ``sops-unencrypted-value``: in a SOPS file, a value its own rules say is
  encrypted is in clear (:mod:`.sopsfile`), e.g. a new ``admin_password``
  typed into a file encrypted with ``encrypted_regex: _password$``.
* ``forbidden-file``: Terraform state (``*.tfstate``, ``*.tfstate.backup``),
  Terraform CLI credentials (``credentials.tfrc.json``), Ansible Vault
  password files (``.vault_pass``...), age identity files (``keys.txt``
  holding ``AGE-SECRET-KEY-``), git credential stores, PKCS#12 key stores,
  and kubeconfig files that carry credentials.

``.sops.yaml`` itself is never a finding.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from homelab_secrets.scan import sopsfile
from homelab_secrets.scan.model import Rule

if TYPE_CHECKING:
    from homelab_secrets.scan.classify import Structure
    from homelab_secrets.sops.config import SopsConfig

UNENCRYPTED_FILE = Rule(
    "sops-unencrypted-file", "policy", "File that must be SOPS-encrypted is in clear"
)
UNENCRYPTED_VALUE = Rule(
    "sops-unencrypted-value", "policy", "Value that must be encrypted is in clear in a SOPS file"
)
FORBIDDEN = Rule("forbidden-file", "forbidden", "File that must never be committed")
RULES = (UNENCRYPTED_FILE, UNENCRYPTED_VALUE, FORBIDDEN)
CONFIG_NAME = ".sops.yaml"

_TFSTATE = re.compile(r"\.tfstate(?:\.[\w.-]*)?$|^terraform\.tfstate")
_VAULT_PASS = re.compile(r"^\.?(?:ansible[-_.])?vault[-_.]?pass(?:word)?(?:\.txt)?$")
_KUBECONFIG_NAME = re.compile(r"(?:^|[._-])kubeconfig(?:[._-][\w.-]*)?$|^kubeconfig")
_KUBE_CREDENTIALS = re.compile(
    rb"^\s*(?:client-key-data|token|password):[ \t]*(?P<v>[^\n]*)$", re.M
)


def _kube_credentials(data: bytes) -> bool:
    for m in _KUBE_CREDENTIALS.finditer(data):
        value = m["v"].strip().strip(b"\"'")
        if value and not value.startswith((b"${", b"{{", b"<")):
            return True
    return False


@dataclass(frozen=True)
class PolicyHit:
    rule: Rule
    line: int
    title: str
    key_path: str = ""


def forbidden_reason(path: str, data: bytes) -> str | None:
    """Why ``path`` must never be committed, or None."""
    name = path.rsplit("/", 1)[-1].lower()
    if _TFSTATE.search(name):
        return "Terraform state holds every secret of the resources it manages, in clear"
    if name == "credentials.tfrc.json":
        return "Terraform CLI credentials file (API tokens)"
    if _VAULT_PASS.match(name):
        return "Ansible Vault password file"
    if name == ".git-credentials":
        return "git credential store (tokens in clear)"
    if name.endswith((".p12", ".pfx")):
        return "PKCS#12 key store (holds a private key)"
    if name == "keys.txt" and (b"AGE-SECRET-KEY-" in data or path.endswith("sops/age/keys.txt")):
        return "age identity file (SOPS age keys)"
    is_kube = _KUBECONFIG_NAME.search(name) or path.endswith(".kube/config")
    kube_shaped = b"kind: Config" in data and b"users:" in data and b"clusters:" in data
    if (is_kube or kube_shaped) and _kube_credentials(data):
        return "kubeconfig with credentials (client key, token or password)"
    return None


def _convention(name: str) -> str | None:
    """``sops`` / ``enc`` when the file name says it is encrypted."""
    parts = name.lower().split(".")
    middle = set(parts[1:-1]) if len(parts) > 2 else set()
    if "sops" in middle:
        return "sops"
    if "enc" in middle:
        return "enc"
    return None


@dataclass
class Policy:
    """The ``.sops.yaml`` files of a tree: ``configs`` maps a folder
    (relative to ``root``, ``""`` for the root) to its loaded config."""

    root: str
    configs: Mapping[str, SopsConfig] = field(default_factory=dict)

    @classmethod
    def load(cls, root: str, config_dirs: list[str]) -> Policy:
        """Read ``<root>/<dir>/.sops.yaml`` for each folder (a bad config is a
        :class:`~homelab_secrets.errors.UserError` naming it)."""
        from homelab_secrets.sops.config import load_config

        configs = {}
        for folder in config_dirs:
            path = os.path.join(root, folder, CONFIG_NAME)
            if os.path.isfile(path):
                configs[folder] = load_config(path)
        return cls(root, configs)

    def _config_for(self, path: str) -> SopsConfig | None:
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        while True:
            if folder in self.configs:
                return self.configs[folder]
            if not folder:
                return None
            folder = folder.rsplit("/", 1)[0] if "/" in folder else ""

    def required(self, path: str) -> tuple[str, str] | None:
        """``(what, why)`` when ``path`` must be encrypted: what is ``sops`` or ``any``."""
        from homelab_secrets.sops.config import ConfigError

        config = self._config_for(path)
        if config is not None:
            try:
                rule = config.rule_for(os.path.join(os.path.abspath(self.root), path))
            except ConfigError:
                rule = None
            if rule is not None and rule.path_regex:
                where = os.path.relpath(config.path, self.root)
                return "sops", f"{where} creation rule {rule.index} (path_regex) covers it"
        convention = _convention(path.rsplit("/", 1)[-1])
        if convention == "sops":
            return "sops", "it is named *.sops.*"
        if convention == "enc":
            return "any", "it is named *.enc.*"
        return None

    def check(self, path: str, data: bytes, structure: Structure) -> list[PolicyHit]:
        hits = []
        reason = forbidden_reason(path, data)
        if reason is not None:
            hits.append(PolicyHit(FORBIDDEN, 1, f"{FORBIDDEN.title}: {reason}"))
        need = self.required(path)
        if need is not None:
            what, why = need
            ok = structure.kind == "sops" if what == "sops" else structure.encrypted
            if not ok and structure.kind != "binary":
                title = f"Must be SOPS-encrypted ({why}) but has no SOPS metadata"
                hits.append(PolicyHit(UNENCRYPTED_FILE, 1, title))
        if structure.sops is not None:
            for key_path in structure.sops.clear_values:
                shown = sopsfile.describe(key_path)
                title = f"'{shown}' is in clear, but this SOPS file's rules encrypt it"
                line = sopsfile.locate(data, key_path)
                hits.append(PolicyHit(UNENCRYPTED_VALUE, line, title, shown))
        return hits
