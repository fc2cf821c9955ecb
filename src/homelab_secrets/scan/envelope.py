"""SOPS ``ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`` envelopes, found in any
text and checked for shape without a key: each part strict (padded) base64,
a 16-byte tag, an IV of at least 12 bytes, a known type.  A well-formed
envelope is ciphertext wherever it appears and is blanked before the
pattern rules run; anything else that merely starts with ``ENC[`` is text
like any other.

The whole check is one regular expression (no per-envelope Python work: a
SOPS file holds thousands of them).  (:mod:`homelab_secrets.sops.cipher`
parses one value it is about to decrypt; this module *locates* envelopes
inside arbitrary bytes.)
"""

from __future__ import annotations

import re

_B64 = rb"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
#: >= 12 bytes: at least 16 characters of padded base64.
_IV = rb"(?:[A-Za-z0-9+/]{4}){3,}(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)+"
#: exactly 16 bytes.
_TAG = rb"[A-Za-z0-9+/]{21}[AQgw]=="
_ENVELOPE = re.compile(
    rb"ENC\[AES256_GCM,data:"
    + _B64
    + rb",iv:"
    + _IV
    + rb",tag:"
    + _TAG
    + rb",type:(?:str|int|float|bool|bytes|time|comment)\]"
)
MARKER = b"ENC[AES256_GCM,"


def blank(data: bytes) -> bytes:
    """``data`` with every well-formed envelope replaced by spaces (same length)."""
    if MARKER not in data:
        return data
    return _ENVELOPE.sub(lambda m: b" " * (m.end() - m.start()), data)


def remove(data: bytes) -> bytes:
    """``data`` without its well-formed envelopes (offsets are lost)."""
    if MARKER not in data:
        return data
    return _ENVELOPE.sub(b"", data)


def is_envelope(value: str) -> bool:
    """True when ``value`` is exactly one well-formed envelope."""
    return _ENVELOPE.fullmatch(value.strip().encode("utf-8", "surrogateescape")) is not None
