"""age key pairs in memory, and the text a secrets manager keeps for them.

The manager's secret (``SOPS_AGE_KEY`` by default) holds identity text as
sops reads it (one ``AGE-SECRET-KEY-1...`` per line, ``#`` lines skipped):

* normally one identity;
* while ``rekey --new-age-key`` is under way, :data:`ROTATION_MARKER`, then
  the new identity, then the old one(s): CI, which reads the whole secret,
  opens files wrapped for either, so no moment exists where it cannot
  decrypt; a rerun finds the marker and finishes with the same new key.

A :class:`KeyPair`'s repr shows the public key only.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from homelab_secrets.errors import ExitCode, UserError

ROTATION_MARKER = "# homelab-secrets rekey: rotation under way (the new key first, then the old)"
IDENTITY_PREFIX = "AGE-SECRET-KEY-1"


class KeyPair:
    """One age X25519 identity (private) and its recipient (public)."""

    __slots__ = ("_identity", "recipient")

    def __init__(self, identity: Any) -> None:
        self._identity = identity  #: a pyrage identity
        self.recipient: str = str(identity.to_public())

    @classmethod
    def generate(cls) -> KeyPair:
        import pyrage

        return cls(pyrage.x25519.Identity.generate())

    @property
    def identity(self) -> Any:
        """The pyrage identity (for decrypting)."""
        return self._identity

    def secret_text(self) -> str:
        """The ``AGE-SECRET-KEY-1...`` line: for a secrets manager, a
        keychain or sops' keys file only."""
        return str(self._identity)

    def __repr__(self) -> str:
        return f"KeyPair({self.recipient})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KeyPair) and other.recipient == self.recipient

    def __hash__(self) -> int:
        return hash(self.recipient)


def parse(text: str, where: str) -> list[KeyPair]:
    """The identities in ``text`` (sops' identity syntax), in order; errors
    name ``where`` and a line number, never the line."""
    from homelab_secrets.sops.keys import age as age_keys

    try:
        found = age_keys.parse_identities(text, where)
    except age_keys.AgeError as exc:
        raise UserError(str(exc), ExitCode.COULD_NOT_RETRIEVE_KEY) from None
    pairs = []
    for identity in found:
        if not hasattr(identity, "to_public"):  # an SSH identity: not ours to manage
            raise UserError(
                f"{where}: holds an SSH identity; homelab-secrets manages age X25519 keys only",
                ExitCode.COULD_NOT_RETRIEVE_KEY,
            )
        pairs.append(KeyPair(identity))
    return pairs


def in_rotation(text: str) -> bool:
    """Whether ``text`` is the two-key form of a rotation under way."""
    for line in text.splitlines():
        if line.strip():
            return line.strip() == ROTATION_MARKER
    return False


def single_text(pair: KeyPair) -> str:
    """What the manager keeps normally: the identity alone."""
    return pair.secret_text()


def rotation_text(new: KeyPair, old: Sequence[KeyPair]) -> str:
    """What the manager keeps while a rotation is under way."""
    return "\n".join([ROTATION_MARKER, new.secret_text(), *(p.secret_text() for p in old)])


def parse_recipient(recipient: str) -> str:
    """An ``age1...`` X25519 recipient, checked (errors quote it: it is public)."""
    from homelab_secrets.sops.keys import age as age_keys

    recipient = recipient.strip()
    if not recipient.startswith("age1"):
        raise UserError(f"{recipient!r} is not an age public key (age1...)", ExitCode.USAGE)
    try:
        age_keys.parse_recipient(recipient)
    except age_keys.AgeError as exc:
        raise UserError(str(exc), ExitCode.USAGE) from None
    return recipient


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two secret texts (a read-back check)."""
    return hmac.compare_digest(
        hashlib.sha256(a.encode()).digest(), hashlib.sha256(b.encode()).digest()
    )


def loader(pairs: Sequence[KeyPair], environ: Mapping[str, str] | None = None) -> Callable[[], Any]:
    """An identity loader for the SOPS engine: ``pairs`` first, then (with
    ``environ``) every identity sops would find there, loaded on first use."""
    from homelab_secrets.sops.keys import age as age_keys

    cache: list[age_keys.Identities] = []

    def load() -> age_keys.Identities:
        if not cache:
            found = age_keys.Identities()
            found.identities.extend(p.identity for p in pairs)
            if environ is not None:
                extra = age_keys.load_identities(environ)
                found.identities.extend(extra.identities)
                found.errors.extend(extra.errors)
                found.unused_locations.extend(extra.unused_locations)
            cache.append(found)
        return cache[0]

    return load
