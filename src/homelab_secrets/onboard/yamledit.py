"""Editing a YAML file as text at the places ruamel.yaml marks, checked by
parsing the result again.

Round-tripping through a YAML emitter re-indents block scalars, moves
comments that sit between list items and re-quotes values; editing the text
leaves every byte outside the edit as it was.  ruamel.yaml (imported on
first use: other commands never pay for it) parses with line/column marks;
:class:`Edits` are applied bottom-up so earlier marks stay valid; the caller
then compares the new document, as data, with what it expects
(:func:`check`), and nothing is written when they differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from homelab_secrets.errors import ExitCode, UserError


def load(text: str, where: str) -> Any:
    """The round-trip document; errors give the line only (a YAML error
    message may quote the file)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise UserError(f"{where}{line}: not valid YAML; fix it first", ExitCode.USAGE) from None
    except YAMLError:
        raise UserError(f"{where}: not valid YAML; fix it first", ExitCode.USAGE) from None


def plain(node: Any) -> Any:
    """A round-trip document as plain dicts, lists and scalars."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def marked(value: Any) -> Any:
    """A ruamel.yaml node with its marks (``lc``) and style (``fa``), untyped."""
    return value


def newline_of(lines: list[str]) -> str:
    return "\r\n" if lines and lines[0].endswith("\r\n") else "\n"


def dash_column(lines: list[str], seq: Any) -> int:
    """The column of a block sequence's dashes (from its first item)."""
    line, col = marked(seq).lc.item(0)
    dash: int = lines[line].rfind("-", 0, col)
    return dash if dash >= 0 else int(col)


def end_of_value(lines: list[str], doc: Any, key: str) -> int:
    """The line index just after the last content line of top-level ``key``'s
    value (comments and blank lines before the next key belong to it)."""
    keys = list(doc.keys())
    after = keys.index(key) + 1
    end = marked(doc).lc.key(keys[after])[0] if after < len(keys) else len(lines)
    while end > 0 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


@dataclass
class Edits:
    """Text edits of one file: replace a line, or insert text before a line."""

    lines: list[str]
    _edits: list[tuple[int, int, str]] = field(default_factory=list)

    def replace(self, line: int, text: str) -> None:
        self._edits.append((line, 0, text))

    def insert(self, line: int, text: str) -> None:
        """Insert ``text`` before ``line``; inserts at one line keep their order."""
        self._edits.append((line, 1, text))

    def apply(self) -> str:
        # bottom up, so earlier line numbers stay right; at one line, the
        # replacement first, then insertions in reverse (they end up in order)
        lines = list(self.lines)
        edits = self._edits
        order = sorted(range(len(edits)), key=lambda i: (-edits[i][0], edits[i][1], -i))
        for line, kind, text in (edits[i] for i in order):
            if kind == 0:
                lines[line] = text
            else:
                lines.insert(line, text)
        return "".join(lines)


def check(text: str, expected: Any, where: str, advice: str) -> None:
    """``text`` must parse to ``expected`` (plain data), else nothing is written."""
    if plain(load(text, where)) != expected:
        raise UserError(
            f"{where}: could not edit it without changing something else (an unusual "
            f"layout?); {advice}",
            ExitCode.ERROR,
        )
