"""The JSON store (sops' ``stores/json/store.go``), byte-compatible with sops 3.11.

Loading
    Key order and duplicate keys are kept (sops reads a token stream).  Every
    number is a ``float`` (Go ``float64``: sops 3.11 has no ``UseNumber``), so
    ``42`` is encrypted as ``type:float``; a number out of float64 range fails.
    Strings are decoded as Go does: an invalid UTF-8 byte and a lone ``\\uD8xx``
    surrogate escape become U+FFFD.  The top level must be an object.  A plain
    file may have anything after its top-level object (sops stops reading
    there); an encrypted file is checked whole, as ``json.Unmarshal`` does.

Writing
    ``json.Marshal`` for leaves (``<``, ``>``, ``&``, U+2028 and U+2029
    escaped; non-ASCII raw; an invalid UTF-8 byte written as ``\\ufffd``),
    Go's float format, comments dropped, then ``json.Indent`` with a tab (or N
    spaces) and a final newline.
"""

from __future__ import annotations

import json
import math
import re
from json.encoder import encode_basestring

from homelab_secrets.errors import ExitCode
from homelab_secrets.sops.model import Branch, Comment, GoTime, NilList, go_type_name
from homelab_secrets.sops.stores import MetadataNotFound, StoreError
from homelab_secrets.sops.stores.flatten import (
    check_metadata,
    fixed_from_digits,
    json_kind,
    shortest_digits,
)

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["JsonStore", "format_json_float", "json_string", "make_store"]

SOPS_KEY = "sops"

_WHITESPACE = " \t\n\r"
# A \uD800-\uDFFF escape: the only way (besides invalid UTF-8) to get a
# surrogate out of Python's decoder, which Go turns into U+FFFD.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_HTML_UNSAFE = re.compile("[<>&\u2028\u2029]")
_HTML_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


class _NumberOutOfRange(Exception):
    pass


class _BadConstant(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.first = name[0]


def _go_number(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _NumberOutOfRange
    return value


def _bad_constant(name: str) -> Any:
    raise _BadConstant(name)


_TREE_DECODER = json.JSONDecoder(
    object_pairs_hook=Branch,
    parse_float=_go_number,
    parse_int=_go_number,
    parse_constant=_bad_constant,
)


class _FloatLiteral(float):
    """A float that remembers its JSON text (Go quotes it in type errors)."""

    text: str

    def __new__(cls, text: str) -> _FloatLiteral:
        value = super().__new__(cls, text)
        value.text = text
        return value


_PLAIN_DECODER = json.JSONDecoder(parse_float=_FloatLiteral, parse_constant=_bad_constant)

#: Go's ``encoding/json`` scanner stops at 10,000 nested objects and arrays
#: (``maxNestingDepth``); sops meets it when it indents what it writes.
MAX_NESTING_DEPTH = 10_000


def _raw_decode(decoder: json.JSONDecoder, text: str, start: int) -> tuple[Any, int]:
    """``decoder.raw_decode``; past the C scanner's recursion limit, with the
    pure-Python scanner (which :mod:`homelab_secrets.sops.deep` can take as
    deep as sops goes: its RecursionError makes it run again deeper)."""
    try:
        return decoder.raw_decode(text, start)
    except RecursionError:
        pass
    from json.scanner import py_make_scanner  # type: ignore[attr-defined]

    deep = json.JSONDecoder(
        object_pairs_hook=decoder.object_pairs_hook,
        parse_float=decoder.parse_float,
        parse_int=decoder.parse_int,
        parse_constant=decoder.parse_constant,
    )
    deep.scan_once = py_make_scanner(deep)  # type: ignore[attr-defined]
    return deep.raw_decode(text, start)


def make_store(indent: int = -1, **_: Any) -> JsonStore:
    return JsonStore(indent)


# ------------------------------------------------------------------------------ loading
def _decode_text(data: bytes) -> tuple[str, bool]:
    """The input as text; ``True`` when it had invalid UTF-8 (kept as
    surrogateescape code points, fixed after parsing)."""
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", "surrogateescape"), True


def _syntax_message(exc: json.JSONDecodeError) -> str:
    # Python's messages never quote the input; Go's sometimes do (a
    # character), so we keep Python's wording plus the position.
    return f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"


def _parse_tree(text: str, had_invalid_utf8: bool) -> Branch:
    """sops' ``treeBranchFromJSON``: the top-level object, nothing after it
    read.  Fails with :class:`StoreError` (the message without sops' prefix)."""
    start = len(text) - len(text.lstrip(_WHITESPACE))
    if start == len(text):
        raise StoreError("EOF")
    first = text[start]
    if first != "{":
        if first == "[":
            raise StoreError("Expected JSON object start, got delimiter [ instead")
        try:
            value, _ = _raw_decode(_TREE_DECODER, text, start)
        except (json.JSONDecodeError, _BadConstant, _NumberOutOfRange) as exc:
            raise _translate_parse_error(exc) from None
        raise StoreError(
            f"Expected JSON object start, got a value of type {go_type_name(value)} instead"
        )
    try:
        branch, _ = _raw_decode(_TREE_DECODER, text, start)
    except (json.JSONDecodeError, _BadConstant, _NumberOutOfRange) as exc:
        raise _translate_parse_error(exc) from None
    if had_invalid_utf8 or _SURROGATE_ESCAPE.search(text):
        branch = _replace_surrogates(branch)
    if not isinstance(branch, Branch):  # pragma: no cover - the first byte was "{"
        raise StoreError("Expected JSON object start")
    return branch


def _translate_parse_error(exc: Exception) -> StoreError:
    if isinstance(exc, json.JSONDecodeError):
        return StoreError(_syntax_message(exc))
    if isinstance(exc, _BadConstant):
        return StoreError(f"invalid character '{exc.first}' looking for beginning of value")
    return StoreError("json: cannot unmarshal number into Go value of type float64")


def _fix_string(text: str) -> str:
    return _SURROGATE.sub("\ufffd", text)


def _replace_surrogates(value: Any) -> Any:
    """Go's decoder writes U+FFFD for each invalid UTF-8 byte and each lone
    surrogate escape; Python's keeps surrogates.  Only called when the input
    may hold some."""
    if isinstance(value, str):
        return _fix_string(value)
    if isinstance(value, Branch):
        return Branch(
            (_fix_string(k) if isinstance(k, str) else k, _replace_surrogates(v)) for k, v in value
        )
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    return value


def _decode_whole(text: str) -> Any:
    """``json.Unmarshal``'s syntax check: one value and nothing but
    whitespace after it (``JSONDecoder.decode``, deep documents included)."""
    start = len(text) - len(text.lstrip(_WHITESPACE))
    document, end = _raw_decode(_PLAIN_DECODER, text, start)
    rest = len(text) - len(text[end:].lstrip(_WHITESPACE))
    if rest != len(text):
        raise json.JSONDecodeError("Extra data", text, rest)
    return document


def unmarshal(data: bytes) -> Any:
    """``json.Unmarshal(data, &interface{})`` with sops' JSON store for
    objects: a :class:`Branch` (keys in order), a ``list``, a ``float`` (every
    number), a ``str``, a ``bool`` or ``None``.  :class:`StoreError` (no
    content quoted) when it is not one JSON value."""
    text, invalid = _decode_text(data)
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = _raw_decode(_TREE_DECODER, text, start)
    except (json.JSONDecodeError, _BadConstant, _NumberOutOfRange) as exc:
        raise _translate_parse_error(exc) from None
    if len(text[end:].lstrip(_WHITESPACE)):
        raise StoreError("invalid character after top-level value")
    if invalid or _SURROGATE_ESCAPE.search(text):
        value = _replace_surrogates(value)
    return value


def _metadata_from_document(text: str) -> dict[str, Any]:
    """sops' first pass: ``json.Unmarshal(in, &stores.SopsFile{})``."""
    try:
        document = _decode_whole(text)
    except json.JSONDecodeError as exc:
        raise StoreError(
            f"Error unmarshalling input json: {_syntax_message(exc)}", ExitCode.ERROR_GENERIC
        ) from None
    except _BadConstant as exc:
        raise StoreError(
            f"Error unmarshalling input json: invalid character '{exc.first}' looking for "
            "beginning of value",
            ExitCode.ERROR_GENERIC,
        ) from None
    if not isinstance(document, dict):
        raise StoreError(
            f"Error unmarshalling input json: json: cannot unmarshal {json_kind(document)} "
            "into Go value of type stores.SopsFile",
            ExitCode.ERROR_GENERIC,
        )
    raw: Any = None
    found = False
    for key, value in document.items():
        # Go matches struct fields case-insensitively (exact match preferred).
        if key == SOPS_KEY or key.casefold() == SOPS_KEY:
            raw, found = value, True
    if not found or raw is None:
        raise MetadataNotFound()
    if not isinstance(raw, dict):
        raise StoreError(
            f"Error unmarshalling input json: json: cannot unmarshal {json_kind(raw)} into Go "
            "struct field SopsFile.sops of type stores.Metadata",
            ExitCode.ERROR_GENERIC,
        )
    try:
        return check_metadata(raw, root=SOPS_KEY)
    except StoreError as exc:
        raise StoreError(
            f"Error unmarshalling input json: {exc.message}", ExitCode.ERROR_GENERIC
        ) from None


# ------------------------------------------------------------------------------ writing
def format_json_float(value: float) -> str:
    """``encoding/json``'s float64 format: shortest digits, plain notation
    unless ``abs < 1e-6`` or ``abs >= 1e21`` (then ``1e-7``, ``1e+21``)."""
    if math.isnan(value):
        raise _Unsupported("NaN")
    if math.isinf(value):
        raise _Unsupported("+Inf" if value > 0 else "-Inf")
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    magnitude = abs(value)
    text = repr(value)
    if 1e-6 <= magnitude < 1e21:
        if "e" not in text:
            return text[:-2] if text.endswith(".0") else text
        digits, exponent = shortest_digits(value)
        return ("-" if value < 0 else "") + fixed_from_digits(digits, exponent)
    digits, exponent = shortest_digits(value)
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    sign = "-" if value < 0 else ""
    return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent)}"


class _Unsupported(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what
        self.depth = 0


def json_string(value: str | bytes) -> str:
    """``json.Marshal`` of a Go string (``str``, or ``bytes`` for raw data)."""
    if isinstance(value, bytes):
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            return _json_string_invalid_utf8(value)
    else:
        text = value
    if not text.isascii() and _SURROGATE.search(text):
        return _json_string_invalid_utf8(_go_bytes(text))
    out: str = encode_basestring(text)
    if _HTML_UNSAFE.search(text):
        out = out.translate(_HTML_ESCAPES)
    return out


def _go_bytes(text: str) -> bytes:
    """The Go string a Python ``str`` stands for: surrogateescape code points
    are raw bytes; any other surrogate is its (invalid) 3-byte UTF-8 form."""
    return b"".join(
        bytes([ord(ch) - 0xDC00])
        if 0xDC80 <= ord(ch) <= 0xDCFF
        else ch.encode("utf-8", "surrogatepass")
        for ch in text
    )


def _json_string_invalid_utf8(raw: bytes) -> str:
    text = raw.decode("utf-8", "surrogateescape")
    out: str = encode_basestring(text)
    if _HTML_UNSAFE.search(text):
        out = out.translate(_HTML_ESCAPES)
    # each invalid byte: Go writes the six characters \ufffd
    return _SURROGATE.sub(lambda _m: "\\ufffd", out)


class _TooDeep(Exception):
    def __init__(self, opener: str) -> None:
        super().__init__(opener)
        self.opener = opener


class _Emitter:
    __slots__ = ("newlines", "unit")

    def __init__(self, unit: str) -> None:
        self.unit = unit
        self.newlines = ["\n"]

    def newline(self, depth: int) -> str:
        lines = self.newlines
        while len(lines) <= depth:
            lines.append("\n" + self.unit * len(lines))
        return lines[depth]

    def emit(self, value: Any, out: list[str], depth: int) -> None:
        kind = type(value)
        if kind is str:
            out.append(json_string(value))
        elif kind is float:
            out.append(format_json_float(value))
        elif kind is Branch:
            self.emit_branch(value, out, depth)
        elif kind is list:
            self.emit_list(value, out, depth)
        elif value is None:
            out.append("null")
        elif kind is bool:
            out.append("true" if value else "false")
        elif isinstance(value, NilList):
            if value:
                self.emit_list(value, out, depth)
            else:
                out.append("null")
        elif isinstance(value, Branch):
            self.emit_branch(value, out, depth)
        elif isinstance(value, list):
            self.emit_list(value, out, depth)
        elif isinstance(value, bool):
            out.append("true" if value else "false")
        elif isinstance(value, int):
            out.append(str(int(value)))
        elif isinstance(value, float):
            out.append(format_json_float(float(value)))
        elif isinstance(value, (str, bytes)):
            out.append(json_string(value))
        elif isinstance(value, GoTime):
            out.append('"' + value.text + '"')
        elif isinstance(value, dict):
            self.emit_branch(Branch(value.items()), out, depth)
        else:
            raise StoreError(
                f"Error marshaling to json: json: unsupported type: {type(value).__name__}",
                ExitCode.ERROR_DUMPING_TREE,
            )

    def emit_branch(self, branch: Branch, out: list[str], depth: int) -> None:
        if depth >= MAX_NESTING_DEPTH:
            raise _TooDeep("{")
        inner = self.newline(depth + 1)
        separator = inner
        empty = True
        for key, value in branch:
            if isinstance(key, Comment):
                continue
            if empty:
                out.append("{")
                empty = False
            out.append(separator)
            separator = "," + inner
            out.append(json_string(key) if isinstance(key, (str, bytes)) else json_string(str(key)))
            out.append(": ")
            try:
                self.emit(value, out, depth + 1)
            except _Unsupported as exc:
                exc.depth += 1
                raise
        if empty:
            out.append("{}")
        else:
            out.append(self.newline(depth))
            out.append("}")

    def emit_list(self, items: list[Any], out: list[str], depth: int) -> None:
        if depth >= MAX_NESTING_DEPTH:
            raise _TooDeep("[")
        inner = self.newline(depth + 1)
        separator = inner
        empty = True
        for item in items:
            if isinstance(item, Comment):
                continue
            if empty:
                out.append("[")
                empty = False
            out.append(separator)
            separator = "," + inner
            self.emit(item, out, depth + 1)
        if empty:
            out.append("[]")
        else:
            out.append(self.newline(depth))
            out.append("]")


class JsonStore:
    """sops' JSON store.  ``indent``: -1 for a tab (sops' default), N ≥ 0 for
    N spaces (``stores.json.indent``)."""

    name = "json"

    def __init__(self, indent: int = -1) -> None:
        self.indent = indent

    # -------------------------------------------------------------------- Store API
    def load_plain(self, data: bytes) -> list[Branch]:
        text, invalid = _decode_text(data)
        try:
            branch = _parse_tree(text, invalid)
        except StoreError as exc:
            raise StoreError(f"Could not unmarshal input data: {exc.message}") from None
        return [branch]

    def load_encrypted(self, data: bytes) -> tuple[list[Branch], dict[str, Any]]:
        text, invalid = _decode_text(data)
        metadata = _metadata_from_document(text)
        try:
            branch = _parse_tree(text, invalid)
        except StoreError as exc:
            raise StoreError(
                f"Could not unmarshal input data: {exc.message}", ExitCode.ERROR_GENERIC
            ) from None
        if any(key == SOPS_KEY for key, _ in branch):
            branch = Branch(item for item in branch if item[0] != SOPS_KEY)
        return [branch], metadata

    def emit_plain(self, branches: list[Branch]) -> bytes:
        return self._document(branches[0] if branches else Branch()) + b"\n"

    def emit_encrypted(self, branches: list[Branch], metadata: Branch) -> bytes:
        tree = Branch(branches[0] if branches else ())
        tree.append((SOPS_KEY, metadata))
        return self._document(tree) + b"\n"

    def emit_value(self, value: Any) -> bytes:
        """sops' ``EmitValue`` (``--extract`` of a list or scalar): the value
        indented, no final newline.  ``--extract`` itself prints a string raw
        and a mapping through :meth:`emit_plain`; this does the same for them."""
        if isinstance(value, str):
            return value.encode("utf-8", "surrogateescape")
        if isinstance(value, bytes):
            return value
        if isinstance(value, Branch):
            return self.emit_plain([value])
        return self._render(value)

    def has_sops_top_level_key(self, branch: Branch) -> bool:
        """``HasSopsTopLevelKey``: the encrypt command refuses such a file (exit 203)."""
        return any(key == SOPS_KEY for key, _ in branch)

    # -------------------------------------------------------------------- helpers
    def _unit(self) -> str:
        if self.indent < -1:
            raise StoreError(
                "JSON Indentation parameter smaller than -1 is not accepted",
                ExitCode.ERROR_DUMPING_TREE,
            )
        return "\t" if self.indent == -1 else " " * self.indent

    def _render(self, value: Any, context: str = "") -> bytes:
        emitter = _Emitter(self._unit())
        out: list[str] = []
        try:
            emitter.emit(value, out, 0)
        except _Unsupported as exc:
            wrapped = "Error encoding value : " * exc.depth
            raise StoreError(
                f"{context}{wrapped}json: unsupported value: {exc.what}",
                ExitCode.ERROR_DUMPING_TREE,
            ) from None
        except _TooDeep as exc:  # json.Indent's scanner, on what Marshal wrote
            raise StoreError(
                f"{context}invalid character '{exc.opener}' exceeded max depth",
                ExitCode.ERROR_DUMPING_TREE,
            ) from None
        return "".join(out).encode("utf-8")

    def _document(self, branch: Branch) -> bytes:
        return self._render(branch, "Error marshaling to json: ")
