"""Read back what a step wrote, the way the GitHub runner reads it.

* :func:`parse_file_commands` parses ``$GITHUB_OUTPUT`` / ``$GITHUB_ENV`` files
  (``NAME=value`` and ``NAME<<DELIM`` records; Linux framing: lines end at LF,
  a CR is data), following the runner's ``FileCommandManager`` rules.
* :func:`parse_commands` parses ``::name k=v,k=v::data`` workflow commands from
  stdout text and unescapes them like the runner's ``ActionCommand``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_DATA = {"%25": "%", "%0D": "\r", "%0A": "\n"}
_PROPERTY = {**_DATA, "%3A": ":", "%2C": ","}


def _unescape(text: str, table: dict[str, str]) -> str:
    pattern = re.compile("|".join(re.escape(k) for k in table))
    return pattern.sub(lambda m: table[m.group(0)], text)  # one pass, like the runner


def parse_file_commands(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    lines = text.split("\n")
    # a trailing "\n" makes a last empty "line", which the runner never sees
    if lines and lines[-1] == "":
        lines.pop()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        eq, heredoc = line.find("="), line.find("<<")
        if eq >= 0 and (heredoc < 0 or eq < heredoc):
            name, value = line.split("=", 1)
        elif heredoc >= 0:
            name, delimiter = line.split("<<", 1)
            if not name or not delimiter:
                raise ValueError(f"invalid heredoc record {line!r}")
            body: list[str] = []
            while True:
                if i >= len(lines):
                    raise ValueError(f"matching delimiter not found {delimiter!r}")
                candidate = lines[i]
                i += 1
                if candidate == delimiter:
                    break
                body.append(candidate)
            value = "\n".join(body)
        else:
            raise ValueError(f"invalid record {line!r}")
        if not name:
            raise ValueError("empty name")
        values[name] = value
    return values


@dataclass(frozen=True)
class Command:
    name: str
    data: str
    properties: dict[str, str] = field(default_factory=dict)


_COMMAND = re.compile(r"^::(?P<name>[A-Za-z-]+)(?: (?P<props>[^:]*))?::(?P<data>.*)$")


def parse_commands(stdout: str) -> list[Command]:
    commands = []
    for line in stdout.split("\n"):
        match = _COMMAND.match(line)
        if not match:
            continue
        props: dict[str, str] = {}
        for pair in filter(None, (match["props"] or "").split(",")):
            key, _, value = pair.partition("=")
            props[key] = _unescape(value, _PROPERTY)
        commands.append(Command(match["name"], _unescape(match["data"], _DATA), props))
    return commands


def masks(stdout: str) -> list[str]:
    return [c.data for c in parse_commands(stdout) if c.name == "add-mask"]
