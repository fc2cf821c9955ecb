"""Which tag and Go value a scalar gets: ``!!str``, ``!!int``, ``!!float``,
``!!bool``, ``!!null``, ``!!timestamp``, ``!!binary``.

Follows ``resolve.go`` (``resolve``, ``shortTag``, ``parseTimestamp``) and the
parts of Go's ``strconv`` it relies on: ``0x``/``0o``/``0b`` and legacy octal
integers, ``uint64`` past int64 (sops cannot walk those), YAML 1.2 booleans,
timestamps as ``time.Time`` in ``MarshalText`` form.
"""

from __future__ import annotations

from homelab_secrets.sops.model import GoTime, Uint64
from homelab_secrets.sops.stores.yaml.yamlh import REDACTED, pat

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any

STR_TAG = "!!str"
NULL_TAG = "!!null"
BOOL_TAG = "!!bool"
INT_TAG = "!!int"
FLOAT_TAG = "!!float"
TIMESTAMP_TAG = "!!timestamp"
SEQ_TAG = "!!seq"
MAP_TAG = "!!map"
BINARY_TAG = "!!binary"
MERGE_TAG = "!!merge"
_LONG_TAG_PREFIX = "tag:yaml.org,2002:"


def short_tag(tag: str) -> str:
    if tag.startswith(_LONG_TAG_PREFIX):
        return "!!" + tag[len(_LONG_TAG_PREFIX) :]
    return tag


_NAN = float("nan")
_INF = float("inf")
_RESOLVE_MAP: dict[str, tuple[str, Any]] = {
    "true": (BOOL_TAG, True),
    "True": (BOOL_TAG, True),
    "TRUE": (BOOL_TAG, True),
    "false": (BOOL_TAG, False),
    "False": (BOOL_TAG, False),
    "FALSE": (BOOL_TAG, False),
    "": (NULL_TAG, None),
    "~": (NULL_TAG, None),
    "null": (NULL_TAG, None),
    "Null": (NULL_TAG, None),
    "NULL": (NULL_TAG, None),
    ".nan": (FLOAT_TAG, _NAN),
    ".NaN": (FLOAT_TAG, _NAN),
    ".NAN": (FLOAT_TAG, _NAN),
    ".inf": (FLOAT_TAG, _INF),
    ".Inf": (FLOAT_TAG, _INF),
    ".INF": (FLOAT_TAG, _INF),
    "+.inf": (FLOAT_TAG, _INF),
    "+.Inf": (FLOAT_TAG, _INF),
    "+.INF": (FLOAT_TAG, _INF),
    "-.inf": (FLOAT_TAG, -_INF),
    "-.Inf": (FLOAT_TAG, -_INF),
    "-.INF": (FLOAT_TAG, -_INF),
    "<<": (MERGE_TAG, "<<"),
}
# resolve.go's hint table: what the first character says about the scalar.
_HINT_DIGIT = 1
_HINT_SIGN = 2
_HINT_MAP = 3
_HINT_DOT = 4
HINTS: dict[str, int] = dict.fromkeys("0123456789", _HINT_DIGIT)
HINTS.update({"+": _HINT_SIGN, "-": _HINT_SIGN, ".": _HINT_DOT})
HINTS.update(dict.fromkeys("yYnNtTfFoO~", _HINT_MAP))
_RESOLVABLE = frozenset(("", STR_TAG, BOOL_TAG, INT_TAG, FLOAT_TAG, NULL_TAG, TIMESTAMP_TAG))
_INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_UINT64_MAX = 2**64 - 1
_DIGITS_OF_BASE = {
    2: frozenset("01"),
    8: frozenset("01234567"),
    10: frozenset("0123456789"),
    16: frozenset("0123456789abcdefABCDEF"),
}


class DecodeError(Exception):
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
    return value if _INT64_MIN <= value <= INT64_MAX else None


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


def float_syntax(s: str) -> bool:
    """resolve.go's ``yamlStyleFloat``, ``[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?``,
    matched by hand (``re`` costs start-up time, and every sops file has a
    ``version: 3.11.0`` to resolve)."""
    n = len(s)
    i = 1 if n and s[0] in "+-" else 0
    start = i
    while i < n and "0" <= s[i] <= "9":
        i += 1
    whole = i > start
    if i < n and s[i] == ".":
        i += 1
        fraction = i
        while i < n and "0" <= s[i] <= "9":
            i += 1
        if not whole and i == fraction:
            return False
    elif not whole:
        return False
    if i < n and s[i] in "eE":
        i += 1
        if i < n and s[i] in "+-":
            i += 1
        exponent = i
        while i < n and "0" <= s[i] <= "9":
            i += 1
        if i == exponent:
            return False
    return i == n


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
    m = pat("timestamp").fullmatch(s)
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


def resolve_plain(value: str) -> tuple[str, Any]:
    """``resolve("", value)``: the tag and Go value of a plain scalar."""
    hint = HINTS.get(value[:1], 0) if value else _HINT_MAP
    if not hint:
        return STR_TAG, value
    item = _RESOLVE_MAP.get(value)
    if item is not None:
        return item
    if hint == _HINT_DOT:
        if pat("dot_float").fullmatch(value):
            f = _go_parse_float(value)
            if f is not None:
                return FLOAT_TAG, f
        return STR_TAG, value
    if hint == _HINT_MAP:
        return STR_TAG, value
    return _resolve_number(value, True)


def _resolve_number(value: str, try_timestamp: bool) -> tuple[str, Any]:
    if try_timestamp:
        t = _parse_timestamp(value)
        if t is not None:
            return TIMESTAMP_TAG, t
    plain = value.replace("_", "")
    i = _go_parse_int(plain)
    if i is not None:
        return INT_TAG, i
    u = _go_parse_uint(plain)
    if u is not None:
        return INT_TAG, Uint64(u)
    if float_syntax(plain):
        f = _go_parse_float(plain)
        if f is not None:
            return FLOAT_TAG, f
    for prefix, base, sign in (("0b", 2, ""), ("-0b", 2, "-"), ("0o", 8, ""), ("-0o", 8, "-")):
        if plain.startswith(prefix):
            i = _go_parse_int(sign + plain[len(prefix) :], base)
            if i is not None:
                return INT_TAG, i
            if not sign:
                u = _go_parse_uint(plain[len(prefix) :], base)
                if u is not None:
                    return INT_TAG, Uint64(u)
            break
    return STR_TAG, value


def resolve(tag: str, value: str) -> tuple[str, Any]:
    """resolve.go's ``resolve(tag, in)``; raises :class:`DecodeError` when an
    explicit tag does not fit the value."""
    tag = short_tag(tag)
    if tag not in _RESOLVABLE:
        return tag, value
    if tag == "":
        return resolve_plain(value)
    if tag == STR_TAG:
        return STR_TAG, value
    hint = HINTS.get(value[:1], 0) if value else _HINT_MAP
    rtag: str
    out: Any
    if not hint:
        rtag, out = STR_TAG, value
    else:
        item = _RESOLVE_MAP.get(value)
        if item is not None:
            rtag, out = item
        elif hint == _HINT_DOT:
            f = _go_parse_float(value) if pat("dot_float").fullmatch(value) else None
            rtag, out = (FLOAT_TAG, f) if f is not None else (STR_TAG, value)
        elif hint == _HINT_MAP:
            rtag, out = STR_TAG, value
        else:
            rtag, out = _resolve_number(value, tag == TIMESTAMP_TAG)
    if rtag == tag:
        return rtag, out
    if tag == FLOAT_TAG and rtag == INT_TAG and not isinstance(out, Uint64):
        return FLOAT_TAG, float(out)
    raise DecodeError(f"yaml: cannot decode {rtag} `{REDACTED}` as a {tag}")


def decode_binary(text: str) -> bytes:
    import base64
    import binascii

    cleaned = text.replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise DecodeError("yaml: !!binary value contains invalid base64 data") from None
