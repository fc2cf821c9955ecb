"""WireGuard private and preshared keys: ``PrivateKey = <base64 of 32
bytes>`` / ``PresharedKey = ...`` in ``wg-quick`` files, and the same value
under a WireGuard key name in YAML/HCL/JSON (``wg_private_key``,
``wireguard.private_key``, ``preshared_key``).  ``PublicKey`` is not a secret."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable

from homelab_secrets.scan import keynames
from homelab_secrets.scan.detectors.assign import assignments
from homelab_secrets.scan.detectors.base import Context, Detector
from homelab_secrets.scan.model import Hit, Rule
from homelab_secrets.scan.placeholders import is_placeholder

RULE = Rule("wireguard-key", "private-key", "WireGuard private or preshared key")
_KEY32 = re.compile(r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$")
_WG_WORDS = frozenset({"wg", "wireguard", "privatekey", "presharedkey", "preshared"})


def is_key32(value: str) -> bool:
    if not _KEY32.match(value):
        return False
    try:
        return len(base64.b64decode(value, validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


def find(text: str, ctx: Context) -> Iterable[Hit]:
    for a in assignments(text, ctx.syntax):
        words = keynames.words(a.key)
        if "public" in words or "pub" in words or not is_key32(a.value.strip()):
            continue
        wg = bool(_WG_WORDS.intersection(words)) or words[-2:] in (
            ("private", "key"),
            ("preshared", "key"),
        )
        if wg and not is_placeholder(a.value):
            yield Hit(a.start, a.end, a.value.strip(), RULE.id, RULE.kind, RULE.title, key=a.key)


DETECTOR = Detector(
    "wireguard",
    ("privatekey", "presharedkey", "private_key", "preshared_key", "wg_", "wireguard"),
    find,
    (RULE,),
)
