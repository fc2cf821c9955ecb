"""The source's values against the target folder's, by name (pure).

Infisical stores a value trimmed (one trailing newline kept:
:func:`homelab_secrets.providers.infisical.stored_form`), so "the same" means
the target holds the stored form of the source's value.  A value the server
would change that way is **not** written unless the person accepts it
(``--accept-trimmed``): a silently different secret is worse than a missing
one.  Doppler's ``DOPPLER_*`` meta keys are never migrated.

Fingerprints are HMAC-SHA256 under a key (``HOMELAB_SECRETS_FINGERPRINT_KEY``,
else one random per run): per name to compare, and over a whole set
(``name\\0value\\0`` in name order) to print: equal fingerprints mean equal
sets, and a printed one says nothing about any value.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

META_PREFIX = "DOPPLER_"
HEX = 32


def stored_form(value: str) -> str:
    from homelab_secrets.providers.infisical import stored_form as infisical_stored_form

    return infisical_stored_form(value)


@dataclass(frozen=True)
class Diff:
    """Names only, each list in the source's order."""

    create: tuple[str, ...] = ()
    update: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    #: values Infisical would store differently (trimmed)
    trimmed: tuple[str, ...] = ()
    #: values holding ``${...}``, which Infisical expands when read with expansion
    references: tuple[str, ...] = ()
    #: names in the target folder the source does not have (left alone)
    extra: tuple[str, ...] = ()
    #: Doppler's meta keys, dropped
    meta: tuple[str, ...] = ()

    def to_write(self, accept_trimmed: bool) -> list[str]:
        held = () if accept_trimmed else self.trimmed
        return [name for name in (*self.create, *self.update) if name not in held]

    def expected(self, source: Mapping[str, str], accept_trimmed: bool) -> dict[str, str]:
        """What the target must hold once migrated: the stored form of every
        source value but the trimmed ones not accepted."""
        held = set() if accept_trimmed else set(self.trimmed)
        return {
            name: stored_form(value)
            for name, value in source.items()
            if not name.startswith(META_PREFIX) and name not in held
        }


def diff(source: Mapping[str, str], target: Mapping[str, str]) -> Diff:
    create, update, unchanged, trimmed, references, meta = [], [], [], [], [], []
    for name, value in source.items():
        if name.startswith(META_PREFIX):
            meta.append(name)
            continue
        stored = stored_form(value)
        if stored != value:
            trimmed.append(name)
        if "${" in value:
            references.append(name)
        if name not in target:
            create.append(name)
        elif target[name] != stored:
            update.append(name)
        else:
            unchanged.append(name)
    extra = [name for name in target if name not in source]
    return Diff(
        tuple(create),
        tuple(update),
        tuple(unchanged),
        tuple(trimmed),
        tuple(references),
        tuple(extra),
        tuple(meta),
    )


def _mac(key: bytes, message: str) -> str:
    data = message.encode("utf-8", "surrogateescape")
    return hmac.new(key, data, hashlib.sha256).hexdigest()[:HEX]


def fingerprint(values: Mapping[str, str], key: bytes) -> str:
    """One fingerprint of a whole set of named values."""
    return _mac(key, "".join(f"{name}\0{values[name]}\0" for name in sorted(values)))


def mismatched(
    expected: Mapping[str, str], actual: Mapping[str, str], key: bytes, names: Iterable[str]
) -> list[str]:
    """The ``names`` whose value in ``actual`` has another fingerprint than
    in ``expected`` (missing counts as different)."""
    out = []
    for name in names:
        if name not in actual or _mac(key, expected[name]) != _mac(key, actual[name]):
            out.append(name)
    return out
