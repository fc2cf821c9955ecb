"""Private keys in every textual form: PEM (PKCS#1 RSA, SEC1 EC, DSA, PKCS#8
``PRIVATE KEY`` and ``ENCRYPTED PRIVATE KEY``), OpenSSH, PGP private key
blocks, ``SSH2 ENCRYPTED PRIVATE KEY``, PuTTY ``.ppk`` files, PEM written
inside a JSON string (``\\n`` escapes) or a YAML block, and PEM base64-encoded
once more (Kubernetes ``tls.key: LS0tLS1CRUdJTi...``).

A block is reported on its ``BEGIN`` line when its body holds at least 64
base64 characters and is not a placeholder (``...``, ``<key>``); a
passphrase-protected key is still reported (confidence medium)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable

from homelab_secrets.scan.detectors.base import Context, Detector
from homelab_secrets.scan.model import Hit, Rule
from homelab_secrets.scan.placeholders import is_placeholder

RULE = Rule("private-key", "private-key", "Private key")

_LABEL = r"(?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED|SSH2 ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?"
_PEM = re.compile(
    rf"-----BEGIN (?P<label>{_LABEL})-----(?P<body>[\s\S]{{0,40000}}?)-----END (?P=label)-----"
)
_HEADER_LINE = re.compile(r"^(?:Proc-Type|DEK-Info|Comment|Version|Hash|Charset):.*$", re.M)
_NOT_BASE64 = re.compile(r"\\n|\\r|[\s\"'`+|,;]|\\")
_PUTTY = re.compile(
    r"PuTTY-User-Key-File-[23]: [\w-]+[\s\S]{0,8000}?Private-Lines: \d+\s*\n"
    r"(?P<body>(?:[A-Za-z0-9+/=]+\s*\n?)+)"
)
_B64_PEM = re.compile(r"(?<![A-Za-z0-9+/])LS0tLS1CRUdJTi[A-Za-z0-9+/]{60,}={0,2}")


def _payload(body: str) -> str | None:
    """The base64 of a PEM body (in any quoting), or None if it is not one."""
    if is_placeholder(body.strip()[:40]) and len(body.strip()) < 200:
        return None
    payload = _NOT_BASE64.sub("", _HEADER_LINE.sub("", body.replace("\\n", "\n")))
    if len(payload) >= 64 and re.fullmatch(r"[A-Za-z0-9/=]+", payload):
        return payload
    return None


def _hit(start: int, end: int, value: str, title: str = RULE.title, medium: bool = False) -> Hit:
    return Hit(
        start, end, value, RULE.id, RULE.kind, title, confidence="medium" if medium else "high"
    )


def find(text: str, ctx: Context) -> Iterable[Hit]:
    for m in _PEM.finditer(text):
        payload = _payload(m["body"])
        if payload is not None:
            encrypted = "ENCRYPTED" in m["label"] or "Proc-Type: 4,ENCRYPTED" in m["body"]
            title = f"Private key ({m['label'].title()})"
            yield _hit(m.start(), m.start("body"), payload, title, medium=encrypted)
    for m in _PUTTY.finditer(text):
        yield _hit(m.start(), m.start() + 20, m["body"].strip(), "Private key (PuTTY)")
    for m in _B64_PEM.finditer(text):
        try:
            decoded = base64.b64decode(m[0] + "=" * (-len(m[0]) % 4))[:80]
        except (binascii.Error, ValueError):
            continue
        if b"PRIVATE KEY" in decoded:
            yield _hit(m.start(), m.end(), m[0], "Private key (PEM, base64-encoded)")


DETECTOR = Detector(
    "private-key",
    ("-----begin", "putty-user-key-file", "ls0tls1crudjt"),
    find,
    (RULE,),
    scope="document",
)
