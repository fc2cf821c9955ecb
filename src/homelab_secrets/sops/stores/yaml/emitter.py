"""YAML emitter: a tree → the exact bytes ``sops`` 3.11 writes.

sops (``stores/yaml/store.go``) turns a tree into ``yaml.Node`` values and
encodes them with go.yaml.in/yaml/v3 v3.0.4 (``Encoder.SetIndent(4)``).  This
module reproduces that pipeline without building nodes or events:

* **Node building** (``appendTreeBranch`` / ``appendSequence``): comments
  before the first item become the container's head comment, comments before
  a later key/item the head comment of that key/item.  Trailing comments
  become the foot comment of a mapping's last *key* (yaml.v3's encoder turns
  it into the tail comment of the mapping's end event: written where the
  mapping ends) or of a sequence's last *item* (for a nested collection: a
  foot comment on its end event, which yaml.v3 writes at the next place that
  writes foot comments, sometimes much later).  A container without items
  carries its comments as its head comment.  A sequence item's own head
  comment comes after the comments that precede the item.
* **Scalar styles** (``encode.go``: ``stringv`` plus the emitter's
  ``yaml_emitter_select_scalar_style`` / ``analyze_scalar``): a string is
  plain if it resolves back to ``!!str`` and is neither a YAML 1.1 boolean nor
  a base-60 float, double-quoted otherwise, literal (``|``) when it holds a
  newline; the emitter then demotes plain to single-quoted and
  single-quoted/literal to double-quoted when the text requires it.  The
  string ``<<`` comes back from sops' ``Node.Encode`` round trip tagged
  ``!!merge``; invalid UTF-8 becomes ``!!binary`` base64.
* **Layout** (``emitterc.go``): the emitter state that decides every space
  and line break (``column``, ``whitespace``, ``indention``, ``foot_indent``,
  the indentation stack and the pending head/foot comments) is kept exactly
  as libyaml-in-Go keeps it, and each construct performs the same sequence of
  ``write_indent`` / ``write_indicator`` / comment calls as the state machine.
  Quirks come along for free: foot comments that surface late (even between
  ``key:`` and its ``{}``), the blank line yaml.v3 puts after a foot comment
  at the same indentation, comments inside ``{}``, the ``|4`` hint that
  yaml.v3 writes below a ``- `` where it does not parse back.

Nothing here imports more than :mod:`math` (:mod:`re` when a string needs a
closer look, :mod:`base64` for non-UTF-8 strings): start-up time matters, the
decrypt command races a Go binary.
"""

from __future__ import annotations

import math

from homelab_secrets.sops.model import Branch, Comment, GoTime
from homelab_secrets.sops.stores.yaml.resolver import float_syntax

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    import re
    from typing import Any

__all__ = ["emit_encrypted", "emit_plain", "emit_value", "go_g"]

# ---------------------------------------------------------------------------
# Scalar styles
# ---------------------------------------------------------------------------

_PLAIN = 1
_SINGLE = 2
_DOUBLE = 3
_LITERAL = 4

# Emitter states that matter for indentation (``increase_indent`` looks at the
# state on top of the stack; only "inside a block sequence item" changes it).
_OTHER = 0
_SEQ_ITEM = 1

# What a parent writes between a node's start event and the node itself.
_DASH = 1  # block sequence item: head comment, indentation, "-"
_ROOT = 2  # document content: head comment

# resolve.go: strings that resolve to a non-str value by exact lookup.
_RESOLVE_MAP = frozenset(
    [
        "true", "True", "TRUE", "false", "False", "FALSE",
        "", "~", "null", "Null", "NULL",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF",
        "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
    ]
)  # fmt: skip
# encode.go isOldBool: YAML 1.1 booleans are quoted for old parsers.
_OLD_BOOL = frozenset(
    ["y", "Y", "yes", "Yes", "YES", "on", "On", "ON",
     "n", "N", "no", "No", "NO", "off", "Off", "OFF"]
)  # fmt: skip
_HINT_SIGN_DIGIT = frozenset("+-0123456789")
_HINT_MAP = frozenset("yYnNtTfFoO~")

_YAML_FLOAT = r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
_BASE60_FLOAT = r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
_GO_DEC_FLOAT = r"[-+]?(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][-+]?[0-9_]+)?"
_TIMESTAMP = (
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:(?:([Tt])([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2}))"
    r"|(?: ([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?))?"
)
_DIGITS = {2: frozenset("01"), 8: frozenset("01234567"), 10: frozenset("0123456789")}
_DIGITS[16] = frozenset("0123456789abcdefABCDEF")

# emitterc.go character classes (on code points; Go works on UTF-8 bytes).
_BREAKS = "\r\n\x85\u2028\u2029"
# Not "printable" for yaml.v3 (outside #x0A, #x20-#x7E, #xA0-#xD7FF, #xE000-#xFFFD,
# or the BOM #xFEFF); tab is counted separately.
_SPECIAL = "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff\U00010000-\U0010ffff]"
# What the double-quoted writer escapes: non-printable, BOM, breaks, '"', '\\'.
_NEEDS_ESCAPE = (
    '[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff\U00010000-\U0010ffff\u2028\u2029"\\\\]'
)
_BREAK_SPACE = "[\r\n\x85\u2028\u2029] "
_SPACE_BREAK = " [\r\n\x85\u2028\u2029]"
_COLON_BLANK = r":(?:[ \t]|\Z)"
_BLANKZ_HASH = "[ \t\r\n\x85\u2028\u2029\x00]#"
_FIRST_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")
_ESCAPES = {
    "\x00": "\\0", "\x07": "\\a", "\x08": "\\b", "\t": "\\t", "\n": "\\n",
    "\x0b": "\\v", "\x0c": "\\f", "\r": "\\r", "\x1b": "\\e", '"': '\\"',
    "\\": "\\\\", "\x85": "\\N", "\u2028": "\\L", "\u2029": "\\P",
}  # fmt: skip
# Characters a plain ASCII string may start with and still need no analysis.
_SAFE_FIRST = frozenset("ABCDEGHIJKLMPQRSUVWXZabcdeghijklmpqrsuvwxz_/()$^=;<")


def _underscore_ok(s: str) -> bool:
    """Go strconv.underscoreOK: ``_`` only between digits (or after a base prefix)."""
    saw = "^"
    i = 0
    if s[:1] in ("+", "-"):
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1] in "bBoOxX":
        i = 2
        saw = "0"
        hexa = s[1] in "xX"
    while i < len(s):
        c = s[i]
        if (c.isdigit() and c.isascii()) or (hexa and c in "abcdefABCDEF"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
        i += 1
    return saw != "_"


def _go_parse_float_ok(s: str) -> bool:
    """Whether Go's ``strconv.ParseFloat(s, 64)`` succeeds for a decimal ``s``
    (the only forms resolve.go hands it: a leading ``.`` or a yaml float)."""
    import re  # (when needed: start-up time)

    if not re.fullmatch(_GO_DEC_FLOAT, s):
        return False
    mantissa = s.lstrip("+-").split("e")[0].split("E")[0]
    if not any(c.isdigit() for c in mantissa):
        return False
    if "_" in s and not _underscore_ok(s):
        return False
    return not math.isinf(float(s.replace("_", "")))


def _go_parse_uint_mag(s: str, base: int) -> int | None:
    """Go ``ParseUint`` without range check; ``base`` 0 reads a 0b/0o/0x/0 prefix."""
    if not s:
        return None
    if base == 0:
        base = 10
        if s[0] == "0":
            if len(s) >= 3 and s[1] in "bB":
                base, s = 2, s[2:]
            elif len(s) >= 3 and s[1] in "oO":
                base, s = 8, s[2:]
            elif len(s) >= 3 and s[1] in "xX":
                base, s = 16, s[2:]
            else:
                base, s = 8, s[1:]
                if not s:
                    return 0
    digits = _DIGITS[base]
    if not s or any(c not in digits for c in s):
        return None
    return int(s, base)


def _go_int_ok(s: str, base: int) -> bool:
    """Whether ``ParseInt(s, base, 64)`` or ``ParseUint(s, base, 64)`` succeeds."""
    if not s:
        return False
    sign = s[0] if s[0] in "+-" else ""
    mag = _go_parse_uint_mag(s[1:] if sign else s, base)
    if mag is None:
        return False
    if sign == "-":
        return mag <= 1 << 63
    if sign == "+":
        return mag < 1 << 63
    return mag < 1 << 64


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _go_timestamp(s: str) -> bool:
    """resolve.go parseTimestamp: Go ``time.Parse`` with yaml.v3's four layouts."""
    if (
        len(s) == 20  # sops' own lastmodified, by hand (re costs start-up time)
        and s[4] == s[7] == "-"
        and s[10] in "Tt"
        and s[13] == s[16] == ":"
        and s[19] == "Z"
        and (s[:4] + s[5:7] + s[8:10] + s[11:13] + s[14:16] + s[17:19]).isascii()
        and (s[:4] + s[5:7] + s[8:10] + s[11:13] + s[14:16] + s[17:19]).isdigit()
    ):
        year, month, day = int(s[:4]), int(s[5:7]), int(s[8:10])
        if not 1 <= month <= 12 or not 1 <= day <= _days_in(month, year):
            return False
        return int(s[11:13]) < 24 and int(s[14:16]) < 60 and int(s[17:19]) < 60
    if len(s) < 8 or s[4] != "-" or not (s[:4].isascii() and s[:4].isdigit()):
        return False  # (every layout starts with four digits and "-": no re needed)
    import re  # (when needed: start-up time)

    m = re.fullmatch(_TIMESTAMP, s)
    if m is None:
        return False
    g = m.groups()
    year, month, day = int(g[0]), int(g[1]), int(g[2])
    if not 1 <= month <= 12 or not 1 <= day <= _days_in(month, year):
        return False
    if g[3] is not None:
        hms = g[4:7]
        zone = g[7]
        if zone != "Z" and (int(zone[1:3]) > 24 or int(zone[4:6]) > 60):
            return False
    elif g[8] is not None:
        hms = g[8:11]
    else:
        return True
    return int(hms[0]) < 24 and int(hms[1]) < 60 and int(hms[2]) < 60


def _resolves_non_str(s: str) -> bool:
    """Whether yaml.v3 ``resolve("", s)`` gives anything but ``!!str``."""
    if not s:
        return True
    c = s[0]
    if c == ".":
        return s in _RESOLVE_MAP or _go_parse_float_ok(s)
    if c in _HINT_MAP:
        return s in _RESOLVE_MAP
    if c not in _HINT_SIGN_DIGIT:
        return False
    if s in _RESOLVE_MAP or _go_timestamp(s):
        return True
    plain = s.replace("_", "")
    if _go_int_ok(plain, 0):
        return True
    if float_syntax(plain) and _go_parse_float_ok(plain):
        return True
    for prefix, base in (("0b", 2), ("0o", 8)):
        if plain.startswith(prefix):
            return _go_int_ok(plain[2:], base)
        if plain.startswith("-" + prefix):
            return _go_int_ok("-" + plain[3:], base)
    return False


def _can_use_plain(s: str) -> bool:
    """encode.go stringv: plain unless it would read back as another type."""
    if _resolves_non_str(s) or s in _OLD_BOOL:
        return False
    if ":" not in s:
        return True
    import re  # (when needed: start-up time)

    return re.fullmatch(_BASE60_FLOAT, s) is None


def _select_style(s: str, requested: int, simple_key: bool) -> int:
    """emitterc.go analyze_scalar + select_scalar_style, block context."""
    if not s:
        # Empty: plain allowed in block context, never in a key; no block style.
        if requested == _PLAIN:
            return _SINGLE if simple_key else _PLAIN
        return _DOUBLE if requested == _LITERAL else requested
    line_breaks = any(b in s for b in _BREAKS)
    tabs = "\t" in s
    first = s[0]
    indicator_start = (
        s.startswith("---")
        or s.startswith("...")
        or first in _FIRST_INDICATORS
        or (first in "?-" and (len(s) == 1 or s[1] in " \t"))
    )
    if s.isascii():  # the same tests by hand (an age armor, every encrypt: re costs time)
        special = not s.replace("\t", "").replace("\n", "").isprintable()
        break_space = "\n " in s or "\r " in s
        space_break = " \n" in s or " \r" in s
        block_indicators = (
            indicator_start
            or ": " in s
            or ":\t" in s
            or s.endswith(":")
            or any(c + "#" in s for c in " \t\r\n\x00")
        )
    else:
        import re  # (when needed: start-up time)

        special = re.search(_SPECIAL, s) is not None
        break_space = line_breaks and re.search(_BREAK_SPACE, s) is not None
        space_break = line_breaks and re.search(_SPACE_BREAK, s) is not None
        block_indicators = (
            indicator_start
            or re.search(_COLON_BLANK, s) is not None
            or re.search(_BLANKZ_HASH, s) is not None
        )
    block_plain = not (
        first == " "
        or s[-1] == " "
        or first in _BREAKS
        or s[-1] in _BREAKS
        or break_space
        or space_break
        or tabs
        or special
        or line_breaks
        or block_indicators
    )
    single_ok = not (break_space or space_break or tabs or special)
    block_ok = not (s[-1] == " " or space_break or special)

    style = requested
    if simple_key and line_breaks:
        style = _DOUBLE
    if style == _PLAIN and not block_plain:
        style = _SINGLE
    if style == _SINGLE and not single_ok:
        style = _DOUBLE
    if style == _LITERAL and (not block_ok or simple_key):
        style = _DOUBLE
    return style


def _plan_string(s: str, simple_key: bool) -> tuple[int, str, str]:
    """(style, text, tag) for a Go string."""
    if s == "<<":
        # Node.Encode re-parses the plain "<<" as a merge key and keeps the tag.
        return _PLAIN, s, "!!merge"
    if "\n" in s:
        requested = _LITERAL
    elif _can_use_plain(s):
        requested = _PLAIN
    else:
        requested = _DOUBLE
    return _select_style(s, requested, simple_key), s, ""


def _plan_binary(data: bytes, simple_key: bool) -> tuple[int, str, str]:
    """A []byte-like string that is not UTF-8: ``!!binary`` with yaml.v3's base64
    lines of 70 characters (each followed by a newline once there are several)."""
    import base64

    enc = base64.b64encode(data).decode("ascii")
    if len(enc) >= 70:
        enc = "".join(enc[i : i + 70] + "\n" for i in range(0, len(enc), 70))
        requested = _LITERAL
    else:
        requested = _PLAIN
    return _select_style(enc, requested, simple_key), enc, "!!binary"


def go_g(x: float) -> str:
    """``strconv.FormatFloat(x, 'g', -1, 64)`` with yaml.v3's names for the
    special values (``.inf``, ``-.inf``, ``.nan``).

    Python's ``repr`` and Go both give the shortest digits that round-trip;
    only the layout differs: Go switches to an exponent below 1e-4 and from
    1e6 on (``1e+06``, two-digit exponents)."""
    if math.isnan(x):
        return ".nan"
    if math.isinf(x):
        return ".inf" if x > 0 else "-.inf"
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    sign = "-" if x < 0 else ""
    r = repr(abs(x))
    mant, _, e = r.partition("e")
    whole, _, frac = mant.partition(".")
    if frac == "0":
        frac = ""
    digits = (whole + frac).lstrip("0")
    # decimal exponent of the first significant digit
    exp = (int(e) if e else 0) + len(whole) - 1
    if whole == "0":
        exp = (int(e) if e else 0) - (len(frac) - len(frac.lstrip("0"))) - 1
    digits = digits.rstrip("0") or "0"
    if exp < -4 or exp >= 6:
        m = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{m}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    if len(digits) <= exp + 1:
        return sign + digits + "0" * (exp + 1 - len(digits))
    return f"{sign}{digits[: exp + 1]}.{digits[exp + 1 :]}"


def _plan_scalar(value: Any, simple_key: bool) -> tuple[int, str, str]:
    """(style, text, tag) of any leaf, as sops' ``Node.Encode`` + re-encode gives it."""
    if isinstance(value, str):
        if _is_simple_plain(value):
            return _PLAIN, value, ""
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # raw bytes kept as surrogate escapes (a key)
                return _plan_binary(value.encode("utf-8", "surrogateescape"), simple_key)
        return _plan_string(value, simple_key)
    if value is None:
        return _PLAIN, "null", ""
    if isinstance(value, bool):
        return _PLAIN, "true" if value else "false", ""
    if isinstance(value, int):
        return _PLAIN, str(int(value)), ""
    if isinstance(value, float):
        return _PLAIN, go_g(value), ""
    if isinstance(value, GoTime):
        return _PLAIN, value.text, ""
    if isinstance(value, (bytes, bytearray)):
        try:
            return _plan_string(bytes(value).decode("utf-8"), simple_key)
        except UnicodeDecodeError:
            return _plan_binary(bytes(value), simple_key)
    raise TypeError(f"cannot emit a value of type {type(value).__name__} as YAML")


def _is_simple_plain(s: str) -> bool:
    """Fast path: an ASCII string that is certainly emitted plain, unquoted
    (``ENC[...]`` values, ordinary keys)."""
    if s[:1] not in _SAFE_FIRST or not s.isascii() or not s.isprintable() or s[-1] == ":":
        return False
    if " " in s:
        return s[-1] != " " and ": " not in s and " #" not in s
    return s != "<<"


# ---------------------------------------------------------------------------
# The emitter
# ---------------------------------------------------------------------------


def _join_comments(values: list[str]) -> str:
    return "#" + "\n#".join(values)


class _Emitter:
    """emitterc.go's layout state and the primitives that change it."""

    __slots__ = (
        "best",
        "column",
        "foot",
        "foot_indent",
        "head",
        "indent",
        "indention",
        "out",
        "whitespace",
    )

    def __init__(self, indent: int) -> None:
        if indent < 0:
            # sops' own check (exit 4, "Error dumping file: ..."): yaml.v3 would panic
            raise ValueError("YAML Negative indentation not accepted")
        if indent == 0:
            indent = 4  # yaml.v3 Encoder.init: 0 means the default
        if indent < 2 or indent > 9:
            indent = 2  # emitter stream start: out-of-range best_indent
        self.best = indent
        self.out: list[str] = []
        self.column = 0
        self.whitespace = True
        self.indention = True
        self.foot_indent = -1
        self.indent = -1
        self.head = ""  # pending head comment
        self.foot = ""  # pending foot comment

    # -- primitives ---------------------------------------------------------

    def put_break(self) -> None:
        self.out.append("\n")
        self.column = 0
        self.indention = True

    def write_indent(self) -> None:
        indent = self.indent if self.indent > 0 else 0
        if (
            not self.indention
            or self.column > indent
            or (self.column == indent and not self.whitespace)
        ):
            self.out.append("\n")
            self.column = 0
            self.indention = True
        if self.foot_indent == indent:
            self.out.append("\n")
            self.column = 0
            self.indention = True
        if self.column < indent:
            self.out.append(" " * (indent - self.column))
            self.column = indent
        self.whitespace = True
        self.foot_indent = -1

    def write_indicator(self, text: str, need_ws: bool, is_ws: bool, is_indention: bool) -> None:
        if need_ws and not self.whitespace:
            self.out.append(" ")
            self.column += 1
        self.out.append(text)
        self.column += len(text)
        self.whitespace = is_ws
        self.indention = self.indention and is_indention

    def write_comment(self, comment: str) -> None:
        breaks = False
        pound = False
        out = self.out
        if not any(b in comment for b in "\r\x85\u2028\u2029"):
            lines = comment.split("\n")
            for n, line in enumerate(lines):
                if n:
                    out.append("\n")
                    self.column = 0
                    self.indention = True
                    breaks = True
                    pound = False
                if line:
                    if breaks:
                        self.write_indent()
                    if not pound and line[0] != "#":
                        out.append("# ")
                        self.column += 2
                    pound = True
                    out.append(line)
                    self.column += len(line)
                    self.indention = False
                    breaks = False
        else:
            for ch in comment:
                if ch in _BREAKS:
                    self.write_break(ch)
                    breaks = True
                    pound = False
                else:
                    if breaks:
                        self.write_indent()
                    if not pound:
                        if ch != "#":
                            out.append("# ")
                            self.column += 2
                        pound = True
                    out.append(ch)
                    self.column += 1
                    self.indention = False
                    breaks = False
        if not breaks:
            self.put_break()
        self.whitespace = True

    def write_break(self, ch: str) -> None:
        self.out.append(ch)
        self.column = 0
        self.indention = True

    def process_head_comment(self) -> None:
        if self.head:
            self.write_indent()
            self.write_comment(self.head)
            self.head = ""

    def process_foot_comment(self) -> None:
        if self.foot:
            self.write_indent()
            self.write_comment(self.foot)
            self.foot = ""
            self.foot_indent = self.indent if self.indent > 0 else 0

    def increase_indent(self, flow: bool, top: int) -> None:
        if self.indent < 0:
            self.indent = self.best if flow else 0
        elif top == _SEQ_ITEM:
            self.indent += 2
        else:
            best = self.best
            self.indent = best * ((self.indent + best) // best)

    # -- scalars ------------------------------------------------------------

    def emit_scalar(self, plan: tuple[int, str, str], top: int) -> None:
        """emit_scalar: tag, then the text at an indentation one level in."""
        style, text, tag = plan
        if tag:
            if not self.whitespace:
                self.out.append(" ")
                self.column += 1
            self.out.append(tag)
            self.column += len(tag)
            self.whitespace = False
            self.indention = False
        saved = self.indent
        self.increase_indent(True, top)
        if style == _PLAIN:
            if text:
                if not self.whitespace:
                    self.out.append(" ")
                    self.column += 1
                self.out.append(text)
                self.column += len(text)
                self.whitespace = False
            self.indention = False
        elif style == _DOUBLE:
            self.write_indicator('"', True, False, False)
            plain_ascii = (
                text.isascii() and text.isprintable() and '"' not in text and "\\" not in text
            )
            if not plain_ascii:  # (lastmodified, every encrypt, needs no re: start-up time)
                import re

                if re.search(_NEEDS_ESCAPE, text):
                    text = re.sub(_NEEDS_ESCAPE, _escape, text)
            self.out.append(text)
            self.column += len(text)
            self.write_indicator('"', False, False, False)
            self.whitespace = False
            self.indention = False
        elif style == _SINGLE:
            self.write_indicator("'", True, False, False)
            if any(b in text for b in _BREAKS):
                self._write_chars(text, quote=True)
            else:
                text = text.replace("'", "''")
                self.out.append(text)
                self.column += len(text)
            self.write_indicator("'", False, False, False)
            self.whitespace = False
            self.indention = False
        else:
            self.write_literal(text)
        self.indent = saved

    def _write_chars(self, text: str, quote: bool) -> None:
        """The single-quoted writer for text holding line-break characters."""
        breaks = False
        out = self.out
        for ch in text:
            if ch == " ":
                out.append(ch)
                self.column += 1
            elif ch in _BREAKS:
                if not breaks and ch == "\n":
                    self.put_break()
                self.write_break(ch)
                breaks = True
            else:
                if breaks:
                    self.write_indent()
                if quote and ch == "'":
                    out.append("'")
                    self.column += 1
                out.append(ch)
                self.column += 1
                self.indention = False
                breaks = False

    def write_literal(self, text: str) -> None:
        self.write_indicator("|", True, False, False)
        if text[0] == " " or text[0] in _BREAKS:
            self.write_indicator(str(self.best), False, False, False)
        last = text[-1]
        if last not in _BREAKS:
            self.write_indicator("-", False, False, False)
        elif len(text) == 1 or text[-2] in _BREAKS:
            self.write_indicator("+", False, False, False)
        self.put_break()  # process_line_comment(linebreak=true) with no comment
        self.whitespace = True
        breaks = True
        out = self.out
        if not any(b in text for b in "\r\x85\u2028\u2029"):
            for n, line in enumerate(text.split("\n")):
                if n:
                    out.append("\n")
                    self.column = 0
                    self.indention = True
                    breaks = True
                if line:
                    if breaks:
                        self.write_indent()
                    out.append(line)
                    self.column += len(line)
                    self.indention = False
                    breaks = False
            return
        for ch in text:
            if ch in _BREAKS:
                self.write_break(ch)
                breaks = True
            else:
                if breaks:
                    self.write_indent()
                out.append(ch)
                self.column += 1
                self.indention = False
                breaks = False

    # -- collections --------------------------------------------------------

    def emit_collection(
        self, value: Any, top: int, extra_head: str, foot: str, before: int
    ) -> None:
        """A mapping or sequence node.  The start event is analyzed first (its
        head comment becomes pending), then the parent writes what precedes
        the node (``before``: ``_DASH`` for a block sequence item's head
        comment, indentation and ``-``; ``_ROOT`` for document_content's head
        comment), then come the parent's post-``emit_node`` steps (pending foot
        comment) and the content."""
        is_map = isinstance(value, Branch)
        comments: list[str] = []
        head = ""
        items: list[tuple[Any, Any, str]] = []
        if is_map:
            for key, val in value:
                if isinstance(key, Comment):
                    comments.append(key.value)
                elif comments:
                    if items:
                        items.append((key, val, _join_comments(comments)))
                    else:
                        head = _join_comments(comments)
                        items.append((key, val, ""))
                    comments = []
                else:
                    items.append((key, val, ""))
        else:
            for val in value:
                if isinstance(val, Comment):
                    comments.append(val.value)
                elif comments:
                    if items:
                        items.append((None, val, _join_comments(comments)))
                    else:
                        head = _join_comments(comments)
                        items.append((None, val, ""))
                    comments = []
                else:
                    items.append((None, val, ""))
        last_foot = ""
        if comments:
            if items:
                last_foot = _join_comments(comments)
            else:
                head = _join_comments(comments)
        if extra_head:
            head = extra_head + "\n" + head if head else extra_head
        # analyze(MAPPING-START / SEQUENCE-START)
        if head:
            self.head = head
        if before:
            self.process_head_comment()
            if before == _DASH:
                self.write_indent()
                self.write_indicator("-", True, False, True)
        # the parent's process_line_comment / process_foot_comment
        self.process_foot_comment()
        if not items:
            self._flow_empty(is_map, top, foot)
        elif is_map:
            self._block_mapping(items, last_foot, top, foot)
        else:
            self._block_sequence(items, last_foot, top, foot)

    def _block_mapping(
        self, pairs: list[tuple[Any, Any, str]], last_foot: str, top: int, foot: str
    ) -> None:
        saved = self.indent
        for i, (key, value, key_head) in enumerate(pairs):
            # analyze(key)
            if key_head:
                self.head = key_head
            if i == 0:
                self.increase_indent(False, top)
            if (
                not self.head
                and not self.foot
                and type(key) is str
                and key
                and len(key) <= 128
                and _is_simple_plain(key)
            ):
                # Fast path: a plain simple key with no pending comment
                # (write_indent, the key, ":" and maybe a plain value, inlined).
                indent = self.indent
                column = self.column
                if (
                    not self.indention
                    or column > indent
                    or (column == indent and not self.whitespace)
                ):
                    line = "\n"
                    column = 0
                else:
                    line = ""
                if self.foot_indent == indent:
                    line += "\n"
                    column = 0
                self.foot_indent = -1
                if column < indent:
                    line += " " * (indent - column)
                if type(value) is str and value and _is_simple_plain(value):
                    self.out.append(f"{line}{key}: {value}")
                    self.column = indent + len(key) + len(value) + 2
                    self.whitespace = False
                    self.indention = False
                    continue
                self.out.append(f"{line}{key}:")
                self.column = indent + len(key) + 1
                self.whitespace = False
                self.indention = False
            else:
                self.process_head_comment()
                self.write_indent()
                plan = _plan_scalar(key, True)
                text = plan[1]
                simple = not any(b in text for b in _BREAKS) and (
                    len(plan[2]) + len(text.encode("utf-8")) <= 128
                )
                if simple:
                    self.emit_scalar(plan, _OTHER)
                    self.write_indicator(":", False, False, False)
                else:
                    self.write_indicator("?", True, False, True)
                    self.emit_scalar(_plan_scalar(key, False), _OTHER)
                    self.write_indent()
                    self.write_indicator(":", True, False, True)
            # the value (state pushed: BLOCK_MAPPING_KEY); sops gives mapping
            # values no comments of their own
            if isinstance(value, (Branch, list)):
                self.emit_collection(value, _OTHER, "", "", 0)
            else:
                self.emit_scalar(_plan_scalar(value, False), _OTHER)
                self.process_foot_comment()
        # analyze(MAPPING-END): sops hangs trailing comments on the last key's
        # foot, which yaml.v3's encoder moves to the end event's tail comment;
        # block_mapping_key then writes it (process_head_comment) at once.
        if foot:
            self.foot = foot
        if last_foot:
            self.write_indent()
            self.write_comment(last_foot)
            self.foot_indent = self.indent if self.indent > 0 else 0
        self.process_head_comment()
        self.indent = saved

    def _block_sequence(
        self, entries: list[tuple[Any, Any, str]], last_foot: str, top: int, foot: str
    ) -> None:
        saved = self.indent
        n = len(entries)
        for i, (_, item, item_head) in enumerate(entries):
            item_foot = last_foot if i == n - 1 else ""
            if i == 0:
                self.increase_indent(False, top)
            if isinstance(item, (Branch, list)):
                self.emit_collection(item, _SEQ_ITEM, item_head, item_foot, _DASH)
            elif (
                type(item) is str
                and not (item_head or item_foot or self.head or self.foot)
                and item
                and _is_simple_plain(item)
            ):
                # Fast path: a plain item with no comment around it.
                self.write_indent()
                self.out.append("- ")
                self.out.append(item)
                self.column += len(item) + 2
                self.whitespace = False
                self.indention = False
            else:
                # analyze(item)
                if item_head:
                    self.head = item_head
                if item_foot:
                    self.foot = item_foot
                self.process_head_comment()
                self.write_indent()
                self.write_indicator("-", True, False, True)
                self.emit_scalar(_plan_scalar(item, False), _SEQ_ITEM)
                self.process_foot_comment()
        # analyze(SEQUENCE-END); block_sequence_item writes no head comment here
        if foot:
            self.foot = foot
        self.indent = saved

    def _flow_empty(self, is_map: bool, top: int, foot: str) -> None:
        """``{}`` / ``[]``: the end event handled in the flow state."""
        # analyze(END)
        if foot:
            self.foot = foot
        self.write_indicator("{" if is_map else "[", True, True, False)
        saved = self.indent
        self.increase_indent(True, top)
        if is_map:
            self.process_head_comment()
            self.indent = saved
        else:
            self.indent = saved
            if self.column == 0:
                self.write_indent()
        self.write_indicator("}" if is_map else "]", False, False, False)
        self.process_foot_comment()

    # -- documents ----------------------------------------------------------

    def emit_document(self, root: Any, first: bool) -> None:
        if not first:
            self.write_indent()
            self.write_indicator("---", True, False, False)
            self.write_indent()
        if self.head:
            self.process_head_comment()
            self.put_break()
        if isinstance(root, (Branch, list)):
            self.emit_collection(root, _OTHER, "", "", _ROOT)
        else:
            self.emit_scalar(_plan_scalar(root, False), _OTHER)
            self.process_foot_comment()
        # document end
        self.foot_indent = 0
        self.process_foot_comment()
        self.foot_indent = -1
        self.write_indent()

    def getvalue(self) -> bytes:
        return "".join(self.out).encode("utf-8")


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    esc = _ESCAPES.get(ch)
    if esc is not None:
        return esc
    cp = ord(ch)
    if cp <= 0xFF:
        return f"\\x{cp:02X}"
    if cp <= 0xFFFF:
        return f"\\u{cp:04X}"
    return f"\\U{cp:08X}"


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def emit_plain(branches: list[Branch], indent: int = 4) -> bytes:
    """sops ``EmitPlainFile``: one YAML document per branch."""
    emitter = _Emitter(indent)
    for n, branch in enumerate(branches):
        emitter.emit_document(branch, n == 0)
    return emitter.getvalue()


def emit_encrypted(branches: list[Branch], metadata: Branch, indent: int = 4) -> bytes:
    """sops ``EmitEncryptedFile``: each document gets the item ``sops: <metadata>``
    appended to its top-level mapping."""
    emitter = _Emitter(indent)
    for n, branch in enumerate(branches):
        emitter.emit_document(Branch([*branch, ("sops", metadata)]), n == 0)
    return emitter.getvalue()


def emit_value(value: Any, indent: int = 4) -> bytes:
    """What ``sops decrypt --extract`` prints for a value of the first document.

    * a mapping: the plain file with that mapping as its only document (sops
      prints the *other* documents of a multi-document file after it; the
      caller passes them to :func:`emit_plain` if it wants that);
    * a string: its raw bytes, no newline;
    * anything else: ``yaml.Marshal`` of the node, always indented by 4.
    """
    if isinstance(value, Branch):
        return emit_plain([value], indent)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    emitter = _Emitter(4)
    emitter.emit_document(value, True)
    return emitter.getvalue()
