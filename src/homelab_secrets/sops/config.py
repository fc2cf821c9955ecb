"""``.sops.yaml``: found and applied the way sops does (``config/config.go``).

* Looked up from the **current working directory** upwards (100 levels), not
  from the file's directory; ``.sops.yml`` is ignored with a warning;
  ``--config PATH`` overrides the lookup.  No file, or a file without
  ``creation_rules``, means "no config" (not an error).
* The path matched against ``path_regex`` is the file's absolute path made
  relative to the config's directory when it lies under it.  Rules are tried
  in order with an unanchored search; the first match wins; an empty
  ``path_regex`` matches everything; no match is an error.
* ``age`` is a comma-separated string (entries trimmed, empties skipped) or a
  list; ``key_groups`` (with ``merge``) override the flat keys; keys in a group
  are de-duplicated; ``shamir_threshold``; at most one encryption rule.
"""

from __future__ import annotations

import os

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.sops.metadata import AgeKey, MasterKey, OtherKey
from homelab_secrets.sops.model import Branch, Comment
from homelab_secrets.sops.tree import RULE_NAMES, Rules

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any

CONFIG_NAME = ".sops.yaml"
ALTERNATE_NAME = ".sops.yml"
MAX_DEPTH = 100


class ConfigError(UserError):
    def __init__(self, message: str, exit_code: int = ExitCode.ERROR_GENERIC) -> None:
        super().__init__(message, exit_code)


class CreationRule:
    """The keys and options a matching creation rule gives a file."""

    __slots__ = ("index", "key_groups", "path_regex", "rules", "shamir_threshold")

    def __init__(
        self,
        key_groups: list[list[MasterKey]],
        shamir_threshold: int = 0,
        rules: Rules | None = None,
        path_regex: str = "",
        index: int = 0,
    ) -> None:
        self.key_groups = key_groups
        self.shamir_threshold = shamir_threshold
        self.rules = rules if rules is not None else Rules()
        self.path_regex = path_regex
        self.index = index

    def __repr__(self) -> str:
        return f"CreationRule(index={self.index}, path_regex={self.path_regex!r})"


class SopsConfig:
    """A loaded ``.sops.yaml``."""

    __slots__ = ("creation_rules", "json_binary_indent", "json_indent", "path", "yaml_indent")

    def __init__(self, path: str, creation_rules: list[dict[str, Any]] | None) -> None:
        self.path = path
        self.creation_rules = creation_rules
        self.yaml_indent = 4
        self.json_indent = -1
        self.json_binary_indent = -1

    def __repr__(self) -> str:
        return f"SopsConfig({self.path!r})"

    def rule_for(self, file_path: str) -> CreationRule | None:
        """The creation rule for ``file_path`` (None when the file has no rules)."""
        if self.creation_rules is None:
            return None
        config_dir = os.path.dirname(os.path.abspath(self.path))
        target = os.path.abspath(file_path)
        prefix = config_dir.rstrip(os.sep) + os.sep
        if target.startswith(prefix):
            target = target[len(prefix) :]
        for index, raw in enumerate(self.creation_rules):
            pattern = _string(raw.get("path_regex"), "path_regex")
            if pattern:
                import re  # (start-up time: only a rule with a path_regex needs it)

                try:
                    compiled = re.compile(pattern)
                except re.error as exc:
                    raise ConfigError(
                        f"{self.path}: creation rule {index}: can not compile path_regex "
                        f"{pattern!r}: {exc.msg}"
                    ) from None
                if not compiled.search(target):
                    continue
            return _creation_rule(raw, index, self.path)
        raise ConfigError(
            f"error loading config: no matching creation rules found in {self.path} for {file_path}"
        )


def find_config(start: str | None = None) -> tuple[str | None, str | None]:
    """``(path, warning)``: the ``.sops.yaml`` sops would use from ``start`` (cwd)."""
    here = os.path.abspath(start or os.getcwd())
    alternate: str | None = None
    for _ in range(MAX_DEPTH):
        candidate = os.path.join(here, CONFIG_NAME)
        if os.path.isfile(candidate):
            warning = None
            if alternate:
                warning = (
                    f"ignoring {alternate!r} when searching for config file; the config file "
                    f"must be called {CONFIG_NAME!r}; using {candidate!r} instead"
                )
            return candidate, warning
        if alternate is None and os.path.isfile(os.path.join(here, ALTERNATE_NAME)):
            alternate = os.path.join(here, ALTERNATE_NAME)
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    warning = None
    if alternate:
        warning = (
            f"ignoring {alternate!r} when searching for config file; the config file must be "
            f"called {CONFIG_NAME!r}"
        )
    return None, warning


def _plain(value: Any) -> Any:
    """A Branch tree as plain dict/list (comments dropped)."""
    if isinstance(value, Branch):
        return {k: _plain(v) for k, v in value if not isinstance(k, Comment)}
    if isinstance(value, list):
        return [_plain(v) for v in value if not isinstance(v, Comment)]
    return value


def load_config(path: str) -> SopsConfig:
    from homelab_secrets.sops.stores import StoreError, get_store

    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise ConfigError(f"could not read config file {path}: {exc.strerror}") from None
    try:
        branches = get_store("yaml").load_plain(data) if data.strip() else [Branch()]
    except StoreError as exc:
        raise ConfigError(f"error loading config {path}: {exc.message}") from None
    doc = _plain(branches[0]) if branches else {}
    rules = doc.get("creation_rules")
    if rules is not None and (
        not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules)
    ):
        raise ConfigError(f"error loading config {path}: creation_rules must be a list of rules")
    stores = doc.get("stores") or {}
    config = SopsConfig(path=path, creation_rules=rules)
    if isinstance(stores, dict):
        config.yaml_indent = _indent(stores, "yaml", 4, path)
        config.json_indent = _indent(stores, "json", -1, path)
        config.json_binary_indent = _indent(stores, "json_binary", -1, path)
    return config


def _indent(stores: dict[str, Any], name: str, default: int, path: str) -> int:
    section = stores.get(name)
    if not isinstance(section, dict) or section.get("indent") is None:
        return default
    value = section["indent"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"error loading config {path}: stores.{name}.indent must be an integer")
    return value


def _string(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise ConfigError(f"invalid {name} in creation rule: expected a string")


def _key_list(value: Any, name: str) -> list[str]:
    """``string or []string`` (sops' parseKeyField): CSV entries trimmed, empties skipped."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [k.strip() for k in value.split(",") if k.strip()]
    if isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            raise ConfigError(f"invalid {name} key configuration: expected string in list")
        return list(value)
    raise ConfigError(f"invalid {name} key configuration: expected string, []string, or nil")


def _age_keys(recipients: list[str]) -> list[MasterKey]:
    return [AgeKey(r.strip()) for r in recipients]


def _other(ktype: str, fields: dict[str, Any]) -> OtherKey:
    return OtherKey(ktype, fields)


def _flat_group(raw: dict[str, Any]) -> list[MasterKey]:
    group: list[MasterKey] = _age_keys(_key_list(raw.get("age"), "age"))
    group += [_other("pgp", {"fp": fp}) for fp in _key_list(raw.get("pgp"), "pgp")]
    group += [
        _other("kms", {"arn": arn, "aws_profile": raw.get("aws_profile") or ""})
        for arn in _key_list(raw.get("kms"), "kms")
    ]
    group += [
        _other("gcp_kms", {"resource_id": r}) for r in _key_list(raw.get("gcp_kms"), "gcp_kms")
    ]
    group += [_other("hckms", {"key_id": k}) for k in _key_list(raw.get("hckms"), "hckms")]
    group += [
        _other("azure_kv", {"vault_url": u})
        for u in _key_list(raw.get("azure_keyvault"), "azure_keyvault")
    ]
    group += [
        _other("hc_vault", {"vault_address": u})
        for u in _key_list(raw.get("hc_vault_transit_uri"), "hc_vault_transit_uri")
    ]
    return group


def _group(raw: Any) -> list[MasterKey]:
    if not isinstance(raw, dict):
        raise ConfigError("invalid key_groups: each group must be a mapping")
    group: list[MasterKey] = []
    for sub in raw.get("merge") or []:
        group += _group(sub)
    for item in raw.get("age") or []:
        if not isinstance(item, str):
            raise ConfigError("invalid age key configuration in key_groups: expected strings")
        group += _age_keys(item.split(","))
    group += [_other("pgp", {"fp": fp}) for fp in raw.get("pgp") or []]
    for kms in raw.get("kms") or []:
        group.append(_other("kms", dict(kms) if isinstance(kms, dict) else {"arn": kms}))
    group += [_other("gcp_kms", dict(k)) for k in raw.get("gcp_kms") or [] if isinstance(k, dict)]
    group += [_other("hckms", dict(k)) for k in raw.get("hckms") or [] if isinstance(k, dict)]
    group += [
        _other("azure_kv", dict(k)) for k in raw.get("azure_keyvault") or [] if isinstance(k, dict)
    ]
    group += [_other("hc_vault", {"vault_address": u}) for u in raw.get("hc_vault") or []]
    return _dedupe(group)


def _identity(key: MasterKey) -> tuple[str, str]:
    if isinstance(key, AgeKey):
        return ("age", key.recipient)
    return (key.type, repr(sorted((k, str(v)) for k, v in key.fields.items())))


def _dedupe(group: list[MasterKey]) -> list[MasterKey]:
    seen: set[tuple[str, str]] = set()
    out: list[MasterKey] = []
    for key in group:
        ident = _identity(key)
        if ident not in seen:
            seen.add(ident)
            out.append(key)
    return out


def _creation_rule(raw: dict[str, Any], index: int, path: str) -> CreationRule:
    values = {name: _string(raw.get(name), name) for name in RULE_NAMES}
    if sum(1 for v in values.values() if v) > 1:
        raise ConfigError(
            "error loading config: cannot use more than one of encrypted_suffix, "
            "unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, "
            f"or unencrypted_comment_regex for the same rule ({path}, creation rule {index})"
        )
    groups_raw = raw.get("key_groups")
    if groups_raw:
        if not isinstance(groups_raw, list):
            raise ConfigError(f"{path}: creation rule {index}: key_groups must be a list")
        groups = [_group(g) for g in groups_raw]
    else:
        groups = [_flat_group(raw)]
    threshold = raw.get("shamir_threshold") or 0
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        raise ConfigError(f"{path}: creation rule {index}: shamir_threshold must be an integer")
    mac_only = raw.get("mac_only_encrypted") or False
    if not isinstance(mac_only, bool):
        raise ConfigError(f"{path}: creation rule {index}: mac_only_encrypted must be a boolean")
    return CreationRule(
        key_groups=groups,
        shamir_threshold=threshold,
        rules=Rules(mac_only_encrypted=mac_only, **values),
        path_regex=_string(raw.get("path_regex"), "path_regex"),
        index=index,
    )


def store_options(fmt: str, config: SopsConfig | None, indent: int | None = None) -> dict[str, Any]:
    """Options for :func:`~homelab_secrets.sops.stores.get_store`: ``indent``
    from the command line, else ``.sops.yaml``'s ``stores`` section, else
    sops' defaults (YAML 4, JSON a tab)."""
    if fmt == "yaml":
        return {"indent": indent if indent is not None else (config.yaml_indent if config else 4)}
    if fmt in ("json", "binary"):
        if indent is not None:
            return {"indent": indent}
        if config is None:
            return {"indent": -1}
        return {"indent": config.json_indent if fmt == "json" else config.json_binary_indent}
    return {}
