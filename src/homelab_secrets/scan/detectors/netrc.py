"""Passwords in files with their own syntax:

* ``.netrc`` / ``.authinfo`` (``machine h login u password p``, on one line or several);
* ``.pgpass`` (``host:port:database:user:password``, ``\\:`` escapes);
* directives written ``name value``: Redis ``requirepass`` / ``masterauth``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from homelab_secrets.scan.detectors.base import Context, Detector
from homelab_secrets.scan.model import Hit, Rule
from homelab_secrets.scan.placeholders import is_placeholder

NETRC = Rule("netrc-password", "password", "Password in a .netrc file")
PGPASS = Rule("pgpass-password", "password", "Password in a .pgpass file")
DIRECTIVE = Rule("config-directive-password", "password", "Password in a config directive")

_NETRC = re.compile(r"(?:^|\s)password\s+(?P<v>\"[^\"\n]*\"|\S+)")
_DIRECTIVE = re.compile(r"^\s*(?P<key>requirepass|masterauth)\s+(?P<v>\"[^\"\n]*\"|\S+)", re.I)
_PGPASS = re.compile(r"^(?:(?:[^:\\\n]|\\.)*:){4}(?P<v>(?:[^\\\n]|\\.)+)$", re.M)


def _value(m: re.Match[str]) -> tuple[str, int, int]:
    raw = m["v"]
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1], m.start("v") + 1, m.end("v") - 1
    return raw, m.start("v"), m.end("v")


def find(text: str, ctx: Context) -> Iterable[Hit]:
    stripped = text.lstrip()
    if ctx.syntax == "netrc" or stripped.startswith(("machine ", "default ")):
        for m in _NETRC.finditer(text):
            value, start, end = _value(m)
            if not is_placeholder(value, ("password",)):
                yield Hit(start, end, value, NETRC.id, NETRC.kind, NETRC.title)
    for m in _DIRECTIVE.finditer(text):
        value, start, end = _value(m)
        if not is_placeholder(value, ("password",)):
            yield Hit(
                start, end, value, DIRECTIVE.id, DIRECTIVE.kind, DIRECTIVE.title, key=m["key"]
            )


def find_pgpass(text: str, ctx: Context) -> Iterable[Hit]:
    for m in _PGPASS.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        if text[line_start:].lstrip().startswith("#"):
            continue
        value = m["v"].replace("\\:", ":").replace("\\\\", "\\")
        if not is_placeholder(value, ("password",)):
            yield Hit(m.start("v"), m.end("v"), value, PGPASS.id, PGPASS.kind, PGPASS.title)


DETECTOR = Detector("netrc", ("password", "requirepass", "masterauth"), find, (NETRC, DIRECTIVE))
PGPASS_DETECTOR = Detector(
    "pgpass",
    (),
    find_pgpass,
    (PGPASS,),
    scope="document",
    paths=(".pgpass", "pgpass.conf", "pgpass"),
)
