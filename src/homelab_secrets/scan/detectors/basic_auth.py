"""Credentials in URLs (``scheme://user:password@host``) and in HTTP
``Authorization`` headers (``Basic <base64 user:password>``, ``Bearer <token>``)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable

from homelab_secrets.scan.detectors.base import Context, Detector, char_classes, entropy
from homelab_secrets.scan.model import Hit, Rule
from homelab_secrets.scan.placeholders import is_placeholder

URL = Rule("basic-auth-url", "password", "Password in a URL (scheme://user:password@host)")
BASIC = Rule("basic-auth-header", "password", "HTTP Basic credentials in an Authorization header")
BEARER = Rule("bearer-token", "token", "Bearer token in an Authorization header")

_URL = re.compile(
    r"(?<![\w+.-])[A-Za-z][A-Za-z0-9+.-]{1,20}://(?P<user>[^\s:/@'\"<>]{0,128}):"
    r"(?P<pw>[^\s/@'\"<>]{1,256})@(?P<host>[\w.\-]+|\[[0-9a-fA-F:.]+\])"
)
_FORMAT = re.compile(r"%[sdr]|%\(\w+\)[sdr]|%\w+%")
_BASIC = re.compile(r"\bBasic\s+(?P<v>[A-Za-z0-9+/]{8,}={0,2})(?![\w+/=])")
_BEARER = re.compile(r"\bBearer\s+(?P<v>[A-Za-z0-9._~+/-]{16,}={0,2})(?![\w.~+/=-])")


def _url_hits(text: str) -> Iterable[Hit]:
    for m in _URL.finditer(text):
        pw = m["pw"]
        if is_placeholder(pw, ("password",)) or (is_placeholder(m["user"]) and pw[:1] in "$%{<"):
            continue
        if _FORMAT.fullmatch(pw):
            continue  # printf / Python %-formatting: a template
        yield Hit(m.start("pw"), m.end("pw"), pw, URL.id, URL.kind, URL.title)


def find(text: str, ctx: Context) -> Iterable[Hit]:
    if "://" in text:
        yield from _url_hits(text)
    if "asic" in text:
        for m in _BASIC.finditer(text):
            try:
                decoded = base64.b64decode(m["v"] + "=" * (-len(m["v"]) % 4)).decode("utf-8")
            except (binascii.Error, ValueError):
                continue
            user, sep, pw = decoded.partition(":")
            if sep and user.isprintable() and pw and not is_placeholder(pw, ("password",)):
                yield Hit(m.start("v"), m.end("v"), m["v"], BASIC.id, BASIC.kind, BASIC.title)
    if "earer" in text:
        for m in _BEARER.finditer(text):
            token = m["v"]
            if not is_placeholder(token) and entropy(token) >= 3.5 and char_classes(token) >= 2:
                yield Hit(m.start("v"), m.end("v"), token, BEARER.id, BEARER.kind, BEARER.title)


DETECTOR = Detector("basic-auth", ("://", "basic ", "bearer "), find, (URL, BASIC, BEARER))
