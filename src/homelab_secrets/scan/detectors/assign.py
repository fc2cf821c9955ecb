"""``key = value`` in every syntax infrastructure repositories use, found in
one line: YAML (``key: value``, flow ``{a: b}``, lists ``- KEY=v``), JSON
(``"key": "v"``), HCL/TOML (``key = "v"``), INI and Ansible INI inventories
(several ``k=v`` on one line, quoted values with spaces), dotenv and shell
(``export KEY=v``), systemd ``Environment="K=v" "K2=v2"``, command-line flags
(``--password v``, ``--token=v``), XML elements and SQL ``PASSWORD '...'``.

:func:`assignments` yields :class:`Assignment` objects; deciding whether the
key and value make a secret is :mod:`.generic`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

#: Syntaxes where an unquoted value is an expression or a reference, not text.
QUOTES_REQUIRED = frozenset({"code", "hcl", "toml"})
#: Syntaxes where ``key: value`` / ``key = value`` runs to the end of the line.
_REST_OF_LINE = frozenset({"yaml", "ini", "systemd", "text", "netrc", "sql"})

_QUOTED = r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|''|\\.)*'|`[^`\n]*`"""
_KV = re.compile(
    r"(?<![\w.\-$@/\\])(?P<kq>[\"'`]?)(?P<key>[A-Za-z_][\w.\-]{0,100}?)(?P=kq)"
    r"(?:\[[\"']?(?P<sub>[\w.\-]+)[\"']?\])?"
    r"[ \t]*(?P<op>:=|=>|=(?!=)|:(?=[ \t]|$)|(?<=[\"'`]):)[ \t]*"
    rf"(?P<val>{_QUOTED}|[^\s\"'`]\S*)?"
)
_FLAG = re.compile(
    rf"(?<!\S)--(?P<key>[A-Za-z][\w-]{{1,60}})(?:=|[ \t]+)"
    rf"(?P<val>{_QUOTED}|[^\s\"'`|;&<>)-][^\s|;&<>)]*)"
)
_XML = re.compile(r"<(?P<key>[A-Za-z_][\w:.\-]*)(?:\s[^<>]*)?>(?P<val>[^<>\n]+)</(?P=key)>")
_SQL = re.compile(r"\b(?P<key>PASSWORD|IDENTIFIED\s+BY)\s*(?:=\s*)?(?P<val>'(?:[^'\n]|'')*')", re.I)
_YAML_COMMENT = re.compile(r"\s+#.*$")
_INI_COMMENT = re.compile(r"\s+[#;].*$")


@dataclass(frozen=True)
class Assignment:
    key: str
    value: str  #: unquoted
    start: int  #: offset of the value in the line (inside the quotes)
    end: int
    quoted: bool
    source: str  #: "kv", "flag", "xml", "sql"


def _unquote(raw: str) -> tuple[str, int, int, bool]:
    """(value, start, end) relative to ``raw``; quotes removed."""
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'`":
        inner = raw[1:-1]
        if raw[0] == '"':
            inner = inner.replace('\\"', '"').replace("\\\\", "\\")
        elif raw[0] == "'":
            inner = inner.replace("''", "'").replace("\\'", "'")
        return inner, 1, len(raw) - 1, True
    return raw, 0, len(raw), False


def _bare_extent(line: str, m: re.Match[str], syntax: str) -> int:
    """Where an unquoted value ends: the token, or (YAML ``key: v``, spaced
    ``key = v`` in INI-like files) the rest of the line without a comment."""
    start = m.start("val")
    before = line[: m.start("key")].rstrip(" \t\"'`")
    if syntax == "yaml" and before.strip() in ("-", "") and m["op"] == "=" and not m["kq"]:
        # a YAML scalar "KEY=value with spaces" (compose `environment:` lists)
        return len(_YAML_COMMENT.sub("", line[start:]).rstrip())
    in_flow = before.endswith(("{", ",")) and syntax in ("yaml", "json", "text")
    if in_flow:
        end = start
        while end < len(line) and line[end] not in ",}":
            end += 1
        return len(line[start:end].rstrip())
    op = m["op"]
    spaced = line[m.end("key") : m.start("op")].strip(" \t\"'`]") == "" and (
        line[m.start("op") - 1 : m.start("op")].isspace() or op == ":"
    )
    if syntax in _REST_OF_LINE and (op == ":" or (op == "=" and spaced and syntax != "yaml")):
        rest = line[start:]
        rest = (_YAML_COMMENT if syntax == "yaml" else _INI_COMMENT).sub("", rest)
        return len(rest.rstrip().rstrip(","))
    return len(m["val"].rstrip(",;"))


def assignments(line: str, syntax: str, *, _depth: int = 0) -> Iterator[Assignment]:
    for m in _KV.finditer(line):
        raw = m["val"]
        if raw is None:
            continue
        key = m["sub"] or m["key"]
        if raw[0] in "\"'`":
            value, s, e, quoted = _unquote(raw)
            start, end = m.start("val") + s, m.start("val") + e
        else:
            size = _bare_extent(line, m, syntax)
            value, quoted = line[m.start("val") : m.start("val") + size], False
            start, end = m.start("val"), m.start("val") + size
        yield Assignment(key, value, start, end, quoted, "kv")
        if _depth == 0 and "=" in value:  # Environment="K=v", -e K=v, "K=v" list items
            for inner in assignments(value, "shell", _depth=1):
                yield Assignment(
                    inner.key,
                    inner.value,
                    start + inner.start,
                    start + inner.end,
                    inner.quoted or quoted,
                    inner.source,
                )
    if "--" in line:
        for m in _FLAG.finditer(line):
            value, s, e, quoted = _unquote(m["val"])
            yield Assignment(
                m["key"], value, m.start("val") + s, m.start("val") + e, quoted, "flag"
            )
    if "</" in line:
        for m in _XML.finditer(line):
            yield Assignment(m["key"], m["val"], m.start("val"), m.end("val"), True, "xml")
    if syntax in ("sql", "shell", "text", "code", "yaml"):
        for m in _SQL.finditer(line):
            value, s, e, _ = _unquote(m["val"])
            yield Assignment("password", value, m.start("val") + s, m.start("val") + e, True, "sql")
