"""JSON Web Tokens: three base64url parts whose first decodes to a JSON
header naming an ``alg`` (so random ``eyJ...`` text is not one)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable

from homelab_secrets.scan.detectors.base import Context, Detector, bounded, hits_from
from homelab_secrets.scan.model import Hit, Rule

RULE = Rule("jwt", "token", "JSON Web Token")
_JWT = bounded(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")


def header_ok(token: str) -> bool:
    head = token.split(".", 1)[0]
    try:
        data = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, binascii.Error):
        return False
    return isinstance(data, dict) and "alg" in data


def find(text: str, ctx: Context) -> Iterable[Hit]:
    yield from hits_from(_JWT, text, RULE, check=lambda m: header_ok(m[0]))


DETECTOR = Detector("jwt", ("eyj",), find, (RULE,))
