"""cloud-init ``chpasswd`` lists: ``user:password`` lines under ``list: |``
(or YAML list items, or ``list: "a:b\\nc:d"``) below ``chpasswd:``.
``RANDOM``/``R`` and crypt hashes are not passwords.  (The newer
``chpasswd: users: [{name, password}]`` form is read by the generic rule.)"""

from __future__ import annotations

import re
from collections.abc import Iterable

from homelab_secrets.scan.detectors.base import Context, Detector
from homelab_secrets.scan.model import Hit, Rule
from homelab_secrets.scan.placeholders import is_placeholder

RULE = Rule("cloud-init-chpasswd", "password", "Password in a cloud-init chpasswd list")

_BLOCK = re.compile(r"^(?P<indent>[ \t]*)chpasswd:[ \t]*(?:#.*)?$", re.M)
_ENTRY = re.compile(r"^[ \t]*(?:-[ \t]+)?[\"']?(?P<user>[\w.@-]+):(?P<pw>[^\s\"']+)[\"']?[ \t]*$")
_INLINE = re.compile(r"list:[ \t]*[\"'](?P<body>[^\"'\n]+)[\"']")


def _entry_hits(line: str, offset: int) -> Iterable[Hit]:
    m = _ENTRY.match(line)
    if m is None:
        return
    pw = m["pw"]
    if pw.upper() in ("RANDOM", "R") or is_placeholder(pw, ("password",)):
        return
    yield Hit(
        offset + m.start("pw"),
        offset + m.end("pw"),
        pw,
        RULE.id,
        RULE.kind,
        RULE.title,
        key=m["user"],
    )


def find(text: str, ctx: Context) -> Iterable[Hit]:
    for block in _BLOCK.finditer(text):
        indent = len(block["indent"].expandtabs())
        pos = block.end() + 1
        while pos < len(text):
            end = text.find("\n", pos)
            end = len(text) if end == -1 else end
            line = text[pos:end]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            inline = _INLINE.search(line)
            if inline:
                body_start = pos + inline.start("body")
                for part in re.finditer(r"(?:[^\\]|\\(?!n))+", inline["body"]):
                    yield from _entry_hits(part[0], body_start + part.start())
            elif not re.match(r"^[ \t]*[\w-]+:[ \t]*(?:[|>][-+]?)?[ \t]*$", line):
                yield from _entry_hits(line, pos)
            pos = end + 1


DETECTOR = Detector("cloud-init", ("chpasswd",), find, (RULE,), scope="document")
