"""The INI store (sops' ``stores/ini/store.go`` on gopkg.in/ini.v1), byte-compatible
with sops 3.11.

Parsing follows ini.v1 as sops calls it (non-unique sections, every other
option at its default):

* keys before any section belong to ``DEFAULT``, which is always the first
  section of the tree (empty when the file has no such keys); sections keep
  file order, repeated sections stay separate;
* ``=`` or ``:`` ends a key; a key may be quoted with ``"``, ``\"\"\"`` or a
  backtick; a key named ``-`` becomes ``#1``, ``#2``… within its section; a
  repeated key keeps its first position and takes the last value and comment;
* values are trimmed; ``\"\"\"…\"\"\"`` and backticks quote (and may span lines);
  a trailing ``\\`` continues the value on the next line; ``;`` or ``#`` starts
  an inline comment even without a space; surrounding ``"…"`` or ``'…'`` are
  removed when the quote appears nowhere else;
* comment lines above a key and its inline comment make one Comment placed
  *after* the key in the tree (sops' ``treeItemFromSection``); comments above
  a section header, and one after it, make the section's first item; the
  leading ``;``/``#`` and spaces are removed.

Every value is a ``str``.  Writing is ini.v1's ``WriteTo`` with
``PrettyFormat``: keys padded to the longest, `` = ``, a blank line after
every section, ``; comment`` above its key, quoting as ini.v1 does.  The
metadata is a last ``[sops]`` section (see :mod:`.flatten`).
"""

from __future__ import annotations

import re

from homelab_secrets.errors import ExitCode
from homelab_secrets.sops.model import Branch, Comment
from homelab_secrets.sops.stores import MetadataNotFound, StoreError
from homelab_secrets.sops.stores.flatten import (
    check_metadata,
    flatten_metadata,
    unflatten_metadata,
    val_to_string,
)

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["DEFAULT_SECTION", "IniStore", "make_store"]

DEFAULT_SECTION = "DEFAULT"
SOPS_SECTION = "sops"

# Go's unicode.IsSpace (Python's str.isspace also counts U+001C..U+001F).
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
_KEY_DELIMITERS = "=:"


def make_store(**_: Any) -> IniStore:
    return IniStore()


_ANY_OF = {chars: re.compile("[" + re.escape(chars) + "]") for chars in ("=:", "#;")}


def _find_any(text: str, chars: str, start: int = 0) -> int:
    """``strings.IndexAny`` from ``start`` (``chars`` is ``"=:"`` or ``"#;"``)."""
    match = _ANY_OF[chars].search(text, start)
    return -1 if match is None else match.start()


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogateescape"))


class _Key:
    __slots__ = ("comment", "name", "value")

    def __init__(self, name: str, value: str) -> None:
        self.name = name
        self.value = value
        self.comment = ""


class _Section:
    __slots__ = ("comment", "keys", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.comment = ""
        self.keys: dict[str, _Key] = {}

    def new_key(self, name: str, value: str) -> _Key:
        """ini.v1 ``Section.NewKey``: a repeated name updates the first key."""
        if not name:
            raise ValueError("empty key name")
        key = self.keys.get(name)
        if key is None:
            key = self.keys[name] = _Key(name, value)
        else:
            key.value = value
        return key


class _Parser:
    """ini.v1's ``parser`` over the whole input, one line at a time."""

    def __init__(self, text: str) -> None:
        pieces = text.split("\n")
        self.lines = [piece + "\n" for piece in pieces[:-1]]
        self.lines.append(pieces[-1])
        self.position = 0
        self.eof = False
        self.comment: list[str] = []
        self.line_number = 0

    def read_line(self) -> str:
        """``readUntil('\\n')``: the next line with its newline; the last one
        (without a newline) sets ``eof``; past the end, ``""``."""
        if self.position >= len(self.lines):
            self.eof = True
            return ""
        line = self.lines[self.position]
        self.position += 1
        self.line_number += 1
        if self.position == len(self.lines):
            self.eof = True
        return line

    def error(self, message: str) -> StoreError:
        return StoreError(f"{message} (line {self.line_number})")

    def parse(self) -> list[_Section]:
        sections = [_Section(DEFAULT_SECTION)]
        section = sections[0]
        count = 1
        while not self.eof:
            line = self.read_line().lstrip(_GO_SPACE)
            if not line:
                continue
            first = line[0]
            if first in "#;":
                self.comment.append(line)
                continue
            if first == "[":
                close = line.rfind("]")
                if close == -1:
                    raise self.error("unclosed section")
                name = line[1:close]
                if not name:
                    raise self.error("empty section name")
                section = _Section(name)
                sections.append(section)
                rest = line[close + 1 :]
                at = _find_any(rest, "#;")
                if at != -1:
                    self.comment.append(rest[at:])
                section.comment = "".join(self.comment).strip(_GO_SPACE)
                self.comment.clear()
                count = 1
                continue
            name, offset = self.read_key_name(line)
            if name == "-":
                name = f"#{count}"
                count += 1
            value = self.read_value(line[offset:])
            try:
                key = section.new_key(name, value)
            except ValueError as exc:
                raise self.error(str(exc)) from None
            if self.comment:
                key.comment = "".join(self.comment).strip(_GO_SPACE)
                self.comment.clear()
            else:
                key.comment = ""
        return sections

    def read_key_name(self, line: str) -> tuple[str, int]:
        quote = ""
        if line[0] == '"':
            quote = '"""' if line.startswith('"""') and _utf8_len(line) > 6 else '"'
        elif line[0] == "`":
            quote = "`"
        if quote:
            start = len(quote)
            close = line.find(quote, start)
            if close == -1:
                raise self.error("missing closing key quote")
            at = _find_any(line, _KEY_DELIMITERS, close + start)
            if at == -1:
                raise self.error("key-value delimiter not found")
            return line[start:close].strip(_GO_SPACE), at + 1
        at = _find_any(line, _KEY_DELIMITERS)
        if at == -1:
            raise self.error("key-value delimiter not found")
        return line[:at].strip(_GO_SPACE), at + 1

    def read_value(self, raw: str) -> str:
        line = raw.lstrip(_GO_SPACE)
        if not line:
            return ""
        quote = ""
        if line.startswith('"""') and _utf8_len(line) > 3:
            quote = '"""'
        elif line[0] == "`":
            quote = "`"
        if quote:
            start = len(quote)
            close = line.rfind(quote, start)
            if close == -1:
                return self.read_multiline(line[start:], quote)
            return line[start:close]
        line = line.strip(_GO_SPACE)
        if line[-1] == "\\":
            return self.read_continuation(line[:-1])
        at = _find_any(line, "#;")
        if at != -1:
            self.comment.append(line[at:])
            line = line[:at].strip(_GO_SPACE)
        for q in "'\"":
            if (
                len(line) >= 2
                and line[0] == q
                and line[-1] == q
                and line.find(q, 1) == len(line) - 1
            ):
                return line[1:-1]
        return line

    def read_multiline(self, value: str, quote: str) -> str:
        while True:
            following = self.read_line()
            close = following.rfind(quote)
            if close != -1:
                value += following[:close]
                rest = following[close:]
                at = _find_any(rest, "#;")
                if at != -1:
                    self.comment.append(rest[at:].strip(_GO_SPACE))
                return value
            value += following
            if self.eof:
                raise self.error("missing closing key quote")

    def read_continuation(self, value: str) -> str:
        while True:
            following = self.read_line().strip(_GO_SPACE)
            if not following:
                return value
            value += following
            if value[-1] != "\\":
                return value
            value = value[:-1]


def _strip_comment_char(comment: str) -> str:
    """sops' ``stripCommentChar``."""
    if comment.startswith(";"):
        return comment.lstrip("; ")
    if comment.startswith("#"):
        return comment.lstrip("# ")
    return comment


def _strip_bom(data: bytes) -> bytes:
    if data[:2] in (b"\xfe\xff", b"\xff\xfe"):
        return data[2:]
    if data[:3] == b"\xef\xbb\xbf":
        return data[3:]
    return data


def _parse(data: bytes) -> list[_Section]:
    text = _strip_bom(data).decode("utf-8", "surrogateescape")
    return _Parser(text).parse()


def _tree(sections: list[_Section]) -> Branch:
    branch = Branch()
    for section in sections:
        items = Branch()
        if section.comment:
            items.append((Comment(_strip_comment_char(section.comment)), None))
        for key in section.keys.values():
            items.append((key.name, key.value))
            if key.comment:
                items.append((Comment(_strip_comment_char(key.comment)), None))
        branch.append((section.name, items))
    return branch


# ------------------------------------------------------------------------------ writing
def _comment_lines(comment: str, *, trim_plain: bool) -> list[str]:
    out = []
    for line in comment.split("\n"):
        if not line:  # ini.v1 would index an empty line and panic
            out.append(";")
        elif line[0] not in "#;":
            out.append("; " + (line.strip(_GO_SPACE) if trim_plain else line))
        else:
            out.append(line[0] + " " + line[1:].strip(_GO_SPACE))
    return out


def _write_key_name(name: str) -> str:
    if '"' in name or _find_any(name, _KEY_DELIMITERS) != -1:
        return "`" + name + "`"
    if "`" in name:
        return '"""' + name + '"""'
    return name


def _write_value(value: str) -> str:
    if "\n" in value or "`" in value:
        return '"""' + value + '"""'
    if "#" in value or ";" in value:
        return "`" + value + "`"
    if len(value.strip(_GO_SPACE)) != len(value):
        return '"' + value + '"'
    return value


def _encode(branches: list[Branch]) -> bytes:
    """sops' ``encodeTree`` then ini.v1's ``WriteTo``."""
    sections: list[_Section] = []
    for branch in branches:
        for key, value in branch:
            if isinstance(key, Comment):
                continue
            name = str(key)
            if not name:
                raise StoreError(
                    "Error marshaling to ini: Error encoding section : empty section name",
                    ExitCode.ERROR_DUMPING_TREE,
                )
            if not isinstance(value, Branch):
                raise StoreError(
                    "Error marshaling to ini: Error encoding section: Section values should "
                    "always be TreeBranches",
                    ExitCode.ERROR_DUMPING_TREE,
                )
            section = _Section(name)
            sections.append(section)
            items = list(value)
            if items and isinstance(items[0][0], Comment):
                section.comment = items[0][0].value
                items = items[1:]
            last: _Key | None = None
            for item_key, item_value in items:
                if isinstance(item_key, Comment):
                    if last is not None:
                        last.comment = item_key.value
                    continue
                text = item_value if isinstance(item_value, str) else val_to_string(item_value)
                try:
                    last = section.new_key(str(item_key), text)
                except ValueError as exc:
                    raise StoreError(
                        "Error marshaling to ini: Error encoding key: error creating new key: "
                        f"{exc}",
                        ExitCode.ERROR_DUMPING_TREE,
                    ) from None
    out: list[str] = []
    for index, section in enumerate(sections):
        if section.comment:
            out.extend(line + "\n" for line in _comment_lines(section.comment, trim_plain=False))
        if index > 0 or section.name.upper() != DEFAULT_SECTION:
            out.append(f"[{section.name}]\n")
        elif not section.keys:
            continue
        names = [_write_key_name(name) for name in section.keys]
        width = max((_utf8_len(name) for name in names), default=0)
        for key, written in zip(section.keys.values(), names, strict=True):
            if key.comment:
                out.extend(line + "\n" for line in _comment_lines(key.comment, trim_plain=True))
            padding = " " * (width - _utf8_len(written))
            out.append(f"{written}{padding} = {_write_value(key.value)}\n")
        if index < len(sections) - 1:
            out.append("\n")  # a blank line between sections, none after the last
    return "".join(out).encode("utf-8", "surrogateescape")


def _marshal(value: Any) -> str:
    """Go's compact ``json.Marshal`` of a tree value (sops' INI ``EmitValue``)."""
    from homelab_secrets.sops.stores.json_store import format_json_float, json_string

    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return format_json_float(value)
    if isinstance(value, (str, bytes)):
        return json_string(value)
    if isinstance(value, Comment):
        return '{"Value":' + json_string(value.value) + "}"
    if isinstance(value, Branch):
        return (
            "["
            + ",".join('{"Key":' + _marshal(k) + ',"Value":' + _marshal(v) + "}" for k, v in value)
            + "]"
        )
    if isinstance(value, list):
        return "[" + ",".join(_marshal(item) for item in value) + "]"
    text = getattr(value, "text", None)
    if isinstance(text, str):  # GoTime
        return '"' + text + '"'
    return json_string(str(value))


class IniStore:
    name = "ini"

    def load_plain(self, data: bytes) -> list[Branch]:
        try:
            sections = _parse(data)
        except StoreError as exc:
            raise StoreError(f"Could not unmarshal input data: {exc.message}") from None
        return [_tree(sections)]

    def load_encrypted(self, data: bytes) -> tuple[list[Branch], dict[str, Any]]:
        try:
            sections = _parse(data)
        except StoreError as exc:
            raise StoreError(exc.message, ExitCode.ERROR_GENERIC) from None
        metadata_section = next((s for s in sections if s.name == SOPS_SECTION), None)
        if metadata_section is None:
            raise MetadataNotFound()
        flat = {key.name: key.value for key in metadata_section.keys.values()}
        metadata = check_metadata(unflatten_metadata(flat), root="")
        branch = _tree([s for s in sections if s.name != SOPS_SECTION])
        return [branch], metadata

    def emit_plain(self, branches: list[Branch]) -> bytes:
        return _encode(branches)

    def emit_encrypted(self, branches: list[Branch], metadata: Branch) -> bytes:
        section = Branch(flatten_metadata(metadata))
        return _encode([*branches, Branch([(SOPS_SECTION, section)])])

    def emit_value(self, value: Any) -> bytes:
        """sops' INI ``EmitValue``: Go's compact ``json.Marshal`` of the value
        (``--extract`` prints a string raw and a mapping through
        :meth:`emit_plain`; this does the same for them)."""
        if isinstance(value, str):
            return value.encode("utf-8", "surrogateescape")
        if isinstance(value, bytes):
            return value
        if isinstance(value, Branch):
            return self.emit_plain([value])
        try:
            return _marshal(value).encode("utf-8")
        except Exception as exc:  # format_json_float: NaN / ±Inf
            what = getattr(exc, "what", None)
            if what is None:
                raise
            raise StoreError(
                f"json: unsupported value: {what}", ExitCode.ERROR_DUMPING_TREE
            ) from None

    def has_sops_top_level_key(self, branch: Branch) -> bool:
        """``stores.HasSopsTopLevelKey``: a section named ``sops``."""
        return any(key == SOPS_SECTION for key, _ in branch)
