"""Fingerprints: an HMAC of what was found, never the value itself.

A finding's fingerprint identifies *what* was found, not *where*: moving a
line, or the file, keeps it, so a baseline (:mod:`.baseline`) or an ``allow``
entry of the config keeps matching, and a report can be shared without the
value.

* A pattern finding (a token, a password): ``HMAC-SHA256(key, "value\\0" + value)``.
* A policy finding has no value to show: ``HMAC(key, rule + file [+ key path])``,
  so a known unencrypted file stays known until it moves.

Printed as the first 32 hex digits (128 bits).

Where the key comes from
------------------------
``HOMELAB_SECRETS_FINGERPRINT_KEY`` when set (read at the command line's edge,
:func:`key_from_environment`), else :data:`DEFAULT_KEY`, a public constant.

With the public key a fingerprint is a salted hash: it reveals nothing
about a strong secret, but a *weak* password can be guessed offline from it
by whoever has the report or the baseline.  That is no worse than the
repository itself for a finding that is still in it; to keep fingerprints
unguessable (say, a baseline that outlives a leaked password removed from
history), set ``HOMELAB_SECRETS_FINGERPRINT_KEY`` to a secret in CI and on
developer machines alike: fingerprints made under one key never match under
another.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping

#: The key when none is configured (public: see the module docstring).
DEFAULT_KEY = b"homelab-secrets/scan/fingerprint/v1"
KEY_ENV = "HOMELAB_SECRETS_FINGERPRINT_KEY"
HEX_CHARS = 32


def key_from_environment(environ: Mapping[str, str] | None = None) -> bytes:
    env = os.environ if environ is None else environ
    configured = env.get(KEY_ENV, "")
    return configured.encode("utf-8") if configured else DEFAULT_KEY


def _digest(key: bytes, message: str) -> str:
    mac = hmac.new(key, message.encode("utf-8", "surrogateescape"), hashlib.sha256)
    return mac.hexdigest()[:HEX_CHARS]


def of_value(value: str, key: bytes = DEFAULT_KEY) -> str:
    """The fingerprint of a secret value (surrounding whitespace ignored)."""
    return _digest(key, "value\0" + value.strip())


def of_policy(rule: str, file: str, key_path: str = "", key: bytes = DEFAULT_KEY) -> str:
    """The fingerprint of a policy finding: rule, file and (for a value) its key path."""
    return _digest(key, f"policy\0{rule}\0{file}\0{key_path}")
