"""GitHub tokens.

Classic-format tokens (``ghp_`` personal, ``gho_`` OAuth, ``ghu_``
user-to-server, ``ghs_`` server-to-server, ``ghr_`` refresh) are the prefix,
30 random base62 characters and a 6-character checksum: the CRC32 of the 30
random characters, base62-encoded (``0-9A-Za-z``) and left-padded with
``0``.  A string of the right shape whose checksum does not match (a
documentation example, a made-up test value) is not reported.

Fine-grained tokens (``github_pat_`` + 22 + ``_`` + 59 characters) carry no
checksum we know of: reported on their shape.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable

from homelab_secrets.scan.detectors.base import Context, Detector, bounded, hits_from
from homelab_secrets.scan.model import Hit, Rule

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

CLASSIC = Rule("github-token", "token", "GitHub token (classic format, checksum verified)")
FINE_GRAINED = Rule(
    "github-fine-grained-token", "token", "GitHub fine-grained personal access token"
)

_CLASSIC_RE = bounded(r"gh[pousr]_[A-Za-z0-9]{36}")
_FINE_RE = bounded(r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}")


def base62(number: int, width: int = 6) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = BASE62[rest] + digits
    return digits.rjust(width, "0")


def checksum(random_part: str) -> str:
    """The 6 checksum characters GitHub appends to 30 random characters."""
    return base62(binascii.crc32(random_part.encode("ascii")))


def valid_classic(token: str) -> bool:
    body = token[4:]
    return len(body) == 36 and checksum(body[:30]) == body[30:]


def find(text: str, ctx: Context) -> Iterable[Hit]:
    yield from hits_from(
        _CLASSIC_RE, text, CLASSIC, check=lambda m: valid_classic(m[0]), validated=True
    )
    yield from hits_from(_FINE_RE, text, FINE_GRAINED)


DETECTOR = Detector(
    "github",
    ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    find,
    (CLASSIC, FINE_GRAINED),
)
