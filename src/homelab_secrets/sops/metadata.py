"""The ``sops`` section: typed, validated like sops, and written in sops' order.

Stores hand us the raw section as plain data (see :mod:`.stores`); we give
them back a :class:`~homelab_secrets.sops.model.Branch` in the field order of
sops 3.11's ``stores.Metadata`` struct, ``omitempty`` applied, Go nil slices
as :class:`~homelab_secrets.sops.model.NilList`.

Key types other than age (pgp, kms, gcp_kms, azure_kv, hc_vault, hckms) are
kept verbatim so that a file we rewrite without re-keying still opens with
them; we cannot use them to recover or wrap a data key.
"""

from __future__ import annotations

import time

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.sops.cipher import format_time
from homelab_secrets.sops.model import Branch, GoTime, NilList
from homelab_secrets.sops.tree import RULE_NAMES, Rules

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any

#: What we write as ``version`` (the format is that of sops 3.11).
SOPS_VERSION = "3.11.0"

#: Field order of each non-age key type (sops' stores structs), and which
#: fields are ``omitempty``.
OTHER_KEY_FIELDS: dict[str, tuple[tuple[str, bool], ...]] = {
    "pgp": (("created_at", False), ("enc", False), ("fp", False)),
    "kms": (
        ("arn", False),
        ("role", True),
        ("context", True),
        ("created_at", False),
        ("enc", False),
        ("aws_profile", False),
    ),
    "gcp_kms": (("resource_id", False), ("created_at", False), ("enc", False)),
    "hckms": (("key_id", False), ("created_at", False), ("enc", False)),
    "azure_kv": (
        ("vault_url", False),
        ("name", False),
        ("version", False),
        ("created_at", False),
        ("enc", False),
    ),
    "hc_vault": (
        ("vault_address", False),
        ("engine_path", False),
        ("key_name", False),
        ("created_at", False),
        ("enc", False),
    ),
}
#: Order of the flat key lists in the sops section (pgp comes after mac).
TOP_LEVEL_KEY_TYPES = ("kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age")
#: Order of key lists inside a key group, and those written even when empty.
GROUP_KEY_TYPES = ("pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "age")
GROUP_ALWAYS_WRITTEN = ("hc_vault", "age")
ALL_KEY_TYPES = ("age", "pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault")

# Compiled when first needed: the forms sops writes are checked by hand
# (importing ``re`` costs start-up time; decrypt races the Go binary).
_PATTERNS = {
    "rfc3339": (
        r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
    ),
    "semver": (
        r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
    ),
    "int": r"[+-]?\d+",
}
_COMPILED: dict[str, Any] = {}


def _pattern(name: str) -> Any:
    compiled = _COMPILED.get(name)
    if compiled is None:
        import re

        compiled = _COMPILED[name] = re.compile(_PATTERNS[name])
    return compiled


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _semver_parts(v: str) -> tuple[str, str, str, str] | None:
    """Major, minor, patch and what follows (``-pre``/``+build``), when ``v``
    is a semantic version; a plain ``X.Y.Z`` (what sops writes) by hand."""
    parts = v.split(".")
    if len(parts) == 3 and all(_ascii_digits(n) and (n == "0" or n[0] != "0") for n in parts):
        return parts[0], parts[1], parts[2], ""
    m = _pattern("semver").match(v)
    if m is None:
        return None
    return m[1], m[2], m[3], v[m.end(3) :]


class MetadataError(UserError):
    def __init__(self, message: str, exit_code: int = ExitCode.ERROR_GENERIC) -> None:
        super().__init__(message, exit_code)


class AgeKey:
    __slots__ = ("enc", "recipient")

    def __init__(self, recipient: str, enc: str = "") -> None:
        self.recipient = recipient
        self.enc = enc

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AgeKey) and (other.recipient, other.enc) == (
            self.recipient,
            self.enc,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"AgeKey({self.recipient!r})"


class OtherKey:
    """A master key of a type we preserve but cannot use."""

    __slots__ = ("fields", "type")

    def __init__(self, type: str, fields: dict[str, Any]) -> None:
        self.type = type
        self.fields = fields

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OtherKey) and (other.type, other.fields) == (
            self.type,
            self.fields,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    @property
    def name(self) -> str:
        f = self.fields
        for attr in ("fp", "arn", "resource_id", "key_id", "vault_url", "vault_address"):
            if f.get(attr):
                return str(f[attr])
        return self.type

    def __repr__(self) -> str:
        return f"OtherKey({self.type!r}, {self.name!r})"


MasterKey = AgeKey | OtherKey


def key_type(key: MasterKey) -> str:
    return "age" if isinstance(key, AgeKey) else key.type


def rfc3339_seconds(text: str) -> str:
    """Parse RFC 3339 (Go's ``time.Parse(time.RFC3339, …)``) and format it back
    at seconds precision, ``Z`` for a zero offset: the MAC's AAD."""
    if (
        len(text) == 20  # the form sops writes: 2006-01-02T15:04:05Z
        and text[4] == text[7] == "-"
        and text[10] in "Tt"
        and text[13] == text[16] == ":"
        and text[19] in "Zz"
        and _ascii_digits(
            text[:4] + text[5:7] + text[8:10] + text[11:13] + text[14:16] + text[17:19]
        )
    ):
        return format_time(f"{text[:10]}T{text[11:19]}", "", text[19])
    m = _pattern("rfc3339").match(text)
    if m is None:
        raise ValueError("not RFC 3339")
    y, mo, d, h, mi, s, _frac, zone = m.groups()
    return format_time(f"{y}-{mo}-{d}T{h}:{mi}:{s}", "", zone)


def now_rfc3339() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Metadata:
    """sops' internal metadata (key groups, rules, MAC, times)."""

    __slots__ = ("key_groups", "lastmodified", "mac", "rules", "shamir_threshold", "version")

    def __init__(
        self,
        key_groups: list[list[MasterKey]] | None = None,
        shamir_threshold: int = 0,
        lastmodified: str = "",
        mac: str = "",
        rules: Rules | None = None,
        version: str = SOPS_VERSION,
    ) -> None:
        self.key_groups: list[list[MasterKey]] = key_groups if key_groups is not None else []
        self.shamir_threshold = shamir_threshold
        self.lastmodified = lastmodified
        self.mac = mac
        self.rules = rules if rules is not None else Rules()
        self.version = version

    def __repr__(self) -> str:
        return (
            f"Metadata(groups={[[repr(k) for k in g] for g in self.key_groups]}, "
            f"shamir_threshold={self.shamir_threshold})"
        )

    # ------------------------------------------------------------ reading
    @classmethod
    def from_raw(cls, raw: Any) -> Metadata:
        """Validate and type the raw ``sops`` section, as sops' ``ToInternal`` does."""
        if not isinstance(raw, dict):
            raise MetadataError(
                "Error unmarshalling the sops metadata: the 'sops' entry is not a mapping"
            )
        version = _text(raw.get("version"))
        if not version:
            raise MetadataError("Version string empty")
        check_version(version)
        lastmodified = _text(raw.get("lastmodified"))
        try:
            lastmodified = rfc3339_seconds(lastmodified)
        except ValueError:
            raise MetadataError(
                "the sops metadata's 'lastmodified' is missing or not an RFC 3339 time"
            ) from None
        values = {name: _text(raw.get(name)) for name in RULE_NAMES}
        count = sum(1 for v in values.values() if v)
        if count > 1:
            raise MetadataError(
                "Cannot use more than one of encrypted_suffix, unencrypted_suffix, "
                "encrypted_regex, unencrypted_regex, encrypted_comment_regex, or "
                "unencrypted_comment_regex in the same file"
            )
        mac_only = _bool(raw.get("mac_only_encrypted"))
        rules = Rules(mac_only_encrypted=mac_only, **values).effective()
        groups = _key_groups(raw)
        threshold = _int(raw.get("shamir_threshold"), "shamir_threshold")
        return cls(
            key_groups=groups,
            shamir_threshold=threshold,
            lastmodified=lastmodified,
            mac=_text(raw.get("mac")),
            rules=rules,
            version=version,
        )

    # ------------------------------------------------------------ writing
    def to_branch(self) -> Branch:
        out = Branch()
        groups = self.key_groups
        if len(groups) > 1:
            if self.shamir_threshold:
                out.append(("shamir_threshold", self.shamir_threshold))
            out.append(("key_groups", [_group_branch(g) for g in groups]))
        flat = groups[0] if len(groups) == 1 else []
        for ktype in TOP_LEVEL_KEY_TYPES:
            entries = [_key_branch(k) for k in flat if key_type(k) == ktype]
            if entries:
                out.append((ktype, entries))
        out.append(("lastmodified", self.lastmodified))
        out.append(("mac", self.mac))
        pgp = [_key_branch(k) for k in flat if key_type(k) == "pgp"]
        if pgp:
            out.append(("pgp", pgp))
        for name in RULE_NAMES:
            value = getattr(self.rules, name)
            if value:
                out.append((name, value))
        if self.rules.mac_only_encrypted:
            out.append(("mac_only_encrypted", True))
        out.append(("version", self.version))
        return out

    # ------------------------------------------------------------ helpers
    def age_keys(self) -> list[AgeKey]:
        return [k for g in self.key_groups for k in g if isinstance(k, AgeKey)]

    def key_types(self) -> list[str]:
        seen: list[str] = []
        for g in self.key_groups:
            for k in g:
                t = key_type(k)
                if t not in seen:
                    seen.append(t)
        return seen


def version_key(version: str) -> tuple[int, int, int, int, str]:
    """An order on versions like blang/semver's (``A > B``): numbers, then a
    release above its pre-releases.  ``ValueError`` when not semver."""
    v = version[1:] if version.startswith("v") else version
    parts = _semver_parts(v)
    if parts is None:
        raise ValueError("not a semantic version")
    major, minor, patch, rest = parts
    pre = rest.split("+", 1)[0].lstrip("-")
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre)


def check_version(version: str) -> None:
    """sops only uses ``version`` to compare with 3.3.0 (blang/semver after
    trimming a leading ``v``); a version it cannot parse fails the file."""
    v = version[1:] if version.startswith("v") else version
    if v.startswith("1."):
        return
    if _semver_parts(v) is None:
        raise MetadataError(
            "the sops metadata's 'version' is not a Major.Minor.Patch version "
            "(No Major.Minor.Patch elements found)"
        )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, GoTime):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _bool(value: Any) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "True", "TRUE", "1", "t", "T"):
        return True
    if isinstance(value, str) and value in ("false", "False", "FALSE", "0", "f", "F"):
        return False
    raise MetadataError("the sops metadata's 'mac_only_encrypted' is not a boolean")


def _int(value: Any, name: str) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise MetadataError(f"the sops metadata's '{name}' is not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _pattern("int").fullmatch(value):
        return int(value)
    raise MetadataError(f"the sops metadata's '{name}' is not an integer")


def _entries(raw: dict[str, Any], ktype: str) -> list[dict[str, Any]]:
    value = raw.get(ktype)
    if value is None or value == "":
        return []
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise MetadataError(f"the sops metadata's '{ktype}' keys are not a list of mappings")
    return value


def _parse_group(raw: dict[str, Any]) -> list[MasterKey]:
    # sops' internal order: kms, gcp_kms, (hckms), azure_kv, hc_vault, pgp, age
    group: list[MasterKey] = []
    for ktype in ("kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "pgp"):
        for entry in _entries(raw, ktype):
            fields = {name: entry.get(name) for name, _ in OTHER_KEY_FIELDS[ktype]}
            created = _text(fields.get("created_at"))
            try:
                fields["created_at"] = rfc3339_seconds(created)
            except ValueError:
                raise MetadataError(
                    f"the sops metadata's {ktype} key has an invalid 'created_at' time"
                ) from None
            group.append(OtherKey(ktype, fields))
    for entry in _entries(raw, "age"):
        group.append(AgeKey(_text(entry.get("recipient")), _text(entry.get("enc"))))
    return group


def _key_groups(raw: dict[str, Any]) -> list[list[MasterKey]]:
    if any(_entries(raw, t) for t in ALL_KEY_TYPES):
        return [_parse_group(raw)]
    groups = raw.get("key_groups")
    if groups:
        if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
            raise MetadataError("the sops metadata's 'key_groups' is not a list of mappings")
        return [_parse_group(g) for g in groups]
    raise MetadataError("No keys found in file")


def _key_branch(key: MasterKey) -> Branch:
    if isinstance(key, AgeKey):
        return Branch([("recipient", key.recipient), ("enc", key.enc)])
    out = Branch()
    for name, omitempty in OTHER_KEY_FIELDS[key.type]:
        value = key.fields.get(name)
        if omitempty and not value:
            continue
        if name == "context" and isinstance(value, dict):
            value = Branch(sorted(value.items()))  # Go marshals maps with sorted keys
        out.append((name, "" if value is None else value))
    return out


def _group_branch(group: list[MasterKey]) -> Branch:
    out = Branch()
    for ktype in GROUP_KEY_TYPES:
        entries = [_key_branch(k) for k in group if key_type(k) == ktype]
        if entries:
            out.append((ktype, entries))
        elif ktype in GROUP_ALWAYS_WRITTEN:
            out.append((ktype, NilList()))
    return out
