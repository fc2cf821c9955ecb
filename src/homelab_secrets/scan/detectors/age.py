"""age secret keys: ``AGE-SECRET-KEY-1`` + bech32 data + checksum (BIP 173,
human-readable part ``age-secret-key-``), and the post-quantum
``AGE-SECRET-KEY-PQ-1...`` form.  Only strings whose bech32 checksum holds
are reported, so made-up test values like ``AGE-SECRET-KEY-1XXXX...`` are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from homelab_secrets.scan.detectors.base import Context, Detector, hits_from
from homelab_secrets.scan.model import Hit, Rule

RULE = Rule("age-secret-key", "age-key", "age secret key (bech32 checksum verified)")

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_KEY_RE = re.compile(
    r"(?<![A-Za-z0-9])AGE-SECRET-KEY-(?:PQ-)?1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{50,}"
    r"(?![A-Za-z0-9])",
    re.I,
)


def _polymod(values: Iterable[int]) -> int:
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_GENERATOR):
            if (top >> i) & 1:
                check ^= gen
    return check


def bech32_valid(text: str) -> bool:
    """True when ``text`` is a bech32 string with a valid checksum (any case, not mixed)."""
    if text != text.lower() and text != text.upper():
        return False
    low = text.lower()
    sep = low.rfind("1")
    if sep < 1 or len(low) - sep < 7:
        return False
    hrp, data = low[:sep], low[sep + 1 :]
    if any(c not in CHARSET for c in data):
        return False
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    return _polymod(expanded + [CHARSET.index(c) for c in data]) == 1


def find(text: str, ctx: Context) -> Iterable[Hit]:
    yield from hits_from(_KEY_RE, text, RULE, check=lambda m: bech32_valid(m[0]), validated=True)


DETECTOR = Detector("age", ("age-secret-key-",), find, (RULE,))
