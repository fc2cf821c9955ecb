"""YAML bytes → sops tree, exactly as sops 3.11 builds it.

sops reads YAML with go.yaml.in/yaml/v3 v3.0.4 (a Go port of libyaml that
also keeps comments) and turns the resulting ``yaml.Node`` documents into its
tree in ``stores/yaml/store.go``.  Which comment lands where, which scalar
gets which Go type and which error text comes out all follow from that code,
so this module has two ways to the same tree:

* **the complete path**: a line-by-line port of yaml.v3's scanner (including
  its head/line/foot comment bookkeeping), parser state machine, node
  composer, scalar resolver and the parts of its decoder that sops' loading
  runs, followed by store.go's node → tree walk.  It accepts everything
  yaml.v3 accepts and fails with yaml.v3's messages (``yaml: line N: …``).
* **the fast path** (:class:`_FastReader`): a line-based reader for the
  block style that sops itself writes (block maps and sequences, compact
  ``- - x`` and ``- key: v`` items, one-line plain and quoted scalars, ``|``
  block scalars, ``{}``/``[]``, runs of full-line comments where yaml.v3's
  rules are simple).  It gives up (:class:`_Bail`) on anything else, the
  complete path takes over, and so both paths always give the same tree; the
  tests check that on generated files.  A 5,000-value encrypted file (~0.8
  MB) loads in ~12 ms this way, ~160 ms the complete way.

Errors are sops' own messages: ``Error unmarshalling file: …`` (exit 2) from
:func:`load_plain`, ``Error unmarshalling input yaml: …`` /
``Error unmarshaling input YAML: …`` (exit 1) from :func:`load_encrypted`.
They never quote file content: where yaml.v3 prints a scalar (``cannot
unmarshal !!str `abc` …``) we print ``<redacted>``.  Keys, anchors and line
numbers are shown, as sops shows them.
"""

from __future__ import annotations

import re
from typing import Any

from homelab_secrets.errors import ExitCode
from homelab_secrets.sops.model import Branch, Comment, GoTime, Uint64
from homelab_secrets.sops.stores import MetadataNotFound, StoreError

__all__ = ["load_encrypted", "load_plain"]

SOPS_KEY = "sops"
_REDACTED = "<redacted>"

# ============================================================================ errors


class _YamlFailure(Exception):
    """A yaml.v3 error; ``text`` is the Go error string (``yaml: …``)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class _StoreFailure(Exception):
    """An error raised by sops' store.go itself (not by yaml.v3)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


_SCANNER_ERROR = 1
_PARSER_ERROR = 2


def _parse_failure(
    kind: int, context_mark: _Mark | None, problem: str, problem_mark: _Mark
) -> _YamlFailure:
    """yaml.v3's ``parser.fail()``: prefer the context line; scanner lines are
    0-based and get +1, parser lines are printed as they are (a yaml.v3 quirk)."""
    line = 0
    if context_mark is not None and context_mark[1] != 0:
        line = context_mark[1] + (1 if kind == _SCANNER_ERROR else 0)
    elif problem_mark[1] != 0:
        line = problem_mark[1] + (1 if kind == _SCANNER_ERROR else 0)
    where = f"line {line}: " if line else ""
    return _YamlFailure(f"yaml: {where}{problem or 'unknown problem parsing YAML content'}")


# ============================================================================ reader

_Mark = tuple[int, int, int]  # (index, line, column), all 0-based, in characters
_ZERO_MARK: _Mark = (0, 0, 0)

# Regular expressions are compiled on first use: importing this module must
# stay cheap (``decrypt`` races the Go binary on start-up).
_PATTERN_SOURCES = {
    # yaml.v3's reader: characters outside YAML's printable set.
    "control": "[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]",
    "ascii_control": "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]",
    # scanner runs
    "plain_block": "(?:[^ \t\r\n\x85\u2028\u2029\0:]|:(?![ \t\r\n\x85\u2028\u2029\0]))+",
    "plain_flow": "(?:[^ \t\r\n\x85\u2028\u2029\0:,?\\[\\]{}]|:(?![ \t\r\n\x85\u2028\u2029\0]))+",
    "single_run": "[^' \t\r\n\x85\u2028\u2029\0]+",
    "double_run": '[^"\\\\ \t\r\n\x85\u2028\u2029\0]+',
    "line_end": "[\r\n\x85\u2028\u2029\0]",
    "non_blank": "[^ \t]",
    # fast path: what it leaves to the complete path (tabs, CR, other breaks,
    # BOMs, controls, surrogates)
    "fast_bad": "[\x80-\x9f\u2028\u2029\ufeff\ufffe\uffff]",
    "fast_double": r'"((?:[^"\\]|\\.)*)"',
    "fast_single": r"'((?:[^']|'')*)'",
    # resolver
    "float": r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?",
    "dot_float": r"\.[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+(?:_[0-9]+)*)?",
    "timestamp": (
        r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
        r"(?:(?:([Tt])| )([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,]([0-9]+))?"
        r"(Z|[+-][0-9]{2}:[0-9]{2})?)?"
    ),
}
_PATTERNS: dict[str, re.Pattern[str]] = {}


def _pat(name: str) -> re.Pattern[str]:
    pattern = _PATTERNS.get(name)
    if pattern is None:
        pattern = _PATTERNS[name] = re.compile(_PATTERN_SOURCES[name])
    return pattern


def _line_end(buf: str, pos: int) -> int:
    """The position of the first line break (or the end) at or after ``pos``."""
    m = _pat("line_end").search(buf, pos)
    return len(buf) if m is None else m.start()


def _has_control(text: str) -> bool:
    """Whether ``text`` has a character yaml.v3's reader refuses."""
    if text.isascii():
        return _pat("ascii_control").search(text) is not None
    return _pat("control").search(text) is not None


def _utf8_problem(data: bytes, at: int) -> str:
    """The libyaml reader's message for the invalid UTF-8 sequence at ``at``."""
    octet = data[at]
    if octet & 0x80 == 0:
        width = 1
    elif octet & 0xE0 == 0xC0:
        width = 2
    elif octet & 0xF0 == 0xE0:
        width = 3
    elif octet & 0xF8 == 0xF0:
        width = 4
    else:
        return "invalid leading UTF-8 octet"
    if at + width > len(data):
        return "incomplete UTF-8 octet sequence"
    value = octet & (0x7F, 0x1F, 0x0F, 0x07)[width - 1]
    for k in range(1, width):
        trailing = data[at + k]
        if trailing & 0xC0 != 0x80:
            return "invalid trailing UTF-8 octet"
        value = (value << 6) + (trailing & 0x3F)
    if (
        (width == 2 and value < 0x80)
        or (width == 3 and value < 0x800)
        or (width == 4 and value < 0x10000)
    ):
        return "invalid length of a UTF-8 sequence"
    return "invalid Unicode character"


def _decode_input(data: bytes) -> str:
    """Bytes → text as yaml.v3's reader does (BOM sniffing, UTF-8/UTF-16,
    the printable-character check).  Raises :class:`_YamlFailure`."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        codec = "utf-16-le" if data[:2] == b"\xff\xfe" else "utf-16-be"
        try:
            text = data[2:].decode(codec)
        except UnicodeDecodeError:
            raise _YamlFailure("yaml: invalid Unicode character") from None
        if _has_control(text):
            raise _YamlFailure("yaml: control characters are not allowed")
        return text
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode("utf-8")
        if _has_control(prefix):
            raise _YamlFailure("yaml: control characters are not allowed") from None
        raise _YamlFailure("yaml: " + _utf8_problem(data, exc.start)) from None
    if _has_control(text):
        raise _YamlFailure("yaml: control characters are not allowed")
    return text


# ============================================================================ scanner

# Token types (yaml_token_type_t).
_T_STREAM_START = 1
_T_STREAM_END = 2
_T_VERSION_DIRECTIVE = 3
_T_TAG_DIRECTIVE = 4
_T_DOCUMENT_START = 5
_T_DOCUMENT_END = 6
_T_BLOCK_SEQUENCE_START = 7
_T_BLOCK_MAPPING_START = 8
_T_BLOCK_END = 9
_T_FLOW_SEQUENCE_START = 10
_T_FLOW_SEQUENCE_END = 11
_T_FLOW_MAPPING_START = 12
_T_FLOW_MAPPING_END = 13
_T_BLOCK_ENTRY = 14
_T_FLOW_ENTRY = 15
_T_KEY = 16
_T_VALUE = 17
_T_ALIAS = 18
_T_ANCHOR = 19
_T_TAG = 20
_T_SCALAR = 21

# Scalar styles (yaml_scalar_style_t).
_PLAIN = 1
_SINGLE_QUOTED = 2
_DOUBLE_QUOTED = 3
_LITERAL = 4
_FOLDED = 5

_BREAK = frozenset("\r\n\x85\u2028\u2029")
_BREAKZ = frozenset("\r\n\x85\u2028\u2029\0")
_BLANKZ = frozenset(" \t\r\n\x85\u2028\u2029\0")
_ALPHA = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-")
_HEX = frozenset("0123456789ABCDEFabcdef")
_URI_CHARS = _ALPHA | frozenset(";/?:@&=+$,.!~*'()[]%")
_PLAIN_START_EXCLUDED = frozenset("-?:,[]{}#&*!|>'\"%@`")
_ANCHOR_END = frozenset("?:,]}%@`")


_SIMPLE_ESCAPES = {
    "0": "\0",
    "a": "\x07",
    "b": "\x08",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\x0b",
    "f": "\x0c",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}

_MAX_FLOW_LEVEL = 10000
_MAX_INDENTS = 10000


class _Token:
    __slots__ = ("end", "start", "style", "suffix", "typ", "value")

    def __init__(
        self,
        typ: int,
        start: _Mark,
        end: _Mark,
        value: Any = "",
        *,
        style: int = 0,
        suffix: str = "",
    ) -> None:
        self.typ = typ
        self.start = start
        self.end = end
        self.value = value
        self.style = style
        self.suffix = suffix


class _SimpleKey:
    __slots__ = ("mark", "possible", "required", "token_number")

    def __init__(self, possible: bool, required: bool, token_number: int, mark: _Mark) -> None:
        self.possible = possible
        self.required = required
        self.token_number = token_number
        self.mark = mark


class _ScannedComment:
    __slots__ = ("end_mark", "foot", "head", "line", "scan_mark", "start_mark", "token_mark")

    def __init__(
        self,
        scan_mark: _Mark,
        token_mark: _Mark,
        start_mark: _Mark,
        end_mark: _Mark,
        *,
        head: str = "",
        line: str = "",
        foot: str = "",
    ) -> None:
        self.scan_mark = scan_mark
        self.token_mark = token_mark
        self.start_mark = start_mark
        self.end_mark = end_mark
        self.head = head
        self.line = line
        self.foot = foot

    def clear(self) -> None:
        self.scan_mark = self.token_mark = self.start_mark = self.end_mark = _ZERO_MARK
        self.head = self.line = self.foot = ""


def _utf8_width(octet: int) -> int:
    if octet & 0x80 == 0:
        return 1
    if octet & 0xE0 == 0xC0:
        return 2
    if octet & 0xF0 == 0xE0:
        return 3
    if octet & 0xF8 == 0xF0:
        return 4
    return 0


class _Scanner:
    """yaml.v3's scannerc.go.  Positions are character offsets into ``buf``
    (the text plus NUL padding, NUL standing for the end of the stream)."""

    def __init__(self, text: str) -> None:
        self.buf = text + "\0" * 8
        self.pos = 0
        self.line = 0
        self.col = 0
        self.newlines = 0
        self.tokens: list[_Token] = []
        self.tokens_head = 0
        self.tokens_parsed = 0
        self.token_available = False
        self.stream_start_produced = False
        self.stream_end_produced = False
        self.indent = -1
        self.indents: list[int] = []
        self.simple_key_allowed = False
        self.simple_keys: list[_SimpleKey] = []
        self.simple_keys_by_tok: dict[int, int] = {}
        self.flow_level = 0
        self.comments: list[_ScannedComment] = []
        self.comments_head = 0

    # ------------------------------------------------------------ helpers
    def mark(self) -> _Mark:
        return (self.pos, self.line, self.col)

    def error(self, context: str, context_mark: _Mark, problem: str) -> _YamlFailure:
        """``yaml_parser_set_scanner_error``; yaml.v3 never prints the
        ``context`` text (kept here to read like the Go code)."""
        del context
        return _parse_failure(_SCANNER_ERROR, context_mark, problem, self.mark())

    def skip(self) -> None:
        c = self.buf[self.pos]
        if c not in {" ", "\t"}:
            self.newlines = 0
        self.pos += 1
        self.col += 1

    def skip_line(self) -> None:
        buf = self.buf
        p = self.pos
        c = buf[p]
        if c == "\r" and buf[p + 1] == "\n":
            self.pos = p + 2
        elif c in _BREAK:
            self.pos = p + 1
        else:
            return
        self.col = 0
        self.line += 1
        self.newlines += 1

    def read_line(self) -> str:
        buf = self.buf
        p = self.pos
        c = buf[p]
        if c == "\r" and buf[p + 1] == "\n":
            self.pos = p + 2
            out = "\n"
        elif c in {"\r", "\n", "\x85"}:
            self.pos = p + 1
            out = "\n"
        elif c in {"\u2028", "\u2029"}:
            self.pos = p + 1
            out = c
        else:
            return ""
        self.col = 0
        self.line += 1
        self.newlines += 1
        return out

    def advance_run(self, end: int) -> str:
        """Read the characters up to ``end`` (none of them a line break)."""
        run = self.buf[self.pos : end]
        if _pat("non_blank").search(run) is not None:
            self.newlines = 0
        self.col += end - self.pos
        self.pos = end
        return run

    def insert_token(self, number: int, token: _Token) -> None:
        if number < 0:
            self.tokens.append(token)
        else:
            self.tokens.insert(self.tokens_head + number, token)

    # ------------------------------------------------------------ token queue
    def fetch_more_tokens(self) -> None:
        while True:
            if self.tokens_head < len(self.tokens) - 2:
                idx = self.simple_keys_by_tok.get(self.tokens_parsed)
                if idx is None:
                    break
                if not self.simple_key_is_valid(self.simple_keys[idx]):
                    break
            self.fetch_next_token()
        self.token_available = True

    def fetch_next_token(self) -> None:
        if not self.stream_start_produced:
            self.fetch_stream_start()
            return
        scan_mark = self.mark()
        self.scan_to_next_token()
        self.unroll_indent(self.col, scan_mark)
        buf = self.buf
        pos = self.pos
        c = buf[pos]
        if c == "\0":
            self.fetch_stream_end()
            return
        if self.col == 0:
            if c == "%":
                self.fetch_directive()
                return
            if (
                (c in {"-", "."})
                and buf[pos + 1] == c
                and buf[pos + 2] == c
                and buf[pos + 3] in _BLANKZ
            ):
                self.fetch_document_indicator(_T_DOCUMENT_START if c == "-" else _T_DOCUMENT_END)
                return
        comment_mark = self.mark()
        if self.tokens and (
            (self.flow_level == 0 and c == ":") or (self.flow_level > 0 and c == ",")
        ):
            comment_mark = self.tokens[-1].start
        self.dispatch(c)
        # Go's deferred line-comment scan.
        if self.tokens and self.tokens[-1].typ == _T_BLOCK_ENTRY:
            return
        self.scan_line_comment(comment_mark)

    def dispatch(self, c: str) -> None:
        buf = self.buf
        pos = self.pos
        if c == "[":
            self.fetch_flow_collection_start(_T_FLOW_SEQUENCE_START)
        elif c == "{":
            self.fetch_flow_collection_start(_T_FLOW_MAPPING_START)
        elif c == "]":
            self.fetch_flow_collection_end(_T_FLOW_SEQUENCE_END)
        elif c == "}":
            self.fetch_flow_collection_end(_T_FLOW_MAPPING_END)
        elif c == ",":
            self.fetch_flow_entry()
        elif c == "-" and buf[pos + 1] in _BLANKZ:
            self.fetch_block_entry()
        elif c == "?" and (self.flow_level > 0 or buf[pos + 1] in _BLANKZ):
            self.fetch_key()
        elif c == ":" and (self.flow_level > 0 or buf[pos + 1] in _BLANKZ):
            self.fetch_value()
        elif c == "*":
            self.fetch_anchor(_T_ALIAS)
        elif c == "&":
            self.fetch_anchor(_T_ANCHOR)
        elif c == "!":
            self.fetch_tag()
        elif c == "|" and self.flow_level == 0:
            self.fetch_block_scalar(True)
        elif c == ">" and self.flow_level == 0:
            self.fetch_block_scalar(False)
        elif c == "'":
            self.fetch_flow_scalar(True)
        elif c == '"':
            self.fetch_flow_scalar(False)
        elif (
            not (c in _BLANKZ or c in _PLAIN_START_EXCLUDED)
            or (c == "-" and buf[pos + 1] != " " and buf[pos + 1] != "\t")
            or (self.flow_level == 0 and (c in {"?", ":"}) and buf[pos + 1] not in _BLANKZ)
        ):
            self.fetch_plain_scalar()
        else:
            raise self.error(
                "while scanning for the next token",
                self.mark(),
                "found character that cannot start any token",
            )

    # ------------------------------------------------------------ simple keys
    def simple_key_is_valid(self, key: _SimpleKey) -> bool:
        if not key.possible:
            return False
        if key.mark[1] < self.line or key.mark[0] + 1024 < self.pos:
            if key.required:
                raise self.error(
                    "while scanning a simple key", key.mark, "could not find expected ':'"
                )
            key.possible = False
            return False
        return True

    def save_simple_key(self) -> None:
        required = self.flow_level == 0 and self.indent == self.col
        if self.simple_key_allowed:
            key = _SimpleKey(
                True,
                required,
                self.tokens_parsed + len(self.tokens) - self.tokens_head,
                self.mark(),
            )
            self.remove_simple_key()
            self.simple_keys[-1] = key
            self.simple_keys_by_tok[key.token_number] = len(self.simple_keys) - 1

    def remove_simple_key(self) -> None:
        key = self.simple_keys[-1]
        if key.possible:
            if key.required:
                raise self.error(
                    "while scanning a simple key", key.mark, "could not find expected ':'"
                )
            key.possible = False
            self.simple_keys_by_tok.pop(key.token_number, None)

    def increase_flow_level(self) -> None:
        self.simple_keys.append(
            _SimpleKey(
                False, False, self.tokens_parsed + len(self.tokens) - self.tokens_head, self.mark()
            )
        )
        self.flow_level += 1
        if self.flow_level > _MAX_FLOW_LEVEL:
            raise self.error(
                "while increasing flow level",
                self.simple_keys[-1].mark,
                f"exceeded max depth of {_MAX_FLOW_LEVEL}",
            )

    def decrease_flow_level(self) -> None:
        if self.flow_level > 0:
            self.flow_level -= 1
            last = self.simple_keys.pop()
            self.simple_keys_by_tok.pop(last.token_number, None)

    # ------------------------------------------------------------ indentation
    def roll_indent(self, column: int, number: int, typ: int, mark: _Mark) -> None:
        if self.flow_level > 0:
            return
        if self.indent < column:
            self.indents.append(self.indent)
            self.indent = column
            if len(self.indents) > _MAX_INDENTS:
                raise self.error(
                    "while increasing indent level",
                    self.simple_keys[-1].mark,
                    f"exceeded max depth of {_MAX_INDENTS}",
                )
            if number > -1:
                number -= self.tokens_parsed
            self.insert_token(number, _Token(typ, mark, mark))

    def unroll_indent(self, column: int, scan_mark: _Mark) -> None:
        if self.flow_level > 0:
            return
        block_mark = (scan_mark[0] - 1, scan_mark[1], scan_mark[2])
        comments = self.comments
        while self.indent > column:
            # Put the end token before the foot comments of parent blocks.
            stop_index = block_mark[0]
            for i in range(len(comments) - 1, -1, -1):
                comment = comments[i]
                if comment.end_mark[0] < stop_index:
                    break
                if comment.start_mark[2] == self.indent + 1:
                    block_mark = comment.start_mark
                stop_index = comment.scan_mark[0]
            self.tokens.append(_Token(_T_BLOCK_END, block_mark, block_mark))
            self.indent = self.indents.pop()

    # ------------------------------------------------------------ fetchers
    def fetch_stream_start(self) -> None:
        self.indent = -1
        self.simple_keys.append(_SimpleKey(False, False, 0, _ZERO_MARK))
        self.simple_keys_by_tok = {}
        self.simple_key_allowed = True
        self.stream_start_produced = True
        mark = self.mark()
        self.tokens.append(_Token(_T_STREAM_START, mark, mark))

    def fetch_stream_end(self) -> None:
        if self.col != 0:
            self.col = 0
            self.line += 1
        self.unroll_indent(-1, self.mark())
        self.remove_simple_key()
        self.simple_key_allowed = False
        mark = self.mark()
        self.tokens.append(_Token(_T_STREAM_END, mark, mark))

    def fetch_directive(self) -> None:
        self.unroll_indent(-1, self.mark())
        self.remove_simple_key()
        self.simple_key_allowed = False
        self.tokens.append(self.scan_directive())

    def fetch_document_indicator(self, typ: int) -> None:
        self.unroll_indent(-1, self.mark())
        self.remove_simple_key()
        self.simple_key_allowed = False
        start = self.mark()
        self.skip()
        self.skip()
        self.skip()
        self.tokens.append(_Token(typ, start, self.mark()))

    def fetch_flow_collection_start(self, typ: int) -> None:
        self.save_simple_key()
        self.increase_flow_level()
        self.simple_key_allowed = True
        start = self.mark()
        self.skip()
        self.tokens.append(_Token(typ, start, self.mark()))

    def fetch_flow_collection_end(self, typ: int) -> None:
        self.remove_simple_key()
        self.decrease_flow_level()
        self.simple_key_allowed = False
        start = self.mark()
        self.skip()
        self.tokens.append(_Token(typ, start, self.mark()))

    def fetch_flow_entry(self) -> None:
        self.remove_simple_key()
        self.simple_key_allowed = True
        start = self.mark()
        self.skip()
        self.tokens.append(_Token(_T_FLOW_ENTRY, start, self.mark()))

    def fetch_block_entry(self) -> None:
        if self.flow_level == 0:
            if not self.simple_key_allowed:
                raise self.error(
                    "", self.mark(), "block sequence entries are not allowed in this context"
                )
            self.roll_indent(self.col, -1, _T_BLOCK_SEQUENCE_START, self.mark())
        self.remove_simple_key()
        self.simple_key_allowed = True
        start = self.mark()
        self.skip()
        self.tokens.append(_Token(_T_BLOCK_ENTRY, start, self.mark()))

    def fetch_key(self) -> None:
        if self.flow_level == 0:
            if not self.simple_key_allowed:
                raise self.error("", self.mark(), "mapping keys are not allowed in this context")
            self.roll_indent(self.col, -1, _T_BLOCK_MAPPING_START, self.mark())
        self.remove_simple_key()
        self.simple_key_allowed = self.flow_level == 0
        start = self.mark()
        self.skip()
        self.tokens.append(_Token(_T_KEY, start, self.mark()))

    def fetch_value(self) -> None:
        key = self.simple_keys[-1]
        if self.simple_key_is_valid(key):
            self.insert_token(
                key.token_number - self.tokens_parsed, _Token(_T_KEY, key.mark, key.mark)
            )
            self.roll_indent(key.mark[2], key.token_number, _T_BLOCK_MAPPING_START, key.mark)
            key.possible = False
            self.simple_keys_by_tok.pop(key.token_number, None)
            self.simple_key_allowed = False
        else:
            if self.flow_level == 0:
                if not self.simple_key_allowed:
                    raise self.error(
                        "", self.mark(), "mapping values are not allowed in this context"
                    )
                self.roll_indent(self.col, -1, _T_BLOCK_MAPPING_START, self.mark())
            self.simple_key_allowed = self.flow_level == 0
        start = self.mark()
        self.skip()
        self.tokens.append(_Token(_T_VALUE, start, self.mark()))

    def fetch_anchor(self, typ: int) -> None:
        self.save_simple_key()
        self.simple_key_allowed = False
        self.tokens.append(self.scan_anchor(typ))

    def fetch_tag(self) -> None:
        self.save_simple_key()
        self.simple_key_allowed = False
        self.tokens.append(self.scan_tag())

    def fetch_block_scalar(self, literal: bool) -> None:
        self.remove_simple_key()
        self.simple_key_allowed = True
        self.tokens.append(self.scan_block_scalar(literal))

    def fetch_flow_scalar(self, single: bool) -> None:
        self.save_simple_key()
        self.simple_key_allowed = False
        self.tokens.append(self.scan_flow_scalar(single))

    def fetch_plain_scalar(self) -> None:
        self.save_simple_key()
        self.simple_key_allowed = False
        self.tokens.append(self.scan_plain_scalar())

    # ------------------------------------------------------------ whitespace and comments
    def scan_to_next_token(self) -> None:
        scan_mark = self.mark()
        buf = self.buf
        while True:
            if self.col == 0 and buf[self.pos] == "\ufeff":
                self.skip()
            tabs = self.flow_level > 0 or not self.simple_key_allowed
            p = self.pos
            while buf[p] == " " or (tabs and buf[p] == "\t"):
                p += 1
            if p != self.pos:
                self.col += p - self.pos
                self.pos = p
            c = buf[p]
            # A line comment right after "- " that is followed by content on
            # the next line becomes a head comment of that content.
            if self.comments and len(self.tokens) > 1:
                comment = self.comments[-1]
                if (
                    comment.line
                    and self.tokens[-2].typ == _T_BLOCK_SEQUENCE_START
                    and self.tokens[-1].typ == _T_BLOCK_ENTRY
                    and c not in _BREAK
                ):
                    comment.head = comment.line
                    comment.line = ""
                    if comment.start_mark[1] == self.line - 1:
                        comment.token_mark = self.mark()
            if c == "#":
                self.scan_comments(scan_mark)
                c = buf[self.pos]
            if c in _BREAK:
                self.skip_line()
                if self.flow_level == 0:
                    self.simple_key_allowed = True
            else:
                break

    def scan_line_comment(self, token_mark: _Mark) -> None:
        if self.newlines > 0:
            return
        buf = self.buf
        for peek in range(512):
            c = buf[self.pos + peek]
            if c in {" ", "\t"}:
                continue
            if c == "#":
                self.pos += peek
                self.col += peek
                start_mark = self.mark()
                text = self.advance_run(_line_end(buf, self.pos))
                self.comments.append(
                    _ScannedComment(_ZERO_MARK, token_mark, start_mark, _ZERO_MARK, line=text)
                )
            break

    def scan_comments(self, scan_mark: _Mark) -> None:
        tokens = self.tokens
        token = tokens[-1]
        if token.typ == _T_FLOW_ENTRY and len(tokens) > 1:
            token = tokens[-2]
        token_mark = token.start
        start_mark = _ZERO_MARK
        next_indent = max(self.indent, 0)
        recent_empty = False
        first_empty = self.newlines <= 1
        line = self.line
        column = self.col
        text: list[str] = []
        foot_line = -1
        if scan_mark[1] > 0:
            foot_line = self.line - self.newlines + 1
            if self.newlines == 0 and self.col > 1:
                foot_line += 1
        buf = self.buf
        # A Go ``for ; peek < 512; peek++`` loop: every path through the body,
        # including the one that resets ``peek`` to 0, ends with ``peek += 1``.
        peek = 0
        while peek < 512:
            at = self.pos + peek
            c = buf[at]
            column += 1
            if c in {" ", "\t"}:
                peek += 1
                continue
            close_flow = self.flow_level > 0 and (c in {"]", "}"})
            if close_flow or c in _BREAKZ:
                if close_flow or not recent_empty:
                    if close_flow or (
                        first_empty
                        and (
                            (start_mark[1] == foot_line and token.typ != _T_VALUE)
                            or start_mark[2] - 1 < next_indent
                        )
                    ):
                        # The first part of the comment is a foot of the
                        # prior token rather than a head of the next one.
                        if text:
                            if start_mark[2] - 1 < next_indent:
                                token_mark = start_mark
                            here = (at, line, column)
                            self.comments.append(
                                _ScannedComment(
                                    scan_mark, token_mark, start_mark, here, foot="".join(text)
                                )
                            )
                            scan_mark = here
                            token_mark = here
                            text = []
                    elif text and c != "\0":
                        text.append("\n")
                if c not in _BREAK:
                    break
                first_empty = False
                recent_empty = True
                column = 0
                line += 1
                peek += 1
                continue
            if text and (close_flow or (column - 1 < next_indent and column != start_mark[2])):
                # A comment at another indentation is a foot of the data
                # before it rather than a head of what follows.
                here = (at, line, column)
                self.comments.append(
                    _ScannedComment(scan_mark, token_mark, start_mark, here, foot="".join(text))
                )
                scan_mark = here
                token_mark = here
                text = []
            if c != "#":
                break
            if not text:
                start_mark = (at, line, column)
            else:
                text.append("\n")
            recent_empty = False
            # Consume up to and including this comment line.
            while self.pos < at:
                if buf[self.pos] in _BREAK:
                    self.skip_line()
                else:
                    self.skip()
            text.append(self.advance_run(_line_end(buf, self.pos)))
            column = 0
            line = self.line
            next_indent = max(self.indent, 0)
            peek = 1  # "peek = 0", then the loop's "peek++"
        if text:
            self.comments.append(
                _ScannedComment(
                    scan_mark,
                    start_mark,
                    start_mark,
                    (self.pos + peek - 1, line, column),
                    head="".join(text),
                )
            )

    # ------------------------------------------------------------ directives
    def scan_directive(self) -> _Token:
        start = self.mark()
        self.skip()
        name = self.scan_directive_name(start)
        token: _Token
        if name == "YAML":
            major, minor = self.scan_version_directive_value(start)
            token = _Token(_T_VERSION_DIRECTIVE, start, self.mark(), (major, minor))
        elif name == "TAG":
            handle, prefix = self.scan_tag_directive_value(start)
            token = _Token(_T_TAG_DIRECTIVE, start, self.mark(), handle, suffix=prefix)
        else:
            raise self.error("while scanning a directive", start, "found unknown directive name")
        buf = self.buf
        while buf[self.pos] == " " or buf[self.pos] == "\t":
            self.skip()
        if buf[self.pos] == "#":
            while buf[self.pos] not in _BREAKZ:
                self.skip()
        if buf[self.pos] not in _BREAKZ:
            raise self.error(
                "while scanning a directive", start, "did not find expected comment or line break"
            )
        if buf[self.pos] in _BREAK:
            self.skip_line()
        return token

    def scan_directive_name(self, start: _Mark) -> str:
        begin = self.pos
        while self.buf[self.pos] in _ALPHA:
            self.skip()
        name = self.buf[begin : self.pos]
        if not name:
            raise self.error(
                "while scanning a directive", start, "could not find expected directive name"
            )
        if self.buf[self.pos] not in _BLANKZ:
            raise self.error(
                "while scanning a directive", start, "found unexpected non-alphabetical character"
            )
        return name

    def scan_version_directive_value(self, start: _Mark) -> tuple[int, int]:
        while self.buf[self.pos] == " " or self.buf[self.pos] == "\t":
            self.skip()
        major = self.scan_version_directive_number(start)
        if self.buf[self.pos] != ".":
            raise self.error(
                "while scanning a %YAML directive",
                start,
                "did not find expected digit or '.' character",
            )
        self.skip()
        minor = self.scan_version_directive_number(start)
        return major, minor

    def scan_version_directive_number(self, start: _Mark) -> int:
        value = 0
        length = 0
        while self.buf[self.pos].isascii() and self.buf[self.pos].isdigit():
            length += 1
            if length > 2:
                raise self.error(
                    "while scanning a %YAML directive", start, "found extremely long version number"
                )
            value = value * 10 + int(self.buf[self.pos])
            self.skip()
        if length == 0:
            raise self.error(
                "while scanning a %YAML directive", start, "did not find expected version number"
            )
        return value

    def scan_tag_directive_value(self, start: _Mark) -> tuple[str, str]:
        while self.buf[self.pos] == " " or self.buf[self.pos] == "\t":
            self.skip()
        handle = self.scan_tag_handle(True, start)
        if self.buf[self.pos] != " " and self.buf[self.pos] != "\t":
            raise self.error(
                "while scanning a %TAG directive", start, "did not find expected whitespace"
            )
        while self.buf[self.pos] == " " or self.buf[self.pos] == "\t":
            self.skip()
        prefix = self.scan_tag_uri(True, "", start)
        if self.buf[self.pos] not in _BLANKZ:
            raise self.error(
                "while scanning a %TAG directive",
                start,
                "did not find expected whitespace or line break",
            )
        return handle, prefix

    # ------------------------------------------------------------ anchors and tags
    def scan_anchor(self, typ: int) -> _Token:
        start = self.mark()
        self.skip()
        begin = self.pos
        while self.buf[self.pos] in _ALPHA:
            self.skip()
        value = self.buf[begin : self.pos]
        end = self.mark()
        c = self.buf[self.pos]
        if not value or not (c in _BLANKZ or c in _ANCHOR_END):
            context = "while scanning an anchor" if typ == _T_ANCHOR else "while scanning an alias"
            raise self.error(
                context, start, "did not find expected alphabetic or numeric character"
            )
        return _Token(typ, start, end, value)

    def scan_tag(self) -> _Token:
        start = self.mark()
        if self.buf[self.pos + 1] == "<":
            handle = ""
            self.skip()
            self.skip()
            suffix = self.scan_tag_uri(False, "", start)
            if self.buf[self.pos] != ">":
                raise self.error("while scanning a tag", start, "did not find the expected '>'")
            self.skip()
        else:
            handle = self.scan_tag_handle(False, start)
            if handle[0] == "!" and len(handle) > 1 and handle[-1] == "!":
                suffix = self.scan_tag_uri(False, "", start)
            else:
                suffix = self.scan_tag_uri(False, handle, start)
                handle = "!"
                if not suffix:
                    handle, suffix = "", "!"
        if self.buf[self.pos] not in _BLANKZ:
            raise self.error(
                "while scanning a tag", start, "did not find expected whitespace or line break"
            )
        return _Token(_T_TAG, start, self.mark(), handle, suffix=suffix)

    def tag_error(self, directive: bool, start: _Mark, problem: str) -> _YamlFailure:
        context = "while parsing a %TAG directive" if directive else "while parsing a tag"
        return self.error(context, start, problem)

    def scan_tag_handle(self, directive: bool, start: _Mark) -> str:
        if self.buf[self.pos] != "!":
            raise self.tag_error(directive, start, "did not find expected '!'")
        begin = self.pos
        self.skip()
        while self.buf[self.pos] in _ALPHA:
            self.skip()
        if self.buf[self.pos] == "!":
            self.skip()
        elif directive and self.buf[begin : self.pos] != "!":
            raise self.tag_error(directive, start, "did not find expected '!'")
        return self.buf[begin : self.pos]

    def scan_tag_uri(self, directive: bool, head: str, start: _Mark) -> str:
        out = bytearray(head[1:].encode("utf-8", "surrogatepass")) if len(head) > 1 else bytearray()
        has_tag = bool(head)
        buf = self.buf
        while buf[self.pos] in _URI_CHARS:
            if buf[self.pos] == "%":
                out += self.scan_uri_escapes(directive, start)
            else:
                out += buf[self.pos].encode("utf-8")
                self.skip()
            has_tag = True
        if not has_tag:
            raise self.tag_error(directive, start, "did not find expected tag URI")
        return out.decode("utf-8", "surrogateescape")

    def scan_uri_escapes(self, directive: bool, start: _Mark) -> bytes:
        out = bytearray()
        width = 1024
        buf = self.buf
        while width > 0:
            p = self.pos
            if not (buf[p] == "%" and buf[p + 1] in _HEX and buf[p + 2] in _HEX):
                raise self.tag_error(directive, start, "did not find URI escaped octet")
            octet = int(buf[p + 1 : p + 3], 16)
            if width == 1024:
                width = _utf8_width(octet)
                if width == 0:
                    raise self.tag_error(directive, start, "found an incorrect leading UTF-8 octet")
            elif octet & 0xC0 != 0x80:
                raise self.tag_error(directive, start, "found an incorrect trailing UTF-8 octet")
            out.append(octet)
            self.skip()
            self.skip()
            self.skip()
            width -= 1
        return bytes(out)

    # ------------------------------------------------------------ block scalars
    def scan_block_scalar(self, literal: bool) -> _Token:
        buf = self.buf
        start = self.mark()
        self.skip()
        chomping = 0
        increment = 0
        c = buf[self.pos]
        if c in {"+", "-"}:
            chomping = 1 if c == "+" else -1
            self.skip()
            c = buf[self.pos]
            if c in "0123456789":
                if c == "0":
                    raise self.error(
                        "while scanning a block scalar",
                        start,
                        "found an indentation indicator equal to 0",
                    )
                increment = int(c)
                self.skip()
        elif c in "0123456789":
            if c == "0":
                raise self.error(
                    "while scanning a block scalar",
                    start,
                    "found an indentation indicator equal to 0",
                )
            increment = int(c)
            self.skip()
            c = buf[self.pos]
            if c in {"+", "-"}:
                chomping = 1 if c == "+" else -1
                self.skip()
        while buf[self.pos] == " " or buf[self.pos] == "\t":
            self.skip()
        if buf[self.pos] == "#":
            self.scan_line_comment(start)
            while buf[self.pos] not in _BREAKZ:
                self.skip()
        if buf[self.pos] not in _BREAKZ:
            raise self.error(
                "while scanning a block scalar",
                start,
                "did not find expected comment or line break",
            )
        if buf[self.pos] in _BREAK:
            self.skip_line()
        end_mark = self.mark()
        indent = 0
        if increment > 0:
            indent = self.indent + increment if self.indent >= 0 else increment
        chunks: list[str] = []
        leading_break = ""
        indent, trailing_breaks, end_mark = self.scan_block_scalar_breaks(
            indent, "", start, end_mark
        )
        leading_blank = False
        while self.col == indent and buf[self.pos] != "\0":
            trailing_blank = buf[self.pos] == " " or buf[self.pos] == "\t"
            if (
                not literal
                and not leading_blank
                and not trailing_blank
                and leading_break[:1] == "\n"
            ):
                if not trailing_breaks:
                    chunks.append(" ")
            else:
                chunks.append(leading_break)
            leading_break = ""
            chunks.append(trailing_breaks)
            trailing_breaks = ""
            leading_blank = buf[self.pos] == " " or buf[self.pos] == "\t"
            chunks.append(self.advance_run(_line_end(buf, self.pos)))
            leading_break = self.read_line()
            indent, trailing_breaks, end_mark = self.scan_block_scalar_breaks(
                indent, trailing_breaks, start, end_mark
            )
        if chomping != -1:
            chunks.append(leading_break)
        if chomping == 1:
            chunks.append(trailing_breaks)
        style = _LITERAL if literal else _FOLDED
        return _Token(_T_SCALAR, start, end_mark, "".join(chunks), style=style)

    def scan_block_scalar_breaks(
        self, indent: int, breaks: str, start: _Mark, end_mark: _Mark
    ) -> tuple[int, str, _Mark]:
        buf = self.buf
        end_mark = self.mark()
        max_indent = 0
        while True:
            while (indent == 0 or self.col < indent) and buf[self.pos] == " ":
                self.skip()
            max_indent = max(max_indent, self.col)
            if (indent == 0 or self.col < indent) and buf[self.pos] == "\t":
                raise self.error(
                    "while scanning a block scalar",
                    start,
                    "found a tab character where an indentation space is expected",
                )
            if buf[self.pos] not in _BREAK:
                break
            breaks += self.read_line()
            end_mark = self.mark()
        if indent == 0:
            indent = max(max_indent, self.indent + 1, 1)
        return indent, breaks, end_mark

    # ------------------------------------------------------------ quoted scalars
    def scan_flow_scalar(self, single: bool) -> _Token:
        buf = self.buf
        start = self.mark()
        self.skip()
        chunks: list[str] = []
        leading_break = ""
        trailing_breaks = ""
        whitespaces = ""
        run = _pat("single_run" if single else "double_run")
        while True:
            p = self.pos
            c = buf[p]
            if (
                self.col == 0
                and (c in {"-", "."})
                and buf[p + 1] == c
                and buf[p + 2] == c
                and buf[p + 3] in _BLANKZ
            ):
                raise self.error(
                    "while scanning a quoted scalar", start, "found unexpected document indicator"
                )
            if c == "\0":
                raise self.error(
                    "while scanning a quoted scalar", start, "found unexpected end of stream"
                )
            leading_blanks = False
            while buf[self.pos] not in _BLANKZ:
                c = buf[self.pos]
                if single and c == "'":
                    if buf[self.pos + 1] == "'":
                        chunks.append("'")
                        self.skip()
                        self.skip()
                        continue
                    break
                if not single and c == '"':
                    break
                if not single and c == "\\":
                    nxt = buf[self.pos + 1]
                    if nxt in _BREAK:
                        self.skip()
                        self.skip_line()
                        leading_blanks = True
                        break
                    simple = _SIMPLE_ESCAPES.get(nxt)
                    length = _HEX_ESCAPES.get(nxt, 0)
                    if simple is None and not length:
                        raise self.error(
                            "while parsing a quoted scalar", start, "found unknown escape character"
                        )
                    self.skip()
                    self.skip()
                    if simple is not None:
                        chunks.append(simple)
                    else:
                        digits = buf[self.pos : self.pos + length]
                        if len(digits) < length or any(d not in _HEX for d in digits):
                            raise self.error(
                                "while parsing a quoted scalar",
                                start,
                                "did not find expected hexdecimal number",  # sic (yaml.v3)
                            )
                        value = int(digits, 16)
                        if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:
                            raise self.error(
                                "while parsing a quoted scalar",
                                start,
                                "found invalid Unicode character escape code",
                            )
                        chunks.append(chr(value))
                        for _ in range(length):
                            self.skip()
                    continue
                m = run.match(buf, self.pos)
                chunks.append(self.advance_run(self.pos + 1 if m is None else m.end()))
            c = buf[self.pos]
            if c == ("'" if single else '"'):
                break
            while c in {" ", "\t"} or c in _BREAK:
                if c in {" ", "\t"}:
                    if not leading_blanks:
                        whitespaces += c
                    self.pos += 1
                    self.col += 1
                elif not leading_blanks:
                    whitespaces = ""
                    leading_break = self.read_line()
                    leading_blanks = True
                else:
                    trailing_breaks += self.read_line()
                c = buf[self.pos]
            if leading_blanks:
                if leading_break[:1] == "\n":
                    chunks.append(trailing_breaks if trailing_breaks else " ")
                else:
                    chunks.append(leading_break)
                    chunks.append(trailing_breaks)
                trailing_breaks = ""
                leading_break = ""
            else:
                chunks.append(whitespaces)
                whitespaces = ""
        self.skip()
        style = _SINGLE_QUOTED if single else _DOUBLE_QUOTED
        return _Token(_T_SCALAR, start, self.mark(), "".join(chunks), style=style)

    # ------------------------------------------------------------ plain scalars
    def scan_plain_scalar(self) -> _Token:
        buf = self.buf
        chunks: list[str] = []
        leading_break = ""
        trailing_breaks = ""
        whitespaces = ""
        leading_blanks = False
        indent = self.indent + 1
        start = self.mark()
        end = start
        run = _pat("plain_flow" if self.flow_level > 0 else "plain_block")
        while True:
            p = self.pos
            c = buf[p]
            if (
                self.col == 0
                and (c in {"-", "."})
                and buf[p + 1] == c
                and buf[p + 2] == c
                and buf[p + 3] in _BLANKZ
            ):
                break
            if c == "#":
                break
            m = run.match(buf, p)
            if m is not None:
                if leading_blanks or whitespaces:
                    if leading_blanks:
                        if leading_break[:1] == "\n":
                            chunks.append(trailing_breaks if trailing_breaks else " ")
                        else:
                            chunks.append(leading_break)
                            chunks.append(trailing_breaks)
                        trailing_breaks = ""
                        leading_break = ""
                        leading_blanks = False
                    else:
                        chunks.append(whitespaces)
                        whitespaces = ""
                chunks.append(self.advance_run(m.end()))
                end = self.mark()
            c = buf[self.pos]
            if not (c in {" ", "\t"} or c in _BREAK):
                break
            while c in {" ", "\t"} or c in _BREAK:
                if c in {" ", "\t"}:
                    if leading_blanks and self.col < indent and c == "\t":
                        raise self.error(
                            "while scanning a plain scalar",
                            start,
                            "found a tab character that violates indentation",
                        )
                    if not leading_blanks:
                        whitespaces += c
                    self.pos += 1
                    self.col += 1
                elif not leading_blanks:
                    whitespaces = ""
                    leading_break = self.read_line()
                    leading_blanks = True
                else:
                    trailing_breaks += self.read_line()
                c = buf[self.pos]
            if self.flow_level == 0 and self.col < indent:
                break
        if leading_blanks:
            self.simple_key_allowed = True
        return _Token(_T_SCALAR, start, end, "".join(chunks), style=_PLAIN)


# ============================================================================ parser

# Event types.
_E_STREAM_START = 1
_E_STREAM_END = 2
_E_DOCUMENT_START = 3
_E_DOCUMENT_END = 4
_E_ALIAS = 5
_E_SCALAR = 6
_E_SEQUENCE_START = 7
_E_SEQUENCE_END = 8
_E_MAPPING_START = 9
_E_MAPPING_END = 10

# Parser states.
_S_STREAM_START = 0
_S_IMPLICIT_DOCUMENT_START = 1
_S_DOCUMENT_START = 2
_S_DOCUMENT_CONTENT = 3
_S_DOCUMENT_END = 4
_S_BLOCK_NODE = 5
_S_BLOCK_NODE_OR_INDENTLESS_SEQUENCE = 6
_S_FLOW_NODE = 7
_S_BLOCK_SEQUENCE_FIRST_ENTRY = 8
_S_BLOCK_SEQUENCE_ENTRY = 9
_S_INDENTLESS_SEQUENCE_ENTRY = 10
_S_BLOCK_MAPPING_FIRST_KEY = 11
_S_BLOCK_MAPPING_KEY = 12
_S_BLOCK_MAPPING_VALUE = 13
_S_FLOW_SEQUENCE_FIRST_ENTRY = 14
_S_FLOW_SEQUENCE_ENTRY = 15
_S_FLOW_SEQUENCE_ENTRY_MAPPING_KEY = 16
_S_FLOW_SEQUENCE_ENTRY_MAPPING_VALUE = 17
_S_FLOW_SEQUENCE_ENTRY_MAPPING_END = 18
_S_FLOW_MAPPING_FIRST_KEY = 19
_S_FLOW_MAPPING_KEY = 20
_S_FLOW_MAPPING_VALUE = 21
_S_FLOW_MAPPING_EMPTY_VALUE = 22
_S_END = 23

_FLOW_STYLE = 2  # sequence/mapping style: block = 1, flow = 2


class _Event:
    __slots__ = (
        "anchor",
        "end",
        "foot",
        "head",
        "line",
        "start",
        "style",
        "tag",
        "typ",
        "value",
    )

    def __init__(self, typ: int, start: _Mark, end: _Mark) -> None:
        self.typ = typ
        self.start = start
        self.end = end
        self.anchor = ""
        self.tag = ""
        self.value = ""
        self.style = 0
        self.head = ""
        self.line = ""
        self.foot = ""


_DEFAULT_TAG_DIRECTIVES = (("!", "!"), ("!!", "tag:yaml.org,2002:"))


class _Parser:
    """yaml.v3's parserc.go: tokens → events, with comments attached."""

    def __init__(self, text: str) -> None:
        self.scanner = _Scanner(text)
        self.state = _S_STREAM_START
        self.states: list[int] = []
        self.marks: list[_Mark] = []
        self.tag_directives: list[tuple[str, str]] = []
        self.head_comment = ""
        self.line_comment = ""
        self.foot_comment = ""
        self.stem_comment: str | None = None
        self.done = False

    def error(
        self, problem: str, problem_mark: _Mark, context_mark: _Mark | None = None
    ) -> _YamlFailure:
        return _parse_failure(_PARSER_ERROR, context_mark, problem, problem_mark)

    # ------------------------------------------------------------ tokens
    def peek_token(self) -> _Token:
        sc = self.scanner
        if not sc.token_available:
            sc.fetch_more_tokens()
        token = sc.tokens[sc.tokens_head]
        if sc.comments_head < len(sc.comments):
            self.unfold_comments(token)
        return token

    def unfold_comments(self, token: _Token) -> None:
        sc = self.scanner
        comments = sc.comments
        while (
            sc.comments_head < len(comments)
            and token.start[0] >= comments[sc.comments_head].token_mark[0]
        ):
            comment = comments[sc.comments_head]
            if comment.head:
                if token.typ == _T_BLOCK_END:
                    break  # no heads on ends: keep it for a later token
                self.head_comment = (
                    self.head_comment + "\n" + comment.head if self.head_comment else comment.head
                )
            if comment.foot:
                self.foot_comment = (
                    self.foot_comment + "\n" + comment.foot if self.foot_comment else comment.foot
                )
            if comment.line:
                self.line_comment = (
                    self.line_comment + "\n" + comment.line if self.line_comment else comment.line
                )
            comment.clear()
            sc.comments_head += 1

    def skip_token(self) -> None:
        sc = self.scanner
        sc.token_available = False
        sc.tokens_parsed += 1
        sc.stream_end_produced = sc.tokens[sc.tokens_head].typ == _T_STREAM_END
        sc.tokens_head += 1
        if sc.tokens_head > 4096:  # drop consumed tokens now and then
            del sc.tokens[: sc.tokens_head]
            sc.tokens_head = 0

    def set_event_comments(self, event: _Event) -> None:
        event.head = self.head_comment
        event.line = self.line_comment
        event.foot = self.foot_comment
        self.head_comment = self.line_comment = self.foot_comment = ""
        self.stem_comment = None

    # ------------------------------------------------------------ events
    def parse(self) -> _Event | None:
        """The next event, or ``None`` once the stream has ended."""
        if self.scanner.stream_end_produced or self.state == _S_END:
            return None
        state = self.state
        if state == _S_BLOCK_MAPPING_KEY:
            return self.parse_block_mapping_key(False)
        if state == _S_BLOCK_MAPPING_VALUE:
            return self.parse_block_mapping_value()
        if state in (_S_BLOCK_NODE, _S_BLOCK_NODE_OR_INDENTLESS_SEQUENCE, _S_FLOW_NODE):
            return self.parse_node(
                state != _S_FLOW_NODE, state == _S_BLOCK_NODE_OR_INDENTLESS_SEQUENCE
            )
        if state == _S_BLOCK_SEQUENCE_ENTRY:
            return self.parse_block_sequence_entry(False)
        if state == _S_BLOCK_MAPPING_FIRST_KEY:
            return self.parse_block_mapping_key(True)
        if state == _S_BLOCK_SEQUENCE_FIRST_ENTRY:
            return self.parse_block_sequence_entry(True)
        if state == _S_INDENTLESS_SEQUENCE_ENTRY:
            return self.parse_indentless_sequence_entry()
        if state == _S_STREAM_START:
            return self.parse_stream_start()
        if state == _S_IMPLICIT_DOCUMENT_START:
            return self.parse_document_start(True)
        if state == _S_DOCUMENT_START:
            return self.parse_document_start(False)
        if state == _S_DOCUMENT_CONTENT:
            return self.parse_document_content()
        if state == _S_DOCUMENT_END:
            return self.parse_document_end()
        if state == _S_FLOW_SEQUENCE_FIRST_ENTRY:
            return self.parse_flow_sequence_entry(True)
        if state == _S_FLOW_SEQUENCE_ENTRY:
            return self.parse_flow_sequence_entry(False)
        if state == _S_FLOW_SEQUENCE_ENTRY_MAPPING_KEY:
            return self.parse_flow_sequence_entry_mapping_key()
        if state == _S_FLOW_SEQUENCE_ENTRY_MAPPING_VALUE:
            return self.parse_flow_sequence_entry_mapping_value()
        if state == _S_FLOW_SEQUENCE_ENTRY_MAPPING_END:
            return self.parse_flow_sequence_entry_mapping_end()
        if state == _S_FLOW_MAPPING_FIRST_KEY:
            return self.parse_flow_mapping_key(True)
        if state == _S_FLOW_MAPPING_KEY:
            return self.parse_flow_mapping_key(False)
        if state == _S_FLOW_MAPPING_VALUE:
            return self.parse_flow_mapping_value(False)
        return self.parse_flow_mapping_value(True)

    def pop_state(self) -> None:
        self.state = self.states.pop()

    def parse_stream_start(self) -> _Event:
        token = self.peek_token()
        if token.typ != _T_STREAM_START:
            raise self.error("did not find expected <stream-start>", token.start)
        self.state = _S_IMPLICIT_DOCUMENT_START
        event = _Event(_E_STREAM_START, token.start, token.end)
        self.skip_token()
        return event

    def parse_document_start(self, implicit: bool) -> _Event:
        token = self.peek_token()
        if not implicit:
            while token.typ == _T_DOCUMENT_END:
                self.skip_token()
                token = self.peek_token()
        if implicit and token.typ not in (
            _T_VERSION_DIRECTIVE,
            _T_TAG_DIRECTIVE,
            _T_DOCUMENT_START,
            _T_STREAM_END,
        ):
            self.process_directives()
            self.states.append(_S_DOCUMENT_END)
            self.state = _S_BLOCK_NODE
            head_comment = ""
            hc = self.head_comment
            if hc:
                # The part of the head comment before its last empty line
                # belongs to the document; the rest to what follows.
                for i in range(len(hc) - 1, 0, -1):
                    if hc[i] == "\n":
                        if i == len(hc) - 1:
                            head_comment = hc[:i]
                            self.head_comment = hc[i + 1 :]
                            break
                        if hc[i - 1] == "\n":
                            head_comment = hc[: i - 1]
                            self.head_comment = hc[i + 1 :]
                            break
            event = _Event(_E_DOCUMENT_START, token.start, token.end)
            event.head = head_comment
            return event
        if token.typ != _T_STREAM_END:
            start = token.start
            self.process_directives()
            token = self.peek_token()
            if token.typ != _T_DOCUMENT_START:
                raise self.error("did not find expected <document start>", token.start)
            self.states.append(_S_DOCUMENT_END)
            self.state = _S_DOCUMENT_CONTENT
            event = _Event(_E_DOCUMENT_START, start, token.end)
            self.skip_token()
            return event
        self.state = _S_END
        event = _Event(_E_STREAM_END, token.start, token.end)
        self.skip_token()
        return event

    def parse_document_content(self) -> _Event:
        token = self.peek_token()
        if token.typ in (
            _T_VERSION_DIRECTIVE,
            _T_TAG_DIRECTIVE,
            _T_DOCUMENT_START,
            _T_DOCUMENT_END,
            _T_STREAM_END,
        ):
            self.pop_state()
            return self.empty_scalar(token.start)
        return self.parse_node(True, False)

    def parse_document_end(self) -> _Event:
        token = self.peek_token()
        start = token.start
        end = token.start
        if token.typ == _T_DOCUMENT_END:
            end = token.end
            self.skip_token()
        self.tag_directives = []
        self.state = _S_DOCUMENT_START
        event = _Event(_E_DOCUMENT_END, start, end)
        self.set_event_comments(event)
        if event.head and not event.foot:
            event.foot = event.head
            event.head = ""
        return event

    def parse_node(self, block: bool, indentless_sequence: bool) -> _Event:
        token = self.peek_token()
        if token.typ == _T_ALIAS:
            self.pop_state()
            event = _Event(_E_ALIAS, token.start, token.end)
            event.anchor = token.value
            self.set_event_comments(event)
            self.skip_token()
            return event
        start = end = token.start
        tag_token = False
        tag_handle = tag_suffix = anchor = ""
        tag_mark = _ZERO_MARK
        if token.typ == _T_ANCHOR:
            anchor = token.value
            start = token.start
            end = token.end
            self.skip_token()
            token = self.peek_token()
            if token.typ == _T_TAG:
                tag_token = True
                tag_handle = token.value
                tag_suffix = token.suffix
                tag_mark = token.start
                end = token.end
                self.skip_token()
                token = self.peek_token()
        elif token.typ == _T_TAG:
            tag_token = True
            tag_handle = token.value
            tag_suffix = token.suffix
            start = tag_mark = token.start
            end = token.end
            self.skip_token()
            token = self.peek_token()
            if token.typ == _T_ANCHOR:
                anchor = token.value
                end = token.end
                self.skip_token()
                token = self.peek_token()
        tag = ""
        if tag_token:
            if not tag_handle:
                tag = tag_suffix
            else:
                for handle, prefix in self.tag_directives:
                    if handle == tag_handle:
                        tag = prefix + tag_suffix
                        break
                if not tag:
                    raise self.error("found undefined tag handle", tag_mark, start)
        typ = token.typ
        if indentless_sequence and typ == _T_BLOCK_ENTRY:
            self.state = _S_INDENTLESS_SEQUENCE_ENTRY
            event = _Event(_E_SEQUENCE_START, start, token.end)
            event.anchor = anchor
            event.tag = tag
            event.style = 1
            return event
        if typ == _T_SCALAR:
            self.pop_state()
            event = _Event(_E_SCALAR, start, token.end)
            event.anchor = anchor
            event.tag = tag
            event.value = token.value
            event.style = token.style
            self.set_event_comments(event)
            self.skip_token()
            return event
        if typ in (_T_FLOW_SEQUENCE_START, _T_FLOW_MAPPING_START):
            seq = typ == _T_FLOW_SEQUENCE_START
            self.state = _S_FLOW_SEQUENCE_FIRST_ENTRY if seq else _S_FLOW_MAPPING_FIRST_KEY
            event = _Event(_E_SEQUENCE_START if seq else _E_MAPPING_START, start, token.end)
            event.anchor = anchor
            event.tag = tag
            event.style = _FLOW_STYLE
            self.set_event_comments(event)
            return event
        if block and (typ in (_T_BLOCK_SEQUENCE_START, _T_BLOCK_MAPPING_START)):
            seq = typ == _T_BLOCK_SEQUENCE_START
            self.state = _S_BLOCK_SEQUENCE_FIRST_ENTRY if seq else _S_BLOCK_MAPPING_FIRST_KEY
            event = _Event(_E_SEQUENCE_START if seq else _E_MAPPING_START, start, token.end)
            event.anchor = anchor
            event.tag = tag
            event.style = 1
            if self.stem_comment is not None:
                event.head = self.stem_comment
                self.stem_comment = None
            return event
        if anchor or tag:
            self.pop_state()
            event = _Event(_E_SCALAR, start, end)
            event.anchor = anchor
            event.tag = tag
            event.style = _PLAIN
            return event
        # (yaml.v3's context, "while parsing a block/flow node", is not printed)
        raise self.error("did not find expected node content", token.start, start)

    def split_stem_comment(self, stem_len: int) -> None:
        if stem_len == 0:
            return
        token = self.peek_token()
        if token.typ not in (_T_BLOCK_SEQUENCE_START, _T_BLOCK_MAPPING_START):
            return
        self.stem_comment = self.head_comment[:stem_len]
        if len(self.head_comment) == stem_len:
            self.head_comment = ""
        else:
            self.head_comment = self.head_comment[stem_len + 1 :]

    def parse_block_sequence_entry(self, first: bool) -> _Event:
        if first:
            token = self.peek_token()
            self.marks.append(token.start)
            self.skip_token()
        token = self.peek_token()
        if token.typ == _T_BLOCK_ENTRY:
            mark = token.end
            prior_head_len = len(self.head_comment)
            self.skip_token()
            self.split_stem_comment(prior_head_len)
            token = self.peek_token()
            if token.typ not in (_T_BLOCK_ENTRY, _T_BLOCK_END):
                self.states.append(_S_BLOCK_SEQUENCE_ENTRY)
                return self.parse_node(True, False)
            self.state = _S_BLOCK_SEQUENCE_ENTRY
            return self.empty_scalar(mark)
        if token.typ == _T_BLOCK_END:
            self.pop_state()
            self.marks.pop()
            event = _Event(_E_SEQUENCE_END, token.start, token.end)
            self.skip_token()
            return event
        context_mark = self.marks.pop()
        raise self.error("did not find expected '-' indicator", token.start, context_mark)

    def parse_indentless_sequence_entry(self) -> _Event:
        token = self.peek_token()
        if token.typ == _T_BLOCK_ENTRY:
            mark = token.end
            prior_head_len = len(self.head_comment)
            self.skip_token()
            self.split_stem_comment(prior_head_len)
            token = self.peek_token()
            if token.typ not in (_T_BLOCK_ENTRY, _T_KEY, _T_VALUE, _T_BLOCK_END):
                self.states.append(_S_INDENTLESS_SEQUENCE_ENTRY)
                return self.parse_node(True, False)
            self.state = _S_INDENTLESS_SEQUENCE_ENTRY
            return self.empty_scalar(mark)
        self.pop_state()
        return _Event(_E_SEQUENCE_END, token.start, token.start)

    def parse_block_mapping_key(self, first: bool) -> _Event:
        if first:
            token = self.peek_token()
            self.marks.append(token.start)
            self.skip_token()
        token = self.peek_token()
        if token.typ == _T_KEY:
            mark = token.end
            self.skip_token()
            token = self.peek_token()
            if token.typ not in (_T_KEY, _T_VALUE, _T_BLOCK_END):
                self.states.append(_S_BLOCK_MAPPING_VALUE)
                return self.parse_node(True, True)
            self.state = _S_BLOCK_MAPPING_VALUE
            return self.empty_scalar(mark)
        if token.typ == _T_BLOCK_END:
            self.pop_state()
            self.marks.pop()
            event = _Event(_E_MAPPING_END, token.start, token.end)
            self.set_event_comments(event)
            self.skip_token()
            return event
        context_mark = self.marks.pop()
        raise self.error("did not find expected key", token.start, context_mark)

    def parse_block_mapping_value(self) -> _Event:
        token = self.peek_token()
        if token.typ == _T_VALUE:
            mark = token.end
            self.skip_token()
            token = self.peek_token()
            if token.typ not in (_T_KEY, _T_VALUE, _T_BLOCK_END):
                self.states.append(_S_BLOCK_MAPPING_KEY)
                return self.parse_node(True, True)
            self.state = _S_BLOCK_MAPPING_KEY
            return self.empty_scalar(mark)
        self.state = _S_BLOCK_MAPPING_KEY
        return self.empty_scalar(token.start)

    def parse_flow_sequence_entry(self, first: bool) -> _Event:
        if first:
            token = self.peek_token()
            self.marks.append(token.start)
            self.skip_token()
        token = self.peek_token()
        if token.typ != _T_FLOW_SEQUENCE_END:
            if not first:
                if token.typ == _T_FLOW_ENTRY:
                    self.skip_token()
                    token = self.peek_token()
                else:
                    context_mark = self.marks.pop()
                    raise self.error("did not find expected ',' or ']'", token.start, context_mark)
            if token.typ == _T_KEY:
                self.state = _S_FLOW_SEQUENCE_ENTRY_MAPPING_KEY
                event = _Event(_E_MAPPING_START, token.start, token.end)
                event.style = _FLOW_STYLE
                self.skip_token()
                return event
            if token.typ != _T_FLOW_SEQUENCE_END:
                self.states.append(_S_FLOW_SEQUENCE_ENTRY)
                return self.parse_node(False, False)
        self.pop_state()
        self.marks.pop()
        event = _Event(_E_SEQUENCE_END, token.start, token.end)
        self.set_event_comments(event)
        self.skip_token()
        return event

    def parse_flow_sequence_entry_mapping_key(self) -> _Event:
        token = self.peek_token()
        if token.typ not in (_T_VALUE, _T_FLOW_ENTRY, _T_FLOW_SEQUENCE_END):
            self.states.append(_S_FLOW_SEQUENCE_ENTRY_MAPPING_VALUE)
            return self.parse_node(False, False)
        mark = token.end
        self.skip_token()
        self.state = _S_FLOW_SEQUENCE_ENTRY_MAPPING_VALUE
        return self.empty_scalar(mark)

    def parse_flow_sequence_entry_mapping_value(self) -> _Event:
        token = self.peek_token()
        if token.typ == _T_VALUE:
            self.skip_token()
            token = self.peek_token()
            if token.typ not in (_T_FLOW_ENTRY, _T_FLOW_SEQUENCE_END):
                self.states.append(_S_FLOW_SEQUENCE_ENTRY_MAPPING_END)
                return self.parse_node(False, False)
        self.state = _S_FLOW_SEQUENCE_ENTRY_MAPPING_END
        return self.empty_scalar(token.start)

    def parse_flow_sequence_entry_mapping_end(self) -> _Event:
        token = self.peek_token()
        self.state = _S_FLOW_SEQUENCE_ENTRY
        return _Event(_E_MAPPING_END, token.start, token.start)

    def parse_flow_mapping_key(self, first: bool) -> _Event:
        if first:
            token = self.peek_token()
            self.marks.append(token.start)
            self.skip_token()
        token = self.peek_token()
        if token.typ != _T_FLOW_MAPPING_END:
            if not first:
                if token.typ == _T_FLOW_ENTRY:
                    self.skip_token()
                    token = self.peek_token()
                else:
                    context_mark = self.marks.pop()
                    raise self.error("did not find expected ',' or '}'", token.start, context_mark)
            if token.typ == _T_KEY:
                self.skip_token()
                token = self.peek_token()
                if token.typ not in (_T_VALUE, _T_FLOW_ENTRY, _T_FLOW_MAPPING_END):
                    self.states.append(_S_FLOW_MAPPING_VALUE)
                    return self.parse_node(False, False)
                self.state = _S_FLOW_MAPPING_VALUE
                return self.empty_scalar(token.start)
            if token.typ != _T_FLOW_MAPPING_END:
                self.states.append(_S_FLOW_MAPPING_EMPTY_VALUE)
                return self.parse_node(False, False)
        self.pop_state()
        self.marks.pop()
        event = _Event(_E_MAPPING_END, token.start, token.end)
        self.set_event_comments(event)
        self.skip_token()
        return event

    def parse_flow_mapping_value(self, empty: bool) -> _Event:
        token = self.peek_token()
        if empty:
            self.state = _S_FLOW_MAPPING_KEY
            return self.empty_scalar(token.start)
        if token.typ == _T_VALUE:
            self.skip_token()
            token = self.peek_token()
            if token.typ not in (_T_FLOW_ENTRY, _T_FLOW_MAPPING_END):
                self.states.append(_S_FLOW_MAPPING_KEY)
                return self.parse_node(False, False)
        self.state = _S_FLOW_MAPPING_KEY
        return self.empty_scalar(token.start)

    def empty_scalar(self, mark: _Mark) -> _Event:
        event = _Event(_E_SCALAR, mark, mark)
        event.style = _PLAIN
        return event

    def process_directives(self) -> None:
        token = self.peek_token()
        version_seen = False
        while token.typ in (_T_VERSION_DIRECTIVE, _T_TAG_DIRECTIVE):
            if token.typ == _T_VERSION_DIRECTIVE:
                if version_seen:
                    raise self.error("found duplicate %YAML directive", token.start)
                if token.value != (1, 1):
                    raise self.error("found incompatible YAML document", token.start)
                version_seen = True
            else:
                self.append_tag_directive(token.value, token.suffix, False, token.start)
            self.skip_token()
            token = self.peek_token()
        for handle, prefix in _DEFAULT_TAG_DIRECTIVES:
            self.append_tag_directive(handle, prefix, True, token.start)

    def append_tag_directive(
        self, handle: str, prefix: str, allow_duplicates: bool, mark: _Mark
    ) -> None:
        for existing, _ in self.tag_directives:
            if existing == handle:
                if allow_duplicates:
                    return
                raise self.error("found duplicate %TAG directive", mark)
        self.tag_directives.append((handle, prefix))


# ============================================================================ nodes

_DOCUMENT_NODE = 1
_SEQUENCE_NODE = 2
_MAPPING_NODE = 3
_SCALAR_NODE = 4
_ALIAS_NODE = 5

_STR_TAG = "!!str"
_NULL_TAG = "!!null"
_BOOL_TAG = "!!bool"
_INT_TAG = "!!int"
_FLOAT_TAG = "!!float"
_TIMESTAMP_TAG = "!!timestamp"
_SEQ_TAG = "!!seq"
_MAP_TAG = "!!map"
_BINARY_TAG = "!!binary"
_MERGE_TAG = "!!merge"
_LONG_TAG_PREFIX = "tag:yaml.org,2002:"

_STYLE_TAGGED = 1
_STYLE_QUOTED_OR_BLOCK = 2  # single/double quoted, literal or folded
_STYLE_FLOW = 4


def _short_tag(tag: str) -> str:
    if tag.startswith(_LONG_TAG_PREFIX):
        return "!!" + tag[len(_LONG_TAG_PREFIX) :]
    return tag


class _Node:
    __slots__ = (
        "alias",
        "anchor",
        "content",
        "foot",
        "head",
        "kind",
        "line",
        "line_no",
        "resolved",
        "style",
        "tag",
        "value",
    )

    def __init__(self, kind: int, tag: str, value: str, style: int, line_no: int) -> None:
        self.kind = kind
        self.tag = tag
        self.value = value
        self.style = style
        self.line_no = line_no
        self.anchor = ""
        self.alias: _Node | None = None
        self.content: list[_Node] = []
        self.head = ""
        self.line = ""
        self.foot = ""
        self.resolved: Any = None  # the value resolved for a plain, untagged scalar

    def indicated_string(self) -> bool:
        return self.kind == _SCALAR_NODE and (
            _short_tag(self.tag) == _STR_TAG
            or (self.tag in ("", "!") and bool(self.style & _STYLE_QUOTED_OR_BLOCK))
        )

    def short_tag(self) -> str:
        if self.indicated_string():
            return _STR_TAG
        if self.tag in ("", "!"):
            if self.kind == _MAPPING_NODE:
                return _MAP_TAG
            if self.kind == _SEQUENCE_NODE:
                return _SEQ_TAG
            if self.kind == _ALIAS_NODE and self.alias is not None:
                return self.alias.short_tag()
            if self.kind == _SCALAR_NODE:
                return _resolve("", self.value)[0]
            return ""
        return _short_tag(self.tag)


class _Composer:
    """yaml.v3's decode.go ``parser``: events → ``Node`` documents."""

    def __init__(self, text: str) -> None:
        self.parser = _Parser(text)
        self.event: _Event | None = None
        self.anchors: dict[str, _Node] = {}
        self.started = False

    def peek(self) -> int:
        if self.event is None:
            self.event = self.parser.parse()
            if self.event is None:
                return _E_STREAM_END
        return self.event.typ

    def expect(self, typ: int) -> _Event:
        self.peek()
        event = self.event
        if event is None or event.typ != typ:  # pragma: no cover - the parser guarantees it
            raise _YamlFailure("yaml: unexpected event")
        self.event = None
        return event

    def next_document(self) -> _Node | None:
        """The next document node, or ``None`` at the end of the stream."""
        if not self.started:
            self.expect(_E_STREAM_START)
            self.started = True
        if self.peek() == _E_STREAM_END:
            return None
        return self.parse()

    def parse(self) -> _Node:
        typ = self.peek()
        if typ == _E_SCALAR:
            return self.scalar()
        if typ == _E_MAPPING_START:
            return self.mapping()
        if typ == _E_SEQUENCE_START:
            return self.sequence()
        if typ == _E_ALIAS:
            return self.alias()
        if typ == _E_DOCUMENT_START:
            return self.document()
        raise AssertionError("unexpected event")  # pragma: no cover

    def node(self, event: _Event, kind: int, default_tag: str, tag: str, value: str) -> _Node:
        style = 0
        resolved: Any = None
        if tag and tag != "!":
            tag = _short_tag(tag)
            style = _STYLE_TAGGED
        elif default_tag:
            tag = default_tag
        elif kind == _SCALAR_NODE:
            tag, resolved = _resolve("", value)
        n = _Node(kind, tag, value, style, event.start[1] + 1)
        n.resolved = resolved
        n.head = event.head
        n.line = event.line
        n.foot = event.foot
        return n

    def document(self) -> _Node:
        event = self.expect(_E_DOCUMENT_START)
        n = self.node(event, _DOCUMENT_NODE, "", "", "")
        n.content.append(self.parse())
        if self.peek() == _E_DOCUMENT_END and self.event is not None:
            n.foot = self.event.foot
        self.expect(_E_DOCUMENT_END)
        return n

    def alias(self) -> _Node:
        event = self.expect(_E_ALIAS)
        n = self.node(event, _ALIAS_NODE, "", "", event.anchor)
        target = self.anchors.get(event.anchor)
        if target is None:
            raise _YamlFailure(f"yaml: unknown anchor '{event.anchor}' referenced")
        n.alias = target
        return n

    def scalar(self) -> _Node:
        event = self.expect(_E_SCALAR)
        value = event.value
        quoted_or_block = event.style != _PLAIN
        default_tag = _STR_TAG if quoted_or_block else _MERGE_TAG if value == "<<" else ""
        n = self.node(event, _SCALAR_NODE, default_tag, event.tag, value)
        if quoted_or_block:
            n.style |= _STYLE_QUOTED_OR_BLOCK
        if event.anchor:
            n.anchor = event.anchor
            self.anchors[event.anchor] = n
        return n

    def sequence(self) -> _Node:
        event = self.expect(_E_SEQUENCE_START)
        n = self.node(event, _SEQUENCE_NODE, _SEQ_TAG, event.tag, "")
        if event.style == _FLOW_STYLE:
            n.style |= _STYLE_FLOW
        if event.anchor:
            n.anchor = event.anchor
            self.anchors[event.anchor] = n
        while self.peek() != _E_SEQUENCE_END:
            n.content.append(self.parse())
        end = self.expect(_E_SEQUENCE_END)
        n.line = end.line
        n.foot = end.foot
        return n

    def mapping(self) -> _Node:
        event = self.expect(_E_MAPPING_START)
        n = self.node(event, _MAPPING_NODE, _MAP_TAG, event.tag, "")
        block = event.style != _FLOW_STYLE
        if not block:
            n.style |= _STYLE_FLOW
        if event.anchor:
            n.anchor = event.anchor
            self.anchors[event.anchor] = n
        content = n.content
        while self.peek() != _E_MAPPING_END:
            k = self.parse()
            content.append(k)
            if block and k.foot and len(content) > 2:
                # A foot comment on a key, when dedented, belongs to the
                # value before it.
                content[-3].foot = k.foot
                k.foot = ""
            v = self.parse()
            content.append(v)
            if not k.foot and v.foot:
                k.foot = v.foot
                v.foot = ""
        end = self.expect(_E_MAPPING_END)
        n.line = end.line
        n.foot = end.foot
        if block and n.foot and len(content) > 1:
            content[-2].foot = n.foot
            n.foot = ""
        return n


# ============================================================================ resolver

_NAN = float("nan")
_INF = float("inf")
_RESOLVE_MAP: dict[str, tuple[str, Any]] = {
    "true": (_BOOL_TAG, True),
    "True": (_BOOL_TAG, True),
    "TRUE": (_BOOL_TAG, True),
    "false": (_BOOL_TAG, False),
    "False": (_BOOL_TAG, False),
    "FALSE": (_BOOL_TAG, False),
    "": (_NULL_TAG, None),
    "~": (_NULL_TAG, None),
    "null": (_NULL_TAG, None),
    "Null": (_NULL_TAG, None),
    "NULL": (_NULL_TAG, None),
    ".nan": (_FLOAT_TAG, _NAN),
    ".NaN": (_FLOAT_TAG, _NAN),
    ".NAN": (_FLOAT_TAG, _NAN),
    ".inf": (_FLOAT_TAG, _INF),
    ".Inf": (_FLOAT_TAG, _INF),
    ".INF": (_FLOAT_TAG, _INF),
    "+.inf": (_FLOAT_TAG, _INF),
    "+.Inf": (_FLOAT_TAG, _INF),
    "+.INF": (_FLOAT_TAG, _INF),
    "-.inf": (_FLOAT_TAG, -_INF),
    "-.Inf": (_FLOAT_TAG, -_INF),
    "-.INF": (_FLOAT_TAG, -_INF),
    "<<": (_MERGE_TAG, "<<"),
}
# resolve.go's hint table: what the first character says about the scalar.
_HINT_DIGIT = 1
_HINT_SIGN = 2
_HINT_MAP = 3
_HINT_DOT = 4
_HINTS: dict[str, int] = dict.fromkeys("0123456789", _HINT_DIGIT)
_HINTS.update({"+": _HINT_SIGN, "-": _HINT_SIGN, ".": _HINT_DOT})
_HINTS.update(dict.fromkeys("yYnNtTfFoO~", _HINT_MAP))
_RESOLVABLE = frozenset(("", _STR_TAG, _BOOL_TAG, _INT_TAG, _FLOAT_TAG, _NULL_TAG, _TIMESTAMP_TAG))
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_UINT64_MAX = 2**64 - 1
_DIGITS_OF_BASE = {
    2: frozenset("01"),
    8: frozenset("01234567"),
    10: frozenset("0123456789"),
    16: frozenset("0123456789abcdefABCDEF"),
}


class _DecodeError(Exception):
    """A yaml.v3 ``failf`` inside the decoder (``text`` is the Go message,
    already free of content)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _go_parse_uint(s: str, base: int = 0) -> int | None:
    """Go's ``strconv.ParseUint(s, base, 64)`` (no underscores: callers strip them)."""
    if not s:
        return None
    if base == 0:
        base = 10
        if s[0] == "0":
            low = s[1:2].lower()
            if len(s) >= 3 and low == "b":
                base, s = 2, s[2:]
            elif len(s) >= 3 and low == "o":
                base, s = 8, s[2:]
            elif len(s) >= 3 and low == "x":
                base, s = 16, s[2:]
            else:
                base, s = 8, s[1:]
                if not s:
                    return 0
    digits = _DIGITS_OF_BASE[base]
    if not s or any(c not in digits for c in s):
        return None
    value = int(s, base)
    return value if value <= _UINT64_MAX else None


def _go_parse_int(s: str, base: int = 0) -> int | None:
    """Go's ``strconv.ParseInt(s, base, 64)``."""
    if not s:
        return None
    sign = 1
    body = s
    if s[0] in "+-":
        sign = -1 if s[0] == "-" else 1
        body = s[1:]
    magnitude = _go_parse_uint(body, base)
    if magnitude is None:
        return None
    value = sign * magnitude
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def _go_parse_float(s: str) -> float | None:
    """Go's ``strconv.ParseFloat(s, 64)`` for the decimal forms resolve.go
    hands it; ``None`` on a syntax or range error."""
    try:
        value = float(s.replace("_", ""))
    except ValueError:
        return None
    if value in (_INF, -_INF):
        return None  # out of range: Go returns ±Inf *and* an error
    return value


def _days_in(month: int, year: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _parse_timestamp(s: str) -> GoTime | None:
    """resolve.go's ``parseTimestamp``: Go's ``time.Parse`` with the layouts
    ``2006-1-2T15:4:5.999999999Z07:00`` (also ``t``), ``2006-1-2
    15:4:5.999999999`` (UTC) and ``2006-1-2``; the result as ``MarshalText``
    writes it."""
    if len(s) < 5 or s[4] != "-" or not s[:4].isdigit() or not s[:4].isascii():
        return None
    m = _pat("timestamp").fullmatch(s)
    if m is None:
        return None
    year_s, month_s, day_s, tee, hour_s, minute_s, second_s, frac, zone = m.groups()
    if hour_s is None:
        hour = minute = second = 0
    else:
        if tee is not None and zone is None:
            return None  # the "T" layouts need a zone
        if tee is None and zone is not None:
            return None  # the space layout has none
        hour, minute, second = int(hour_s), int(minute_s), int(second_s)
    year, month, day = int(year_s), int(month_s), int(day_s)
    if not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 59:
        return None
    if not 1 <= day <= _days_in(month, year):
        return None
    offset_text = "Z"
    if zone is not None and zone != "Z":
        zh, zm = int(zone[1:3]), int(zone[4:6])
        if zh > 24 or zm > 60:
            return None
        if zh or zm:
            offset_text = f"{zone[0]}{zh:02d}:{zm:02d}"
    fraction = ""
    if frac:
        nanos = (frac[:9] + "000000000")[:9].rstrip("0")
        if nanos:
            fraction = "." + nanos
    return GoTime(
        f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{fraction}{offset_text}"
    )


def _resolve_plain(value: str) -> tuple[str, Any]:
    """``resolve("", value)``: the tag and Go value of a plain scalar."""
    hint = _HINTS.get(value[:1], 0) if value else _HINT_MAP
    if not hint:
        return _STR_TAG, value
    item = _RESOLVE_MAP.get(value)
    if item is not None:
        return item
    if hint == _HINT_DOT:
        if _pat("dot_float").fullmatch(value):
            f = _go_parse_float(value)
            if f is not None:
                return _FLOAT_TAG, f
        return _STR_TAG, value
    if hint == _HINT_MAP:
        return _STR_TAG, value
    return _resolve_number(value, True)


def _resolve_number(value: str, try_timestamp: bool) -> tuple[str, Any]:
    if try_timestamp:
        t = _parse_timestamp(value)
        if t is not None:
            return _TIMESTAMP_TAG, t
    plain = value.replace("_", "")
    i = _go_parse_int(plain)
    if i is not None:
        return _INT_TAG, i
    u = _go_parse_uint(plain)
    if u is not None:
        return _INT_TAG, Uint64(u)
    if _pat("float").fullmatch(plain):
        f = _go_parse_float(plain)
        if f is not None:
            return _FLOAT_TAG, f
    for prefix, base, sign in (("0b", 2, ""), ("-0b", 2, "-"), ("0o", 8, ""), ("-0o", 8, "-")):
        if plain.startswith(prefix):
            i = _go_parse_int(sign + plain[len(prefix) :], base)
            if i is not None:
                return _INT_TAG, i
            if not sign:
                u = _go_parse_uint(plain[len(prefix) :], base)
                if u is not None:
                    return _INT_TAG, Uint64(u)
            break
    return _STR_TAG, value


def _resolve(tag: str, value: str) -> tuple[str, Any]:
    """resolve.go's ``resolve(tag, in)``; raises :class:`_DecodeError` when an
    explicit tag does not fit the value."""
    tag = _short_tag(tag)
    if tag not in _RESOLVABLE:
        return tag, value
    if tag == "":
        return _resolve_plain(value)
    if tag == _STR_TAG:
        return _STR_TAG, value
    hint = _HINTS.get(value[:1], 0) if value else _HINT_MAP
    rtag: str
    out: Any
    if not hint:
        rtag, out = _STR_TAG, value
    else:
        item = _RESOLVE_MAP.get(value)
        if item is not None:
            rtag, out = item
        elif hint == _HINT_DOT:
            f = _go_parse_float(value) if _pat("dot_float").fullmatch(value) else None
            rtag, out = (_FLOAT_TAG, f) if f is not None else (_STR_TAG, value)
        elif hint == _HINT_MAP:
            rtag, out = _STR_TAG, value
        else:
            rtag, out = _resolve_number(value, tag == _TIMESTAMP_TAG)
    if rtag == tag:
        return rtag, out
    if tag == _FLOAT_TAG and rtag == _INT_TAG and not isinstance(out, Uint64):
        return _FLOAT_TAG, float(out)
    raise _DecodeError(f"yaml: cannot decode {rtag} `{_REDACTED}` as a {tag}")


def _decode_binary(text: str) -> bytes:
    import base64
    import binascii

    cleaned = text.replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise _DecodeError("yaml: !!binary value contains invalid base64 data") from None


def _scalar_value(n: _Node) -> Any:
    """``node.Decode(&interface{})`` for a scalar node: its Go value."""
    if n.indicated_string():
        return n.value
    if not n.style & _STYLE_TAGGED and n.tag != _MERGE_TAG:
        return n.resolved
    tag, resolved = _resolve(n.tag, n.value)
    if tag == _BINARY_TAG:
        return _decode_binary(resolved)
    return resolved


# ============================================================================ decoder checks


def _excessive_aliasing(decode_count: int, alias_count: int) -> bool:
    if alias_count <= 100 or decode_count <= 1000:
        return False
    if decode_count <= 400_000:
        allowed = 0.99
    elif decode_count >= 4_000_000:
        allowed = 0.10
    else:
        allowed = 0.99 - 0.89 * ((decode_count - 400_000) / 3_600_000)
    return alias_count / decode_count > allowed


# Go destination types the checks decode into.
_OUT_ROOT_MAP = "map[string]interface {}"  # the non-addressable map sops passes
_OUT_IFACE = "interface {}"
_OUT_STRING = "string"
_OUT_SOPSFILE = "stores.SopsFile"
_OUT_METADATA = "stores.Metadata"


_STRING_PTR_MAP = "map[string]*string"
_YAML11_BOOLS = frozenset(
    (
        "y",
        "Y",
        "yes",
        "Yes",
        "YES",
        "on",
        "On",
        "ON",
        "n",
        "N",
        "no",
        "No",
        "NO",
        "off",
        "Off",
        "OFF",
    )
)


def _fields(**kinds: str) -> dict[str, str]:
    return kinds


# sops' metadata structs (stores/stores.go) as yaml.v3 sees them: field → Go type.
_METADATA_STRUCTS: dict[str, dict[str, str]] = {
    "stores.agekey": _fields(recipient="string", enc="string"),
    "stores.pgpkey": _fields(created_at="string", enc="string", fp="string"),
    "stores.kmskey": _fields(
        arn="string",
        role="string",
        context=_STRING_PTR_MAP,
        created_at="string",
        enc="string",
        aws_profile="string",
    ),
    "stores.gcpkmskey": _fields(resource_id="string", created_at="string", enc="string"),
    "stores.azkvkey": _fields(
        vault_url="string", name="string", version="string", created_at="string", enc="string"
    ),
    "stores.vaultkey": _fields(
        vault_address="string",
        engine_path="string",
        key_name="string",
        created_at="string",
        enc="string",
    ),
    "stores.hckmskey": _fields(key_id="string", created_at="string", enc="string"),
}
_KEY_LISTS = _fields(
    kms="[]stores.kmskey",
    gcp_kms="[]stores.gcpkmskey",
    hckms="[]stores.hckmskey",
    azure_kv="[]stores.azkvkey",
    hc_vault="[]stores.vaultkey",
    age="[]stores.agekey",
    pgp="[]stores.pgpkey",
)
_METADATA_STRUCTS["stores.keygroup"] = dict(_KEY_LISTS)
_METADATA_STRUCTS["stores.Metadata"] = {
    **_KEY_LISTS,
    "shamir_threshold": "int",
    "key_groups": "[]stores.keygroup",
    "lastmodified": "string",
    "mac": "string",
    "unencrypted_suffix": "string",
    "encrypted_suffix": "string",
    "unencrypted_regex": "string",
    "encrypted_regex": "string",
    "unencrypted_comment_regex": "string",
    "encrypted_comment_regex": "string",
    "mac_only_encrypted": "bool",
    "version": "string",
}


class _GoDecoder:
    """The parts of yaml.v3's ``decoder`` that sops' first passes run: they
    only decide whether loading fails, and with which message."""

    def __init__(self) -> None:
        self.terrors: list[str] = []
        self.decode_count = 0
        self.alias_count = 0
        self.alias_depth = 0
        self.expanding: set[int] = set()
        self.metadata: _Node | None = None
        self.metadata_set = False
        self.merge_depth = 0

    def result(self) -> str | None:
        if self.terrors:
            return "yaml: unmarshal errors:\n  " + "\n  ".join(self.terrors)
        return None

    def terror(self, n: _Node, tag: str, out: str) -> None:
        if n.tag:
            tag = n.tag
        shown = ""
        if tag not in (_SEQ_TAG, _MAP_TAG):
            shown = f" `{_REDACTED}`"
        self.terrors.append(
            f"line {n.line_no}: cannot unmarshal {_short_tag(tag)}{shown} into {out}"
        )

    def unmarshal(self, n: _Node, out: str) -> bool:
        self.decode_count += 1
        if self.alias_depth > 0:
            self.alias_count += 1
        if _excessive_aliasing(self.decode_count, self.alias_count):
            raise _DecodeError("yaml: document contains excessive aliasing")
        kind = n.kind
        if kind == _DOCUMENT_NODE:
            if len(n.content) == 1:
                self.unmarshal(n.content[0], out)
                return True
            return False
        if kind == _ALIAS_NODE:
            return self.alias(n, out)
        if kind == _SCALAR_NODE:
            return self.scalar(n, out)
        if kind == _MAPPING_NODE:
            return self.mapping(n, out)
        return self.sequence(n, out)

    def alias(self, n: _Node, out: str) -> bool:
        if id(n) in self.expanding:
            raise _DecodeError(f"yaml: anchor '{n.value}' value contains itself")
        self.expanding.add(id(n))
        self.alias_depth += 1
        good = self.unmarshal(_target(n), out)
        self.alias_depth -= 1
        self.expanding.discard(id(n))
        return good

    def scalar(self, n: _Node, out: str) -> bool:
        if n.indicated_string():
            tag, resolved = _STR_TAG, n.value
        elif not n.style & _STYLE_TAGGED and n.tag != _MERGE_TAG:
            tag, resolved = n.tag, n.resolved
        else:
            tag, resolved = _resolve(n.tag, n.value)
            if tag == _BINARY_TAG:
                _decode_binary(resolved)
        if resolved is None:
            # d.null(): only an addressable interface (or pointer) takes a nil.
            return out == _OUT_IFACE
        if out in (_OUT_STRING, _OUT_IFACE):
            return True
        self.terror(n, tag, out)
        return False

    def sequence(self, n: _Node, out: str) -> bool:
        if out != _OUT_IFACE:
            self.terror(n, _SEQ_TAG, out)
            return False
        for item in n.content:
            self.unmarshal(item, _OUT_IFACE)
        return True

    def mapping(self, n: _Node, out: str) -> bool:
        content = n.content
        if self.duplicate_keys(n):
            return False
        if out == _OUT_STRING:
            self.terror(n, _MAP_TAG, out)
            return False
        if out in (_OUT_SOPSFILE, _OUT_METADATA):
            return self.mapping_struct(n, out)
        key_out = _OUT_STRING if out == _OUT_ROOT_MAP or _is_string_map(n) else _OUT_IFACE
        merge: _Node | None = None
        for i in range(0, len(content), 2):
            key = content[i]
            if _is_merge(key):
                merge = content[i + 1]
                continue
            if self.unmarshal(key, key_out):
                if key_out == _OUT_IFACE and _decodes_to_collection(key):
                    raise _DecodeError(f"yaml: invalid map key: {_REDACTED}")
                self.unmarshal(content[i + 1], _OUT_IFACE)
        if merge is not None:
            self.merge(merge, out)
        return True

    def mapping_struct(self, n: _Node, out: str) -> bool:
        content = n.content
        merge: _Node | None = None
        for i in range(0, len(content), 2):
            key = content[i]
            if _is_merge(key):
                merge = content[i + 1]
                continue
            if not self.unmarshal(key, _OUT_STRING):
                continue
            if out == _OUT_SOPSFILE and _key_text(key) == SOPS_KEY:
                if self.metadata_set and self.merge_depth:
                    continue  # a merged key never overrides one set directly
                self.unmarshal_metadata(content[i + 1])
        if merge is not None:
            self.merge_depth += 1
            self.merge(merge, out)
            self.merge_depth -= 1
        return True

    def unmarshal_metadata(self, value: _Node) -> None:
        target = value
        while target.kind == _ALIAS_NODE:
            target = _target(target)
        if target.short_tag() == _NULL_TAG:
            self.metadata = None
            self.metadata_set = True
            return
        if target.kind == _MAPPING_NODE:
            self.metadata = target
            self.metadata_set = True
            self.check_metadata(target, _OUT_METADATA)
            return
        self.unmarshal(target, _OUT_METADATA)

    def check_metadata(self, n: _Node, typ: str) -> None:
        """Decode ``n`` into the Go type ``typ`` of sops' metadata structs
        (``stores.Metadata`` and the key structs): only the errors matter."""
        self.decode_count += 1
        if self.alias_depth > 0:
            self.alias_count += 1
        if _excessive_aliasing(self.decode_count, self.alias_count):
            raise _DecodeError("yaml: document contains excessive aliasing")
        kind = n.kind
        if kind == _ALIAS_NODE:
            if id(n) in self.expanding:
                raise _DecodeError(f"yaml: anchor '{n.value}' value contains itself")
            self.expanding.add(id(n))
            self.alias_depth += 1
            self.check_metadata(_target(n), typ)
            self.alias_depth -= 1
            self.expanding.discard(id(n))
            return
        if kind == _SCALAR_NODE:
            if n.indicated_string():
                tag, resolved = _STR_TAG, n.value
            else:
                tag, resolved = _resolve(n.tag, n.value)
                if tag == _BINARY_TAG:
                    _decode_binary(resolved)
            if resolved is None or typ == "string":
                return
            if typ == "int":
                if isinstance(resolved, int) and not isinstance(resolved, bool):
                    if resolved <= _INT64_MAX:
                        return
                elif isinstance(resolved, float) and resolved <= _INT64_MAX:
                    return
            elif typ == "bool" and (isinstance(resolved, bool) or resolved in _YAML11_BOOLS):
                return
            self.terror(n, tag, typ)
            return
        if kind == _SEQUENCE_NODE:
            if not typ.startswith("[]"):
                self.terror(n, _SEQ_TAG, typ)
                return
            for item in n.content:
                self.check_metadata(item, typ[2:])
            return
        # A mapping.
        if self.duplicate_keys(n):
            return
        fields = _METADATA_STRUCTS.get(typ)
        if fields is None and typ != _STRING_PTR_MAP:
            self.terror(n, _MAP_TAG, typ)
            return
        content = n.content
        for i in range(0, len(content), 2):
            key = content[i]
            if _is_merge(key):
                continue
            if not self.unmarshal(key, _OUT_STRING):
                continue
            if fields is None:
                self.check_metadata(content[i + 1], "string")
            else:
                field = fields.get(_key_text(key))
                if field is not None:
                    self.check_metadata(content[i + 1], field)

    def mapping_dups_only(self, n: _Node) -> None:
        self.duplicate_keys(n)

    def duplicate_keys(self, n: _Node) -> bool:
        """yaml.v3's unique-key check; the errors come in its (i, j) order."""
        content = n.content
        groups: dict[tuple[int, str], list[int]] = {}
        dup = False
        for i in range(0, len(content), 2):
            key = content[i]
            group = groups.setdefault((key.kind, key.value), [])
            group.append(i)
            dup = dup or len(group) > 1
        if not dup:
            return False
        pairs = sorted(
            (i, j) for group in groups.values() for a, i in enumerate(group) for j in group[a + 1 :]
        )
        for i, j in pairs:
            self.terrors.append(
                f"line {content[j].line_no}: mapping key {_go_quote(content[j].value)} "
                f"already defined at line {content[i].line_no}"
            )
        return True

    def merge(self, merge: _Node, out: str) -> None:
        kind = merge.kind
        if kind == _MAPPING_NODE:
            self.unmarshal(merge, out)
        elif kind == _ALIAS_NODE:
            if merge.alias is not None and merge.alias.kind != _MAPPING_NODE:
                raise _DecodeError("yaml: map merge requires map or sequence of maps as the value")
            self.unmarshal(merge, out)
        elif kind == _SEQUENCE_NODE:
            for item in merge.content:
                if item.kind == _ALIAS_NODE:
                    if item.alias is not None and item.alias.kind != _MAPPING_NODE:
                        raise _DecodeError(
                            "yaml: map merge requires map or sequence of maps as the value"
                        )
                elif item.kind != _MAPPING_NODE:
                    raise _DecodeError(
                        "yaml: map merge requires map or sequence of maps as the value"
                    )
                self.unmarshal(item, out)
        else:
            raise _DecodeError("yaml: map merge requires map or sequence of maps as the value")


def _go_quote(value: str) -> str:
    """Go's ``%#v`` of a string (``strconv.Quote``): printable characters as
    they are, the rest escaped."""
    import unicodedata

    short = {
        "\a": "\\a",
        "\b": "\\b",
        "\f": "\\f",
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\v": "\\v",
    }
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in {'"', "\\"}:
            out.append("\\" + ch)
        elif ch in short:
            out.append(short[ch])
        elif (
            ch == " "
            or (code > 0x7F and unicodedata.category(ch)[0] in "LMNPS")
            or 0x20 < code < 0x7F
        ):
            out.append(ch)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _target(n: _Node) -> _Node:
    """The node an alias stands for (the composer always sets it)."""
    if n.alias is None:  # pragma: no cover
        raise _YamlFailure(f"yaml: unknown anchor '{n.value}' referenced")
    return n.alias


def _is_merge(n: _Node) -> bool:
    return (
        n.kind == _SCALAR_NODE
        and n.value == "<<"
        and (n.tag in ("", "!") or _short_tag(n.tag) == _MERGE_TAG)
    )


def _is_string_map(n: _Node) -> bool:
    content = n.content
    for i in range(0, len(content), 2):
        tag = content[i].short_tag()
        if tag not in (_STR_TAG, _MERGE_TAG):
            return False
    return True


def _decodes_to_collection(n: _Node) -> bool:
    while n.kind == _ALIAS_NODE and n.alias is not None:
        n = n.alias
    return n.kind in (_MAPPING_NODE, _SEQUENCE_NODE)


def _key_text(n: _Node) -> str:
    """A key decoded into a Go ``string``: the scalar's text (or the decoded
    ``!!binary`` data)."""
    while n.kind == _ALIAS_NODE and n.alias is not None:
        n = n.alias
    if n.kind == _SCALAR_NODE and not n.indicated_string() and _short_tag(n.tag) == _BINARY_TAG:
        try:
            return _decode_binary(n.value).decode("utf-8", "surrogateescape")
        except _DecodeError:
            return ""
    return n.value


# ======================================================================= node → tree (store.go)


_MAX_TREE_NODES = 5_000_000


class _TreeBuilder:
    """sops' ``appendYamlNodeToTreeBranch`` / ``nodeToTreeValue``."""

    def __init__(self) -> None:
        self.decode_count = 0
        self.alias_depth = 0

    def count(self) -> None:
        # sops itself has no limit here (it would expand a "billion laughs"
        # document until it runs out of memory); we stop at a size no real
        # secrets file reaches.
        self.decode_count += 1
        if self.alias_depth and self.decode_count > _MAX_TREE_NODES:
            raise _YamlFailure("yaml: document contains excessive aliasing")

    def document(self, doc: _Node) -> Branch:
        return self.append_to_branch(doc, Branch(), False)

    def append_to_branch(self, node: _Node, branch: Branch, handled: bool) -> Branch:
        self.count()
        if not handled:
            _append_comments(branch, node.head, True)
            _append_comments(branch, node.line, True)
        kind = node.kind
        if kind == _DOCUMENT_NODE:
            for item in node.content:
                self.append_to_branch(item, branch, False)
        elif kind == _SEQUENCE_NODE:
            raise _StoreFailure("YAML documents that are sequences are not supported")
        elif kind == _MAPPING_NODE:
            content = node.content
            for i in range(0, len(content), 2):
                key = content[i]
                value = content[i + 1]
                _append_comments(branch, key.head, True)
                _append_comments(branch, key.line, True)
                handle_value_comments = value.kind in (_SCALAR_NODE, _ALIAS_NODE)
                if handle_value_comments:
                    _append_comments(branch, value.head, True)
                    _append_comments(branch, value.line, True)
                key_value = self.key_value(key)
                branch.append((key_value, self.tree_value(value, handle_value_comments)))
                if handle_value_comments:
                    _append_comments(branch, value.foot, True)
                _append_comments(branch, key.foot, True)
        elif kind == _SCALAR_NODE:
            if node.short_tag() == _NULL_TAG:
                return branch  # an empty document ("---" alone)
            raise _StoreFailure("YAML documents that are values are not supported")
        else:
            self.alias_depth += 1
            self.append_to_branch(_target(node), branch, False)
            self.alias_depth -= 1
        if not handled:
            _append_comments(branch, node.foot, True)
        return branch

    def tree_value(self, node: _Node, handled: bool) -> Any:
        kind = node.kind
        if kind == _SCALAR_NODE:
            self.count()
            try:
                return _scalar_value(node)
            except _DecodeError:
                return None  # sops ignores node.Decode's error
        if kind == _MAPPING_NODE:
            return self.append_to_branch(node, Branch(), handled)
        if kind == _SEQUENCE_NODE:
            self.count()
            result: list[Any] = []
            if not handled:
                _append_comments(result, node.head, False)
                _append_comments(result, node.line, False)
            for item in node.content:
                _append_comments(result, item.head, False)
                _append_comments(result, item.line, False)
                result.append(self.tree_value(item, True))
                _append_comments(result, item.foot, False)
            if not handled:
                _append_comments(result, node.foot, False)
            return result
        self.alias_depth += 1
        try:
            return self.tree_value(_target(node), False)
        finally:
            self.alias_depth -= 1

    def key_value(self, key: _Node) -> Any:
        """``key.Decode(&keyValue)``: scalars decode to their Go value; a
        mapping or sequence key to a (non-string) collection."""
        target = key
        while target.kind == _ALIAS_NODE and target.alias is not None:
            target = target.alias
        if target.kind == _SCALAR_NODE:
            try:
                return _scalar_value(target)
            except _DecodeError:
                return None
        if target.kind == _MAPPING_NODE:
            return self.append_to_branch(target, Branch(), True)
        return self.tree_value(target, True)


def _append_comments(container: list[Any], text: str, in_map: bool) -> None:
    if not text:
        return
    for line in text.split("\n"):
        if line:
            comment = Comment(line[1:])
            container.append((comment, None) if in_map else comment)


# ============================================================================ metadata


def _meta_value(node: _Node, depth: int = 0) -> Any:
    """The ``sops`` section as plain data: mappings → dict, sequences → list,
    scalars → their text, except plain ints/bools/nulls (typed)."""
    if depth > 100:
        raise _YamlFailure("yaml: exceeded max depth")
    while node.kind == _ALIAS_NODE and node.alias is not None:
        node = node.alias
    if node.kind == _MAPPING_NODE:
        out: dict[str, Any] = {}
        content = node.content
        for i in range(0, len(content), 2):
            out[_key_text(content[i])] = _meta_value(content[i + 1], depth + 1)
        return out
    if node.kind == _SEQUENCE_NODE:
        return [_meta_value(item, depth + 1) for item in node.content]
    if node.indicated_string():
        return node.value
    try:
        tag, resolved = _resolve(node.tag, node.value)
    except _DecodeError:
        return node.value
    if tag == _NULL_TAG:
        return None
    if tag == _BOOL_TAG or (tag == _INT_TAG and not isinstance(resolved, Uint64)):
        return resolved
    if tag == _BINARY_TAG:
        try:
            return _decode_binary(resolved).decode("utf-8", "surrogateescape")
        except _DecodeError:
            return node.value
    return node.value


# ============================================================================ complete path


def _plain_error(text: str) -> StoreError:
    return StoreError(f"Error unmarshalling file: {text}", ExitCode.COULD_NOT_READ_INPUT_FILE)


def _full_load_plain(data: bytes) -> list[Branch]:
    try:
        text = _decode_input(data)
    except _YamlFailure as exc:
        raise _plain_error(exc.text) from None
    composer = _Composer(text)
    # Pass 1: Decoder.Decode(map[string]interface{}) of the first document
    # (this is where sops finds duplicate keys and non-mapping documents).
    try:
        first = composer.next_document()
        if first is None:
            raise _plain_error("EOF")
        decoder = _GoDecoder()
        decoder.unmarshal(first, _OUT_ROOT_MAP)
    except _YamlFailure as exc:
        raise _plain_error(exc.text) from None
    except _DecodeError as exc:
        raise _plain_error(exc.text) from None
    except RecursionError:
        raise _plain_error("yaml: exceeded max depth") from None
    problem = decoder.result()
    if problem is not None:
        raise _plain_error(problem)
    # Pass 2: every document as a yaml.Node, then store.go's walk.
    branches: list[Branch] = []
    builder = _TreeBuilder()
    doc: _Node | None = first
    try:
        while doc is not None:
            branches.append(builder.document(doc))
            doc = composer.next_document()
    except (_YamlFailure, _StoreFailure) as exc:
        raise _plain_error(f"Error unmarshaling input YAML: {exc.text}") from None
    except RecursionError:
        raise _plain_error("Error unmarshaling input YAML: yaml: exceeded max depth") from None
    return branches


def _encrypted_error(text: str) -> StoreError:
    return StoreError(text, ExitCode.ERROR_GENERIC)


def _full_load_encrypted(data: bytes) -> tuple[list[Branch], dict[str, Any]]:
    try:
        text = _decode_input(data)
    except _YamlFailure as exc:
        raise _encrypted_error(f"Error unmarshalling input yaml: {exc.text}") from None
    composer = _Composer(text)
    # Pass 1: yaml.Unmarshal(in, &stores.SopsFile{}) (first document only).
    try:
        first = composer.next_document()
        decoder = _GoDecoder()
        if first is not None:
            decoder.unmarshal(first, _OUT_SOPSFILE)
    except (_YamlFailure, _DecodeError) as exc:
        raise _encrypted_error(f"Error unmarshalling input yaml: {exc.text}") from None
    except RecursionError:
        raise _encrypted_error("Error unmarshalling input yaml: yaml: exceeded max depth") from None
    problem = decoder.result()
    if problem is not None:
        raise _encrypted_error(f"Error unmarshalling input yaml: {problem}")
    if first is None or decoder.metadata is None:
        raise MetadataNotFound()
    try:
        metadata = _meta_value(decoder.metadata)
    except _YamlFailure as exc:
        raise _encrypted_error(f"Error unmarshalling input yaml: {exc.text}") from None
    # Pass 2: every document through store.go, minus the top-level "sops".
    branches: list[Branch] = []
    builder = _TreeBuilder()
    doc: _Node | None = first
    try:
        while doc is not None:
            branches.append(_erase_sops(builder.document(doc)))
            doc = composer.next_document()
    except (_YamlFailure, _StoreFailure) as exc:
        raise _encrypted_error(f"Error unmarshaling input YAML: {exc.text}") from None
    except RecursionError:
        raise _encrypted_error("Error unmarshaling input YAML: yaml: exceeded max depth") from None
    return branches, metadata


def _erase_sops(branch: Branch) -> Branch:
    """store.go's ``for i, elt := range branch { if elt.Key == "sops" {
    branch = append(branch[:i], branch[i+1:]...) } }``, Go slice semantics
    included (the item after a removed one is not looked at)."""
    items = list(branch)
    length = len(items)
    for i in range(len(items)):
        key = items[i][0]
        if isinstance(key, str) and key == SOPS_KEY and i < length:
            items[i : length - 1] = items[i + 1 : length]
            length -= 1
    return Branch(items[:length])


# ============================================================================ fast path


class _Bail(Exception):
    """The fast path met something it leaves to the complete path."""


_EXCLUDED_FIRST = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FAST_NOT_PLAIN = frozenset("'\"|{[")  # what :meth:`_FastReader.value` handles


def _fast_plain_ok(text: str) -> bool:
    """Whether ``text`` (one line, no tabs) is read by yaml.v3 as exactly this
    plain scalar in block context, with nothing else on the line."""
    if not text or text[-1] == " " or text[-1] == ":" or " #" in text or ": " in text:
        return False
    c = text[0]
    if c in _EXCLUDED_FIRST:
        return (c in {"-", "?", ":"}) and len(text) > 1 and text[1] != " "
    return c != " "


def _fast_unescape(body: str) -> str:
    """The content of a one-line double-quoted scalar."""
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        j = body.find("\\", i)
        if j < 0:
            out.append(body[i:])
            break
        out.append(body[i:j])
        esc = body[j + 1]
        simple = _SIMPLE_ESCAPES.get(esc)
        if simple is not None:
            out.append(simple)
            i = j + 2
            continue
        length = _HEX_ESCAPES.get(esc)
        digits = body[j + 2 : j + 2 + length] if length else ""
        if not length or len(digits) < length or any(d not in _HEX for d in digits):
            raise _Bail
        value = int(digits, 16)
        if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:
            raise _Bail
        out.append(chr(value))
        i = j + 2 + length
    return "".join(out)


def _fast_meta_scalar(text: str) -> Any:
    tag, value = _resolve_plain(text)
    if tag in (_NULL_TAG, _BOOL_TAG) or (tag == _INT_TAG and not isinstance(value, Uint64)):
        return value
    return text


def _fast_meta_ok(value: Any, typ: str) -> bool:
    """Whether ``value`` (the fast path's raw ``sops`` data) decodes into the
    Go type ``typ`` without error (else the complete path reports it)."""
    if value is None:
        return True
    if typ == "string":
        return not isinstance(value, (dict, list))
    if typ == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if typ == "bool":
        return isinstance(value, bool) or value in _YAML11_BOOLS
    if typ.startswith("[]"):
        return isinstance(value, list) and all(_fast_meta_ok(v, typ[2:]) for v in value)
    if not isinstance(value, dict):
        return False
    if typ == _STRING_PTR_MAP:
        return all(_fast_meta_ok(v, "string") for v in value.values())
    fields = _METADATA_STRUCTS[typ]
    return all(k not in fields or _fast_meta_ok(v, fields[k]) for k, v in value.items())


def _to_plain_data(value: Any) -> Any:
    if isinstance(value, Branch):
        return {k: _to_plain_data(v) for k, v in value if not isinstance(k, Comment)}
    if isinstance(value, list):
        return [_to_plain_data(v) for v in value if not isinstance(v, Comment)]
    return value


class _FastReader:
    """A line-based reader for the block style sops writes.  Raises
    :class:`_Bail` on anything else; what it returns is what the complete
    path returns."""

    def __init__(self, text: str, want_metadata: bool) -> None:
        lines = text.split("\n")
        self.final_newline = lines[-1] == ""
        if self.final_newline:
            lines.pop()
        self.lines = lines
        self.want_metadata = want_metadata
        self.after_flow = False

    def run(self) -> list[Branch]:
        lines = self.lines
        n = len(lines)
        docs: list[Branch] = []
        i = 0
        while i < n:
            if lines[i] == "---":
                if i:
                    raise _Bail  # an empty document
                i += 1
            root, i = self.document(i, len(docs) == 0)
            docs.append(root)
            if i < n:  # stopped at "---"
                i += 1
                if i == n:
                    raise _Bail  # an empty last document
        if not docs:
            raise _Bail
        return docs

    def document(self, i: int, first: bool) -> tuple[Branch, int]:
        """One document, from line ``i`` to a ``---`` line or the end.

        Comments: a run of full-line comments (no blank lines, one
        indentation ``c``) right after content is, in yaml.v3, the *head* of
        the next node when that node starts at column ``c`` (so it goes just
        before that node), and otherwise a *foot* (see :meth:`feet`).  The
        cases where that is not the whole story (after a ``key:`` with no
        value, after ``{}``/``[]``, before ``---``, ...) go to the complete
        path.
        """
        lines = self.lines
        n = len(lines)
        root = Branch()
        # Open containers: (indent, container, keys seen or None for a
        # sequence, raw metadata mode).
        frames: list[tuple[int, Any, set[str] | None, bool]] = []
        pending: tuple[Branch, Any, int, bool] | None = None  # "key:" awaiting its value
        comments: list[tuple[int, str]] = []
        self.after_flow = False  # the last value was {} or []
        while i < n:
            line = lines[i]
            content = line.lstrip(" ")
            if not content:
                raise _Bail  # blank lines move comments around: complete path
            ind = len(line) - len(content)
            c0 = content[0]
            if c0 == "#":
                comments.append((ind, content[1:]))
                i += 1
                continue
            if ind == 0 and (content.startswith("---") or content.startswith("...")):
                if content != "---" or not frames or comments:
                    raise _Bail
                break
            is_entry = c0 == "-" and (len(content) == 1 or content[1] == " ")
            if comments and comments[0][0] != ind:
                self.feet(comments, ind, frames, pending)
                comments = []
            if not frames:
                if ind or is_entry:
                    raise _Bail
                frames.append((0, root, set(), False))
            elif pending is not None:
                branch, key, col, raw = pending
                pending = None
                if ind > col:
                    child: Any = [] if is_entry else Branch()
                    branch.append((key, child))
                    frames.append((ind, child, None if is_entry else set(), raw))
                else:
                    branch.append((key, None))
            top = frames[-1][0]
            if ind != top:
                if ind > top:
                    raise _Bail
                while frames[-1][0] > ind:
                    frames.pop()
                if frames[-1][0] != ind:
                    raise _Bail
            frame = frames[-1]
            container = frame[1]
            keys = frame[2]
            if keys is None:
                if not is_entry:
                    raise _Bail
                if comments:
                    for _, text in comments:
                        container.append(Comment(text))
                    comments = []
                pending, i = self.entry(content, i, ind, container, frames=frames, raw=frame[3])
            else:
                if is_entry:
                    raise _Bail
                if comments:
                    for _, text in comments:
                        container.append((Comment(text), None))
                    comments = []
                pending, i = self.map_item(
                    content,
                    i,
                    ind,
                    container,
                    keys=keys,
                    raw=frame[3],
                    top_level_of_first=first and len(frames) == 1,
                )
        if not frames:
            raise _Bail
        if comments:
            if i < n:
                raise _Bail  # comments right before "---"
            self.feet(comments, -1, frames, pending)
        if pending is not None:
            pending[0].append((pending[1], None))
        return root, i

    def feet(
        self,
        comments: list[tuple[int, str]],
        ind: int,
        frames: list[tuple[int, Any, set[str] | None, bool]],
        pending: tuple[Branch, Any, int, bool] | None,
    ) -> None:
        """Comment lines followed by a less indented line (``ind``; -1: the
        end of the file).  yaml.v3 makes them a foot: of the last scalar
        when a line follows (so they end the innermost container), of the
        container at their own indentation at the end of the file."""
        col = comments[0][0]
        if col < ind or not frames or pending is not None or self.after_flow:
            raise _Bail
        for cind, _ in comments:
            if cind != col:
                raise _Bail
        depth = len(frames) - 1
        if ind < 0:
            while depth > 0 and frames[depth][0] > col:
                depth -= 1
            if frames[depth][0] != col:
                raise _Bail
        frame = frames[depth]
        container = frame[1]
        if frame[2] is None:
            if depth != len(frames) - 1:
                raise _Bail  # an outer sequence's end takes no comments
            for _, text in comments:
                container.append(Comment(text))
        else:
            for _, text in comments:
                container.append((Comment(text), None))

    def entry(
        self,
        content: str,
        i: int,
        ind: int,
        seq: list[Any],
        *,
        frames: list[tuple[int, Any, set[str] | None, bool]],
        raw: bool,
    ) -> tuple[tuple[Branch, Any, int, bool] | None, int]:
        """A ``- item`` line of the sequence at ``ind``."""
        if len(content) < 3:
            raise _Bail
        j = 2
        while content[j] == " ":
            j += 1
            if j == len(content):
                raise _Bail
        item = content[j:]
        c0 = item[0]
        if c0 == "#":
            raise _Bail
        if c0 == "-" and (len(item) == 1 or item[1] == " "):
            # A compact nested sequence: "- - x".
            inner: list[Any] = []
            seq.append(inner)
            frames.append((ind + j, inner, None, raw))
            return self.entry(item, i, ind + j, inner, frames=frames, raw=raw)
        if self.is_map_item(item):
            child = Branch()
            seq.append(child)
            keys: set[str] = set()
            frames.append((ind + j, child, keys, raw))
            return self.map_item(
                item, i, ind + j, child, keys=keys, raw=raw, top_level_of_first=False
            )
        value, i = self.value(item, i, ind, raw)
        seq.append(value)
        return None, i

    @staticmethod
    def is_map_item(item: str) -> bool:
        c0 = item[0]
        if c0 in {'"', "'"}:
            m = _pat("fast_double" if c0 == '"' else "fast_single").match(item)
            if m is None:
                raise _Bail
            rest = item[m.end() :]
            return rest == ":" or rest.startswith(": ")
        return ": " in item or item[-1] == ":"

    def map_item(
        self,
        content: str,
        i: int,
        ind: int,
        branch: Branch,
        *,
        keys: set[str],
        raw: bool,
        top_level_of_first: bool,
    ) -> tuple[tuple[Branch, Any, int, bool] | None, int]:
        """A ``key: value`` (or ``key:``) line of the mapping at ``ind``."""
        c0 = content[0]
        key: Any
        if c0 in {'"', "'"}:
            m = _pat("fast_double" if c0 == '"' else "fast_single").match(content)
            if m is None:
                raise _Bail
            text = _fast_unescape(m.group(1)) if c0 == '"' else m.group(1).replace("''", "'")
            key = text
            after = content[m.end() :]
            if after == ":":
                rest = None
            elif after.startswith(": "):
                rest = after[2:]
            else:
                raise _Bail
        else:
            cut = content.find(": ")
            if cut < 0:
                if content[-1] != ":":
                    raise _Bail
                text = content[:-1]
                rest = None
            else:
                text = content[:cut]
                rest = content[cut + 2 :]
            if len(text) > 1000 or text == "<<" or not _fast_plain_ok(text):
                raise _Bail  # (a plain "<<" key is a merge)
            key = text if raw or text[0] not in _HINTS else _resolve_plain(text)[1]
        if text in keys:
            raise _Bail  # duplicate keys: the complete path decides
        keys.add(text)
        child_raw = raw or (top_level_of_first and self.want_metadata and key == SOPS_KEY)
        if rest is None:
            return (branch, key, ind, child_raw), i + 1
        if child_raw and not raw:
            raise _Bail  # "sops: <scalar>": the complete path has the message
        if rest[:1] == " ":
            rest = rest.lstrip(" ")
        if not rest:
            raise _Bail
        if rest[0] in _FAST_NOT_PLAIN:
            value, i = self.value(rest, i, ind, raw)
            branch.append((key, value))
            return None, i
        # The common case, inline: a plain scalar (sops' ENC[...] values).
        if not _fast_plain_ok(rest):
            raise _Bail
        self.after_flow = False
        if raw:
            branch.append((key, _fast_meta_scalar(rest)))
        elif rest[0] in _HINTS:
            branch.append((key, _resolve_plain(rest)[1]))
        else:
            branch.append((key, rest))
        return None, i + 1

    def value(self, text: str, i: int, parent_indent: int, raw: bool) -> tuple[Any, int]:
        """A scalar (or ``{}``/``[]``) at the end of line ``i``; a literal
        block scalar also takes the lines below it."""
        c0 = text[0]
        if c0 == '"':
            self.after_flow = False
            m = _pat("fast_double").fullmatch(text)
            if m is None:
                raise _Bail
            return _fast_unescape(m.group(1)), i + 1
        if c0 == "'":
            self.after_flow = False
            m = _pat("fast_single").fullmatch(text)
            if m is None:
                raise _Bail
            return m.group(1).replace("''", "'"), i + 1
        if c0 == "|":
            self.after_flow = False
            return self.literal(text, i, parent_indent)
        if text in {"{}", "[]"}:
            self.after_flow = True
            return (Branch() if text == "{}" else []), i + 1
        self.after_flow = False
        if not _fast_plain_ok(text):
            raise _Bail
        if raw:
            return _fast_meta_scalar(text), i + 1
        return _resolve_plain(text)[1], i + 1

    def literal(self, header: str, i: int, parent_indent: int) -> tuple[str, int]:
        """A ``|`` block scalar whose header ends line ``i``."""
        chomp = 0
        increment = 0
        for ch in header[1:]:
            if (ch in {"-", "+"}) and not chomp:
                chomp = -1 if ch == "-" else 1
            elif "1" <= ch <= "9" and not increment:
                increment = int(ch)
            else:
                raise _Bail
        lines = self.lines
        n = len(lines)
        k = i + 1
        if increment:
            indent = parent_indent + increment
        else:
            if k >= n:
                raise _Bail
            first = lines[k]
            stripped = first.lstrip(" ")
            indent = len(first) - len(stripped)
            if not stripped or indent <= parent_indent:
                raise _Bail
        body: list[str | None] = []
        last_content = -1
        while k < n:
            line = lines[k]
            stripped = line.lstrip(" ")
            lead = len(line) - len(stripped)
            if lead >= indent and (stripped or lead > indent):
                body.append(line[indent:])
                last_content = len(body) - 1
            elif not stripped:
                body.append(None)  # an empty line: a line break
            else:
                break
            k += 1
        if last_content < 0:
            raise _Bail
        text = "\n".join("" if piece is None else piece for piece in body[: last_content + 1])
        if chomp != -1:
            last_line = i + 1 + last_content
            if last_line < n - 1 or self.final_newline:
                text += "\n"
                if chomp == 1:
                    trailing = len(body) - last_content - 1
                    if k == n and not self.final_newline:
                        trailing -= 1  # the last line has no break of its own
                    text += "\n" * trailing
        return text, k


# Bytes the fast path takes as they are: LF, printable ASCII and (checked
# below) UTF-8 sequences.  Tabs, CRs and other controls go the complete way.
_FAST_PLAIN_BYTES = bytes([10, *range(32, 127), *range(128, 256)])


def _fast_decode(data: bytes) -> str | None:
    if data[:3] == b"\xef\xbb\xbf" or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return None
    if data.translate(None, _FAST_PLAIN_BYTES):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if (b"\xc2" in data or b"\xe2\x80" in data or b"\xef" in data) and _pat("fast_bad").search(
        text
    ) is not None:
        return None  # C1 controls, NEL, LS, PS, BOM, non-characters
    return text


def _fast_load_plain(data: bytes) -> list[Branch] | None:
    text = _fast_decode(data)
    if text is None:
        return None
    try:
        return _FastReader(text, False).run()
    except _Bail:
        return None


def _fast_load_encrypted(data: bytes) -> tuple[list[Branch], dict[str, Any]] | None:
    text = _fast_decode(data)
    if text is None:
        return None
    reader = _FastReader(text, True)
    try:
        docs = reader.run()
    except _Bail:
        return None
    raw: Any = None
    found = False
    for key, value in docs[0]:
        if isinstance(key, str) and key == SOPS_KEY:
            raw, found = value, True
    if not found:
        raise MetadataNotFound()
    if not isinstance(raw, Branch):
        return None  # null or not a mapping: the complete path has the message
    metadata = _to_plain_data(raw)
    if not _fast_meta_ok(metadata, _OUT_METADATA):
        return None
    return [_erase_sops(doc) for doc in docs], metadata


# ============================================================================ public API


def load_plain(data: bytes) -> list[Branch]:
    """sops' ``LoadPlainFile`` (plus the encrypt command's empty-file check):
    one :class:`Branch` per document.

    Raises :class:`StoreError` with sops' message and exit code: 92 for an
    empty file, 2 for anything yaml.v3 or store.go refuses.
    """
    if not data:
        raise StoreError(
            "File cannot be completely empty, it must contain at least one document",
            ExitCode.NEED_AT_LEAST_ONE_DOCUMENT,
        )
    branches = _fast_load_plain(data)
    if branches is not None:
        return branches
    return _full_load_plain(data)


def load_encrypted(data: bytes) -> tuple[list[Branch], dict[str, Any]]:
    """sops' ``LoadEncryptedFile``: the branches without their top-level
    ``sops`` item, and the first document's ``sops`` mapping as plain data
    (``dict``/``list``; scalars as their text, except plain ints, bools and
    nulls, which are typed).

    Raises :class:`MetadataNotFound` without a ``sops`` mapping and
    :class:`StoreError` (exit 1, sops' message) when the YAML is refused.
    """
    loaded = _fast_load_encrypted(data)
    if loaded is not None:
        return loaded
    return _full_load_encrypted(data)
