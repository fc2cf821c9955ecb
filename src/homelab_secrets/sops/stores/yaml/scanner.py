"""Text → tokens: a line-by-line port of yaml.v3's scanner.

Follows ``scannerc.go``: simple keys, the indentation stack, flow levels
(both limited to 10,000 like yaml.v3: ``exceeded max depth of 10000``),
block and flow scalars, tags, anchors, directives, and yaml.v3's own
addition to libyaml, the head/line/foot comment bookkeeping that decides
which node a comment belongs to.
"""

from __future__ import annotations

from homelab_secrets.sops.stores.yaml.reader import line_end
from homelab_secrets.sops.stores.yaml.yamlh import (
    HEX,
    HEX_ESCAPES,
    SCANNER_ERROR,
    SIMPLE_ESCAPES,
    ZERO_MARK,
    Mark,
    YamlFailure,
    parse_failure,
    pat,
)

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any

# Token types (yaml_token_type_t).
T_STREAM_START = 1
T_STREAM_END = 2
T_VERSION_DIRECTIVE = 3
T_TAG_DIRECTIVE = 4
T_DOCUMENT_START = 5
T_DOCUMENT_END = 6
T_BLOCK_SEQUENCE_START = 7
T_BLOCK_MAPPING_START = 8
T_BLOCK_END = 9
T_FLOW_SEQUENCE_START = 10
T_FLOW_SEQUENCE_END = 11
T_FLOW_MAPPING_START = 12
T_FLOW_MAPPING_END = 13
T_BLOCK_ENTRY = 14
T_FLOW_ENTRY = 15
T_KEY = 16
T_VALUE = 17
T_ALIAS = 18
T_ANCHOR = 19
T_TAG = 20
T_SCALAR = 21

# Scalar styles (yaml_scalar_style_t).
PLAIN = 1
_SINGLE_QUOTED = 2
_DOUBLE_QUOTED = 3
_LITERAL = 4
_FOLDED = 5

_BREAK = frozenset("\r\n\x85\u2028\u2029")
_BREAKZ = frozenset("\r\n\x85\u2028\u2029\0")
_BLANKZ = frozenset(" \t\r\n\x85\u2028\u2029\0")
_ALPHA = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-")
_URI_CHARS = _ALPHA | frozenset(";/?:@&=+$,.!~*'()[]%")
_PLAIN_START_EXCLUDED = frozenset("-?:,[]{}#&*!|>'\"%@`")
_ANCHOR_END = frozenset("?:,]}%@`")


_MAX_FLOW_LEVEL = 10000
_MAX_INDENTS = 10000


class Token:
    __slots__ = ("end", "start", "style", "suffix", "typ", "value")

    def __init__(
        self,
        typ: int,
        start: Mark,
        end: Mark,
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

    def __init__(self, possible: bool, required: bool, token_number: int, mark: Mark) -> None:
        self.possible = possible
        self.required = required
        self.token_number = token_number
        self.mark = mark


class _ScannedComment:
    __slots__ = ("end_mark", "foot", "head", "line", "scan_mark", "start_mark", "token_mark")

    def __init__(
        self,
        scan_mark: Mark,
        token_mark: Mark,
        start_mark: Mark,
        end_mark: Mark,
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
        self.scan_mark = self.token_mark = self.start_mark = self.end_mark = ZERO_MARK
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


class Scanner:
    """yaml.v3's scannerc.go.  Positions are character offsets into ``buf``
    (the text plus NUL padding, NUL standing for the end of the stream)."""

    def __init__(self, text: str) -> None:
        self.buf = text + "\0" * 8
        self.pos = 0
        self.line = 0
        self.col = 0
        self.newlines = 0
        self.tokens: list[Token] = []
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
    def mark(self) -> Mark:
        return (self.pos, self.line, self.col)

    def error(self, context: str, context_mark: Mark, problem: str) -> YamlFailure:
        """``yaml_parser_set_scanner_error``; yaml.v3 never prints the
        ``context`` text (kept here to read like the Go code)."""
        del context
        return parse_failure(SCANNER_ERROR, context_mark, problem, self.mark())

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
        if pat("non_blank").search(run) is not None:
            self.newlines = 0
        self.col += end - self.pos
        self.pos = end
        return run

    def insert_token(self, number: int, token: Token) -> None:
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
                self.fetch_document_indicator(T_DOCUMENT_START if c == "-" else T_DOCUMENT_END)
                return
        comment_mark = self.mark()
        if self.tokens and (
            (self.flow_level == 0 and c == ":") or (self.flow_level > 0 and c == ",")
        ):
            comment_mark = self.tokens[-1].start
        self.dispatch(c)
        # Go's deferred line-comment scan.
        if self.tokens and self.tokens[-1].typ == T_BLOCK_ENTRY:
            return
        self.scan_line_comment(comment_mark)

    def dispatch(self, c: str) -> None:
        buf = self.buf
        pos = self.pos
        if c == "[":
            self.fetch_flow_collection_start(T_FLOW_SEQUENCE_START)
        elif c == "{":
            self.fetch_flow_collection_start(T_FLOW_MAPPING_START)
        elif c == "]":
            self.fetch_flow_collection_end(T_FLOW_SEQUENCE_END)
        elif c == "}":
            self.fetch_flow_collection_end(T_FLOW_MAPPING_END)
        elif c == ",":
            self.fetch_flow_entry()
        elif c == "-" and buf[pos + 1] in _BLANKZ:
            self.fetch_block_entry()
        elif c == "?" and (self.flow_level > 0 or buf[pos + 1] in _BLANKZ):
            self.fetch_key()
        elif c == ":" and (self.flow_level > 0 or buf[pos + 1] in _BLANKZ):
            self.fetch_value()
        elif c == "*":
            self.fetch_anchor(T_ALIAS)
        elif c == "&":
            self.fetch_anchor(T_ANCHOR)
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
    def roll_indent(self, column: int, number: int, typ: int, mark: Mark) -> None:
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
            self.insert_token(number, Token(typ, mark, mark))

    def unroll_indent(self, column: int, scan_mark: Mark) -> None:
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
            self.tokens.append(Token(T_BLOCK_END, block_mark, block_mark))
            self.indent = self.indents.pop()

    # ------------------------------------------------------------ fetchers
    def fetch_stream_start(self) -> None:
        self.indent = -1
        self.simple_keys.append(_SimpleKey(False, False, 0, ZERO_MARK))
        self.simple_keys_by_tok = {}
        self.simple_key_allowed = True
        self.stream_start_produced = True
        mark = self.mark()
        self.tokens.append(Token(T_STREAM_START, mark, mark))

    def fetch_stream_end(self) -> None:
        if self.col != 0:
            self.col = 0
            self.line += 1
        self.unroll_indent(-1, self.mark())
        self.remove_simple_key()
        self.simple_key_allowed = False
        mark = self.mark()
        self.tokens.append(Token(T_STREAM_END, mark, mark))

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
        self.tokens.append(Token(typ, start, self.mark()))

    def fetch_flow_collection_start(self, typ: int) -> None:
        self.save_simple_key()
        self.increase_flow_level()
        self.simple_key_allowed = True
        start = self.mark()
        self.skip()
        self.tokens.append(Token(typ, start, self.mark()))

    def fetch_flow_collection_end(self, typ: int) -> None:
        self.remove_simple_key()
        self.decrease_flow_level()
        self.simple_key_allowed = False
        start = self.mark()
        self.skip()
        self.tokens.append(Token(typ, start, self.mark()))

    def fetch_flow_entry(self) -> None:
        self.remove_simple_key()
        self.simple_key_allowed = True
        start = self.mark()
        self.skip()
        self.tokens.append(Token(T_FLOW_ENTRY, start, self.mark()))

    def fetch_block_entry(self) -> None:
        if self.flow_level == 0:
            if not self.simple_key_allowed:
                raise self.error(
                    "", self.mark(), "block sequence entries are not allowed in this context"
                )
            self.roll_indent(self.col, -1, T_BLOCK_SEQUENCE_START, self.mark())
        self.remove_simple_key()
        self.simple_key_allowed = True
        start = self.mark()
        self.skip()
        self.tokens.append(Token(T_BLOCK_ENTRY, start, self.mark()))

    def fetch_key(self) -> None:
        if self.flow_level == 0:
            if not self.simple_key_allowed:
                raise self.error("", self.mark(), "mapping keys are not allowed in this context")
            self.roll_indent(self.col, -1, T_BLOCK_MAPPING_START, self.mark())
        self.remove_simple_key()
        self.simple_key_allowed = self.flow_level == 0
        start = self.mark()
        self.skip()
        self.tokens.append(Token(T_KEY, start, self.mark()))

    def fetch_value(self) -> None:
        key = self.simple_keys[-1]
        if self.simple_key_is_valid(key):
            self.insert_token(
                key.token_number - self.tokens_parsed, Token(T_KEY, key.mark, key.mark)
            )
            self.roll_indent(key.mark[2], key.token_number, T_BLOCK_MAPPING_START, key.mark)
            key.possible = False
            self.simple_keys_by_tok.pop(key.token_number, None)
            self.simple_key_allowed = False
        else:
            if self.flow_level == 0:
                if not self.simple_key_allowed:
                    raise self.error(
                        "", self.mark(), "mapping values are not allowed in this context"
                    )
                self.roll_indent(self.col, -1, T_BLOCK_MAPPING_START, self.mark())
            self.simple_key_allowed = self.flow_level == 0
        start = self.mark()
        self.skip()
        self.tokens.append(Token(T_VALUE, start, self.mark()))

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
                    and self.tokens[-2].typ == T_BLOCK_SEQUENCE_START
                    and self.tokens[-1].typ == T_BLOCK_ENTRY
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

    def scan_line_comment(self, token_mark: Mark) -> None:
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
                text = self.advance_run(line_end(buf, self.pos))
                self.comments.append(
                    _ScannedComment(ZERO_MARK, token_mark, start_mark, ZERO_MARK, line=text)
                )
            break

    def scan_comments(self, scan_mark: Mark) -> None:
        tokens = self.tokens
        token = tokens[-1]
        if token.typ == T_FLOW_ENTRY and len(tokens) > 1:
            token = tokens[-2]
        token_mark = token.start
        start_mark = ZERO_MARK
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
                            (start_mark[1] == foot_line and token.typ != T_VALUE)
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
            text.append(self.advance_run(line_end(buf, self.pos)))
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
    def scan_directive(self) -> Token:
        start = self.mark()
        self.skip()
        name = self.scan_directive_name(start)
        token: Token
        if name == "YAML":
            major, minor = self.scan_version_directive_value(start)
            token = Token(T_VERSION_DIRECTIVE, start, self.mark(), (major, minor))
        elif name == "TAG":
            handle, prefix = self.scan_tag_directive_value(start)
            token = Token(T_TAG_DIRECTIVE, start, self.mark(), handle, suffix=prefix)
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

    def scan_directive_name(self, start: Mark) -> str:
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

    def scan_version_directive_value(self, start: Mark) -> tuple[int, int]:
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

    def scan_version_directive_number(self, start: Mark) -> int:
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

    def scan_tag_directive_value(self, start: Mark) -> tuple[str, str]:
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
    def scan_anchor(self, typ: int) -> Token:
        start = self.mark()
        self.skip()
        begin = self.pos
        while self.buf[self.pos] in _ALPHA:
            self.skip()
        value = self.buf[begin : self.pos]
        end = self.mark()
        c = self.buf[self.pos]
        if not value or not (c in _BLANKZ or c in _ANCHOR_END):
            context = "while scanning an anchor" if typ == T_ANCHOR else "while scanning an alias"
            raise self.error(
                context, start, "did not find expected alphabetic or numeric character"
            )
        return Token(typ, start, end, value)

    def scan_tag(self) -> Token:
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
        return Token(T_TAG, start, self.mark(), handle, suffix=suffix)

    def tag_error(self, directive: bool, start: Mark, problem: str) -> YamlFailure:
        context = "while parsing a %TAG directive" if directive else "while parsing a tag"
        return self.error(context, start, problem)

    def scan_tag_handle(self, directive: bool, start: Mark) -> str:
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

    def scan_tag_uri(self, directive: bool, head: str, start: Mark) -> str:
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

    def scan_uri_escapes(self, directive: bool, start: Mark) -> bytes:
        out = bytearray()
        width = 1024
        buf = self.buf
        while width > 0:
            p = self.pos
            if not (buf[p] == "%" and buf[p + 1] in HEX and buf[p + 2] in HEX):
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
    def scan_block_scalar(self, literal: bool) -> Token:
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
            chunks.append(self.advance_run(line_end(buf, self.pos)))
            leading_break = self.read_line()
            indent, trailing_breaks, end_mark = self.scan_block_scalar_breaks(
                indent, trailing_breaks, start, end_mark
            )
        if chomping != -1:
            chunks.append(leading_break)
        if chomping == 1:
            chunks.append(trailing_breaks)
        style = _LITERAL if literal else _FOLDED
        return Token(T_SCALAR, start, end_mark, "".join(chunks), style=style)

    def scan_block_scalar_breaks(
        self, indent: int, breaks: str, start: Mark, end_mark: Mark
    ) -> tuple[int, str, Mark]:
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
    def scan_flow_scalar(self, single: bool) -> Token:
        buf = self.buf
        start = self.mark()
        self.skip()
        chunks: list[str] = []
        leading_break = ""
        trailing_breaks = ""
        whitespaces = ""
        run = pat("single_run" if single else "double_run")
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
                    simple = SIMPLE_ESCAPES.get(nxt)
                    length = HEX_ESCAPES.get(nxt, 0)
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
                        if len(digits) < length or any(d not in HEX for d in digits):
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
        return Token(T_SCALAR, start, self.mark(), "".join(chunks), style=style)

    # ------------------------------------------------------------ plain scalars
    def scan_plain_scalar(self) -> Token:
        buf = self.buf
        chunks: list[str] = []
        leading_break = ""
        trailing_breaks = ""
        whitespaces = ""
        leading_blanks = False
        indent = self.indent + 1
        start = self.mark()
        end = start
        run = pat("plain_flow" if self.flow_level > 0 else "plain_block")
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
        return Token(T_SCALAR, start, end, "".join(chunks), style=PLAIN)
