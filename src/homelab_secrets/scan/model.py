"""What the scanner reports: :class:`Finding` (never holds a value) and the
:class:`Hit` a detector returns before it becomes one.

Kinds group rules for people and for the corpus labels the tests measure
recall and precision against:

=================  ==========================================================
kind               rules
=================  ==========================================================
``password``       human-chosen passwords and passphrases in any syntax
``token``          provider tokens (GitHub, Doppler, Tailscale, Vault, ...)
``generic``        high-entropy values under secret-looking key names
``private-key``    PEM / OpenSSH / PuTTY / PGP private keys, WireGuard keys
``age-key``        age secret keys (``AGE-SECRET-KEY-1...``)
``cloud``          AWS access keys
``policy``         ``.sops.yaml`` policy: a file or value that must be encrypted
``forbidden``      a file that must never be committed
=================  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Confidence = Literal["high", "medium", "low"]

#: The at most this many first characters of a value a report may show.
PREFIX_CHARS = 4


def value_prefix(value: str) -> str:
    """What a report may show of ``value``: at most :data:`PREFIX_CHARS`
    characters, and at most a quarter of it (a short password shows less)."""
    shown = value[: min(PREFIX_CHARS, len(value) // 4)]
    return "".join(c if c.isprintable() else "?" for c in shown)


@dataclass(frozen=True, repr=False)
class Hit:
    """A detector's match inside the text it was given (offsets are character
    offsets in that text).  ``value`` is the secret itself: it is used for the
    fingerprint and then dropped; it is never printed."""

    start: int
    end: int
    value: str
    rule: str
    kind: str
    title: str
    key: str | None = None
    confidence: Confidence = "high"
    validated: bool = False  #: a checksum proved the format (GitHub CRC32, bech32)
    priority: int = 10  #: on overlapping hits the higher one wins (generic rules: 1)

    def __repr__(self) -> str:
        return f"Hit({self.rule!r}, {self.start}-{self.end}, value=<{len(self.value)} chars>)"


@dataclass(frozen=True, order=True)
class Finding:
    """One reported secret or policy violation.  No field holds a value:
    ``value_prefix`` shows at most its first 4 characters (see
    :func:`value_prefix`) and ``fingerprint`` is an HMAC (see
    :mod:`homelab_secrets.scan.fingerprint`)."""

    file: str  #: path relative to the scan root, with ``/``
    line: int  #: 1-based; 1 for a file-level finding
    column: int  #: 1-based, in characters
    rule: str
    kind: str = field(compare=False)
    title: str = field(compare=False)
    fingerprint: str = field(compare=False)
    end_column: int = field(default=0, compare=False)
    value_prefix: str = field(default="", compare=False)
    key: str | None = field(default=None, compare=False)
    confidence: Confidence = field(default="high", compare=False)
    validated: bool = field(default=False, compare=False)

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_column": self.end_column,
            "rule": self.rule,
            "kind": self.kind,
            "title": self.title,
            "key": self.key,
            "fingerprint": self.fingerprint,
            "value_prefix": self.value_prefix,
            "confidence": self.confidence,
            "validated": self.validated,
        }

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Rule:
    """A rule id with its kind and a one-line description (for SARIF and docs)."""

    id: str
    kind: str
    title: str
