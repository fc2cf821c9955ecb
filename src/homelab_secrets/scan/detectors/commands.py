"""Passwords on command lines: ``curl -u user:pass`` / ``--user``,
``mysql -pSECRET`` (and mysqldump, mysqladmin, mariadb...; ``-p`` alone
prompts and is fine), ``sshpass -p``, ``docker|podman|helm login -p``,
``htpasswd -b FILE USER PASS`` and ``echo 'user:pass' | chpasswd``."""

from __future__ import annotations

import re
from collections.abc import Iterable

from homelab_secrets.scan.detectors.base import Context, Detector
from homelab_secrets.scan.model import Hit, Rule
from homelab_secrets.scan.placeholders import is_placeholder

RULE = Rule("command-line-password", "password", "Password on a command line")

_ARG = r"(?P<arg>\"[^\"\n]*\"|'[^'\n]*'|[^\s\"'`|;&<>]+)"
_CURL = re.compile(rf"\bcurl\b[^\n|;&]*?\s(?:-u|--user)(?:[ \t]+|=)?{_ARG}")
_MYSQL = re.compile(
    rf"\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlshow|mariadb|mariadb-dump)"
    rf"\b[^\n|;&]*?(?<=\s)-p{_ARG}"
)
_SSHPASS = re.compile(rf"\bsshpass\b[^\n|;&]*?\s-p[ \t]*{_ARG}")
_LOGIN = re.compile(
    r"\b(?:docker|podman|helm|skopeo|buildah|nerdctl)\b[^\n|;&]*?\blogin\b"
    rf"[^\n|;&]*?\s-p[ \t]+{_ARG}"
)
_HTPASSWD = re.compile(rf"\bhtpasswd\s+-\w*b\w*(?:\s+-\w+)*\s+\S+\s+\S+\s+{_ARG}")
_CHPASSWD = re.compile(
    r"\becho\s+(?:-[ne]+\s+)?[\"']?[\w.@-]+:(?P<arg>[^\s\"'|]+)[\"']?\s*\|\s*(?:sudo\s+)?chpasswd\b"
)
_TOOLS = (
    (_CURL, "curl -u"),
    (_MYSQL, "mysql -p"),
    (_SSHPASS, "sshpass -p"),
    (_LOGIN, "registry login -p"),
    (_HTPASSWD, "htpasswd -b"),
    (_CHPASSWD, "echo | chpasswd"),
)


def _unquote(arg: str, start: int) -> tuple[str, int, int]:
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "\"'":
        return arg[1:-1], start + 1, start + len(arg) - 1
    return arg, start, start + len(arg)


def find(text: str, ctx: Context) -> Iterable[Hit]:
    for regex, tool in _TOOLS:
        for m in regex.finditer(text):
            value, start, end = _unquote(m["arg"], m.start("arg"))
            if regex is _CURL:
                user, sep, value = value.partition(":")
                if not sep:
                    continue
                start += len(user) + 1
            if not value or is_placeholder(value, ("password",)):
                continue
            yield Hit(start, end, value, RULE.id, RULE.kind, f"Password on a command line ({tool})")


DETECTOR = Detector(
    "commands",
    ("curl", "mysql", "mariadb", "sshpass", "login", "htpasswd", "chpasswd"),
    find,
    (RULE,),
)
