"""What a detector is, and the small helpers detectors share.

A :class:`Detector` declares lower-case ``keywords`` (the engine's prefilter
runs it only where one occurs) and a ``find`` function:

* ``scope="line"``: ``find(line, ctx)`` gets one line (or, for a very long
  line, a window of it) and returns :class:`~homelab_secrets.scan.model.Hit`
  objects with offsets in that text;
* ``scope="document"``: ``find(text, ctx)`` gets the whole decoded file
  (ciphertext already blanked) and returns hits with offsets in it; for
  constructs that span lines (PEM blocks, cloud-init ``chpasswd`` lists,
  Terraform ``variable`` blocks).

``paths`` makes a document detector run on files of that name whatever
their content (``.pgpass`` has no keyword).  Detectors never see a file's
ciphertext and never print: the engine turns hits into findings.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from homelab_secrets.scan.model import Hit, Rule

#: File syntaxes (see :func:`syntax_for`).
Syntax = Literal[
    "yaml", "json", "hcl", "toml", "ini", "dotenv", "shell", "systemd", "code", "xml",
    "netrc", "pgpass", "sql", "text",
]  # fmt: skip


@dataclass(frozen=True)
class Context:
    """What a detector may know about the file besides the text."""

    path: str  #: relative, with ``/``
    syntax: Syntax

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


FindFn = Callable[[str, Context], Iterable[Hit]]


@dataclass(frozen=True)
class Detector:
    name: str
    keywords: tuple[str, ...]
    find: FindFn
    rules: tuple[Rule, ...]
    scope: Literal["line", "document"] = "line"
    paths: tuple[str, ...] = ()  #: file names this document detector always reads
    syntaxes: frozenset[str] = field(default_factory=frozenset)  #: empty: every syntax


_EXT_SYNTAX: dict[str, Syntax] = {
    ".yaml": "yaml", ".yml": "yaml",
    ".json": "json", ".tfstate": "json", ".ipynb": "json",
    ".tf": "hcl", ".tfvars": "hcl", ".hcl": "hcl", ".nomad": "hcl",
    ".toml": "toml",
    ".ini": "ini", ".cfg": "ini", ".conf": "ini", ".cnf": "ini", ".properties": "ini",
    ".env": "dotenv", ".envrc": "shell",
    ".sh": "shell", ".bash": "shell", ".zsh": "shell", ".ksh": "shell",
    ".service": "systemd", ".socket": "systemd", ".timer": "systemd", ".mount": "systemd",
    ".container": "systemd", ".network": "systemd", ".netdev": "systemd",
    ".py": "code", ".js": "code", ".mjs": "code", ".ts": "code", ".go": "code",
    ".java": "code", ".kt": "code", ".rb": "code", ".php": "code", ".rs": "code",
    ".cs": "code", ".scala": "code", ".swift": "code", ".c": "code", ".h": "code",
    ".cpp": "code", ".lua": "code", ".pl": "code", ".groovy": "code", ".jsx": "code",
    ".tsx": "code",
    ".xml": "xml", ".config": "xml", ".csproj": "xml",
    ".sql": "sql",
}  # fmt: skip
_NAME_SYNTAX: dict[str, Syntax] = {
    ".netrc": "netrc", "_netrc": "netrc", ".authinfo": "netrc", "netrc": "netrc",
    ".pgpass": "pgpass", "pgpass.conf": "pgpass", "pgpass": "pgpass",
    ".env": "dotenv", "env": "dotenv", "dockerfile": "shell", "makefile": "shell",
    "containerfile": "shell", "jenkinsfile": "code", "vagrantfile": "code",
    "hosts": "ini", "inventory": "ini",
}  # fmt: skip
_TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".tmpl", ".tpl", ".template", ".example")


def syntax_for(path: str) -> Syntax:
    """The syntax a file is written in, from its name (``.j2`` etc. looked through)."""
    name = path.rsplit("/", 1)[-1].lower()
    if name in _NAME_SYNTAX:
        return _NAME_SYNTAX[name]
    if name.startswith(".env.") or name.endswith(".env"):
        return "dotenv"
    for suffix in _TEMPLATE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    if name.endswith(".tfstate.backup") or ".tfstate." in name:
        return "json"
    dot = name.rfind(".")
    if dot > 0:
        return _EXT_SYNTAX.get(name[dot:], "text")
    return _NAME_SYNTAX.get(name, "text")


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in Counter(text).values())


def char_classes(text: str) -> int:
    """How many of lower, upper, digit, other a string uses."""
    return (
        any(c.islower() for c in text)
        + any(c.isupper() for c in text)
        + any(c.isdigit() for c in text)
        + any(not c.isalnum() for c in text)
    )


def plausible(token: str) -> bool:
    """A token that could have come out of a generator (not ``xxxx``, not ``EXAMPLE``)."""
    from homelab_secrets.scan.placeholders import is_placeholder

    return entropy(token) >= 3.0 and not is_placeholder(token)


def bounded(pattern: str) -> re.Pattern[str]:
    """A token pattern that must not be glued to other token characters."""
    return re.compile(rf"(?<![A-Za-z0-9_]){pattern}(?![A-Za-z0-9_])")


def hits_from(
    regex: re.Pattern[str],
    text: str,
    rule: Rule,
    *,
    group: str | int = 0,
    check: Callable[[re.Match[str]], bool] | None = None,
    validated: bool = False,
    priority: int = 10,
) -> Iterable[Hit]:
    """One hit per match of ``regex`` (its ``group`` is the value) passing
    ``check``; unless a checksum ``validated`` it, a value must also look
    generated (not a placeholder, entropy >= 3 bits per character)."""
    for m in regex.finditer(text):
        if check is not None and not check(m):
            continue
        if not validated and not plausible(m.group(group)):
            continue
        start, end = m.span(group)
        yield Hit(
            start,
            end,
            m.group(group),
            rule.id,
            rule.kind,
            rule.title,
            validated=validated,
            priority=priority,
        )
