"""The one path from a file's bytes to output bytes, for decrypt and encrypt.

Every caller goes through here: the sops-compatible ``decrypt`` / ``encrypt``
commands and the job layer (``sops-decrypt``, ``sops-encrypt``, the all-in-one
action).  So what sops decides from ``.sops.yaml`` (``stores:`` indentation,
the creation rule's keys and encryption rules, the Shamir threshold) is
decided once, the same way for everyone.  Like sops' ``decrypt/decrypt.go``:
bytes, formats, a config and keys in; bytes out; no files, no terminal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from homelab_secrets.errors import ExitCode, UserError

if TYPE_CHECKING:
    from homelab_secrets.sops.config import SopsConfig
    from homelab_secrets.sops.engine import IdentityLoader
    from homelab_secrets.sops.extract import PathComponent
    from homelab_secrets.sops.metadata import MasterKey
    from homelab_secrets.sops.model import Branch
    from homelab_secrets.sops.tree import Rules


@dataclass(repr=False)
class Plain:
    """A decrypted file: its tree, the bytes ``sops decrypt`` prints for it,
    and (when asked for) every value that was encrypted."""

    branches: list[Branch]
    plaintext: bytes
    #: (key path, value) of every encrypted value, when ``collect_secrets``
    secrets: list[tuple[tuple[str, ...], Any]] = field(default_factory=list)
    #: key paths of comments that looked encrypted but were not
    plain_comments: list[tuple[str, ...]] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Plain(<{len(self.plaintext)} bytes>)"


def decrypt(
    data: bytes,
    *,
    in_fmt: str,
    out_fmt: str,
    config: SopsConfig | None,
    identities: IdentityLoader,
    ignore_mac: bool = False,
    extract: list[PathComponent] | None = None,
    collect_secrets: bool = False,
) -> Plain:
    """Decrypt ``data`` (``in_fmt``) and render it as ``out_fmt`` with the
    store options ``config`` sets (``stores: {yaml: {indent: 2}}``)."""
    from homelab_secrets.sops import engine
    from homelab_secrets.sops.config import store_options
    from homelab_secrets.sops.stores import get_store

    result = engine.decrypt(
        data, in_fmt, identities, ignore_mac=ignore_mac, collect_secrets=collect_secrets
    )
    store = get_store(out_fmt, **store_options(out_fmt, config))
    if extract is not None:
        from homelab_secrets.sops.extract import extract as extract_path

        plaintext = extract_path(result.branches, extract, store)
    else:
        plaintext = store.emit_plain(result.branches)
    return Plain(result.branches, plaintext, result.secrets, result.plain_comments)


@dataclass(frozen=True)
class Encryption:
    """How a file is to be encrypted: keys, rules, Shamir threshold."""

    key_groups: list[list[MasterKey]]
    rules: Rules
    shamir_threshold: int = 0


_CONFLICT = (
    "cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, "
    "unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the same file"
)


def plan_encryption(
    config: SopsConfig | None,
    rule_path: str,
    *,
    age: Sequence[str] = (),
    cli_rules: Mapping[str, str] | None = None,
    mac_only_encrypted: bool = False,
    shamir_threshold: int | None = None,
) -> Encryption:
    """sops' choice of keys and rules for the file at ``rule_path``: ``age``
    recipients if given, else the matching creation rule's key groups; rule
    flags from the command line, each completed by the creation rule's (more
    than one in all is exit 8, as with sops)."""
    from homelab_secrets.sops.metadata import AgeKey
    from homelab_secrets.sops.tree import RULE_NAMES, Rules

    rule = config.rule_for(rule_path) if config else None
    if age:
        key_groups: list[list[MasterKey]] = [[AgeKey(r.strip()) for r in age]]
    elif rule is not None:
        key_groups = rule.key_groups
    else:
        raise UserError(
            "config file not found, or has no creation rules, and no keys provided through "
            "command line options (give age recipients with --age / the age-recipients "
            "input, or add a .sops.yaml creation rule for it)",
            ExitCode.ERROR_GENERIC,
        )
    given = {name: (cli_rules or {}).get(name) or "" for name in RULE_NAMES}
    if sum(1 for v in given.values() if v) > 1:
        raise UserError(_CONFLICT, ExitCode.CONFLICTING_RULE_FLAGS)
    merged = dict(given)
    if rule is not None:
        for name in RULE_NAMES:
            if not merged[name]:
                merged[name] = getattr(rule.rules, name)
    if sum(1 for v in merged.values() if v) > 1:
        raise UserError(
            _CONFLICT + " (the command line and the .sops.yaml rule together)",
            ExitCode.CONFLICTING_RULE_FLAGS,
        )
    mac_only = mac_only_encrypted or bool(rule and rule.rules.mac_only_encrypted)
    if shamir_threshold is None:
        shamir_threshold = rule.shamir_threshold if rule is not None else 0
    return Encryption(key_groups, Rules(mac_only_encrypted=mac_only, **merged), shamir_threshold)


def encrypt(
    data: bytes,
    *,
    in_fmt: str,
    out_fmt: str,
    plan: Encryption,
    config: SopsConfig | None,
    indent: int | None = None,
) -> bytes:
    """Encrypt plaintext ``data`` with a new data key; refuses a file that is
    already encrypted (exit 203, like sops)."""
    from homelab_secrets.sops import engine
    from homelab_secrets.sops.config import store_options
    from homelab_secrets.sops.stores import get_store

    in_store = get_store(in_fmt)
    branches = in_store.load_plain(data)
    if branches and in_store.has_sops_top_level_key(branches[0]):
        raise UserError(
            "the file has a top-level entry called 'sops' (or, for flat file formats, "
            "entries starting with 'sops_'): it is probably already encrypted; decrypt it first",
            ExitCode.FILE_ALREADY_ENCRYPTED,
        )
    metadata = engine.encrypt(
        branches,
        plan.key_groups,
        rules=plan.rules,
        shamir_threshold=plan.shamir_threshold,
        binary=in_fmt == "binary",
    )
    out_store = get_store(out_fmt, **store_options(out_fmt, config, indent))
    return out_store.emit_encrypted(branches, metadata.to_branch())
