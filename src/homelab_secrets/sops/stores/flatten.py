"""What the flat stores (dotenv, INI) share with sops' ``stores`` package.

* :func:`flatten_metadata` / :func:`unflatten_metadata`: the ``sops`` block as
  flat ``key → string`` pairs (``stores/flatten.go``): maps join with
  ``__map_``, lists with ``__list_<i>``; nulls and empty containers vanish;
  newlines travel as the two characters ``\\n``; ``mac_only_encrypted`` and
  ``shamir_threshold`` are strings on disk (``EncodeNonStrings`` /
  ``DecodeNonStrings``).
* :func:`check_metadata`: what Go's ``json.Unmarshal`` into ``stores.Metadata``
  accepts (sops runs it for JSON files directly and for the flat stores after
  unflattening): field types, with Go's error text, and field names matched
  case-insensitively as Go does.
* :func:`val_to_string` (``stores.ValToString``) and :func:`go_sprint`
  (``fmt.Sprintf("%v")``): how a non-string leaf becomes text in a flat file.

Messages name keys and types, never values.
"""

from __future__ import annotations

import math
import re

from homelab_secrets.errors import ExitCode
from homelab_secrets.sops.model import Branch, Comment, GoTime, NilList
from homelab_secrets.sops.stores import StoreError

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any

MAP_SEPARATOR = "__map_"
LIST_SEPARATOR = "__list_"

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# Longest list index accepted when unflattening (Go would allocate any size).
_MAX_LIST_INDEX = 100_000


# ----------------------------------------------------------------------------- flatten
def flatten_metadata(metadata: Branch) -> list[tuple[str, str]]:
    """The metadata block as flat pairs, sorted by key (bytewise, like Go's
    ``sort.Strings``), values ready to write (newlines escaped).

    dotenv writes them sorted (sops does too); INI writes them in this order
    as well, where sops 3.11 uses Go's random map order.
    """
    flat: dict[str, str] = {}
    for key, value in metadata:
        if isinstance(key, Comment):
            continue
        _flatten_into(flat, str(key), value)
    return sorted(flat.items())


def _flatten_into(into: dict[str, str], prefix: str, value: Any) -> None:
    if value is None or isinstance(value, NilList):
        return  # null: skipped (EmitEncryptedFile drops nil values)
    if isinstance(value, Branch):
        for key, item in value:
            if not isinstance(key, Comment):
                _flatten_into(into, f"{prefix}{MAP_SEPARATOR}{key}", item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten_into(into, f"{prefix}{MAP_SEPARATOR}{key}", item)
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _flatten_into(into, f"{prefix}{LIST_SEPARATOR}{index}", item)
        return
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value
    else:
        text = val_to_string(value)
    into[prefix] = text.replace("\n", "\\n")


# --------------------------------------------------------------------------- unflatten
def unflatten_metadata(flat: dict[str, Any]) -> dict[str, Any]:
    """Flat ``key → value`` pairs (prefix already removed) back to the nested
    raw ``sops`` mapping: ``DecodeNewLines``, ``DecodeNonStrings``, then
    ``Unflatten``.  ``mac_only_encrypted`` becomes a bool (true only for the
    exact text ``true``) and ``shamir_threshold`` an int; everything else stays
    a string.  List holes are ``None``.
    """
    decoded: dict[str, Any] = {}
    for key, value in flat.items():
        decoded[key] = value.replace("\\n", "\n") if isinstance(value, str) else value
    if "mac_only_encrypted" in decoded:
        decoded["mac_only_encrypted"] = decoded["mac_only_encrypted"] == "true"
    if "shamir_threshold" in decoded:
        raw = decoded["shamir_threshold"]
        if isinstance(raw, str):
            if not re.fullmatch(r"[+-]?[0-9]+", raw) or not _INT64_MIN <= int(raw) <= _INT64_MAX:
                raise StoreError(
                    "shamir_threshold is not an integer: strconv.Atoi: invalid syntax",
                    ExitCode.ERROR_GENERIC,
                )
            decoded["shamir_threshold"] = int(raw)
        elif not isinstance(raw, int) or isinstance(raw, bool):
            raise StoreError(
                "shamir_threshold is neither a string nor an integer", ExitCode.ERROR_GENERIC
            )
    root: dict[str, Any] = {}
    # Go ranges over a map (random order); sorted order is deterministic, and
    # the only inputs whose result depends on the order are the ones Go
    # crashes on.
    for key in sorted(decoded):
        _unflatten_one(root, key, decoded[key])
    return root


def _tokenize(path: str) -> list[str | int]:
    """``a__map_b__list_0`` → ``["a", "b", 0]`` (``stores.tokenize``)."""
    tokens: list[str | int] = []
    state = 0  # 0: first token, 1: after __map_, 2: after __list_
    last = 0
    i = 0

    def finish(end: int) -> None:
        if state == 0:
            tokens.append(path[last:end])
        elif state == 1:
            tokens.append(path[last + len(MAP_SEPARATOR) : end])
        else:
            text = path[last + len(LIST_SEPARATOR) : end]
            # strconv.Atoi; Go ignores its error (position 0)
            tokens.append(int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else 0)

    while i < len(path):
        if path.startswith(MAP_SEPARATOR, i):
            finish(i)
            last, state = i, 1
            i += len(MAP_SEPARATOR)
        elif path.startswith(LIST_SEPARATOR, i):
            finish(i)
            last, state = i, 2
            i += len(LIST_SEPARATOR)
        else:
            i += 1
    finish(len(path))
    return tokens


def _unflatten_one(root: dict[str, Any], key: str, value: Any) -> None:
    def bad() -> StoreError:
        return StoreError(
            f"invalid sops metadata: the flattened key {key!r} conflicts with another key",
            ExitCode.ERROR_GENERIC,
        )

    tokens = _tokenize(key)
    node: Any = root
    for pos, token in enumerate(tokens):
        last = pos == len(tokens) - 1
        nxt = None if last else tokens[pos + 1]
        if isinstance(token, int):
            if not isinstance(node, list) or token < 0 or token >= len(node):
                raise bad()
            slot: Any = token
        else:
            if not isinstance(node, dict):
                raise bad()
            slot = token
        if last:
            node[slot] = value
            return
        if isinstance(nxt, int):
            if nxt < 0 or nxt > _MAX_LIST_INDEX:
                raise bad()
            current = node[slot] if (isinstance(node, list) or slot in node) else None
            if current is None:
                current = [None] * (nxt + 1)
                node[slot] = current
            if not isinstance(current, list):
                raise bad()
            if nxt >= len(current):
                current.extend([None] * (nxt + 1 - len(current)))
        else:
            current = node[slot] if (isinstance(node, list) or slot in node) else None
            if current is None:
                current = {}
                node[slot] = current
            if not isinstance(current, dict):
                raise bad()
        node = current


# ------------------------------------------------------------------- metadata checking
_S = "string"
_KEY_STRUCTS: dict[str, dict[str, str]] = {
    "pgpkey": {"created_at": _S, "enc": _S, "fp": _S},
    "kmskey": {
        "arn": _S,
        "role": _S,
        "context": "map[string]*string",
        "created_at": _S,
        "enc": _S,
        "aws_profile": _S,
    },
    "gcpkmskey": {"resource_id": _S, "created_at": _S, "enc": _S},
    "hckmskey": {"key_id": _S, "created_at": _S, "enc": _S},
    "azkvkey": {"vault_url": _S, "name": _S, "version": _S, "created_at": _S, "enc": _S},
    "vaultkey": {
        "vault_address": _S,
        "engine_path": _S,
        "key_name": _S,
        "created_at": _S,
        "enc": _S,
    },
    "agekey": {"recipient": _S, "enc": _S},
}
_KEY_LISTS = {
    "pgp": "pgpkey",
    "kms": "kmskey",
    "gcp_kms": "gcpkmskey",
    "hckms": "hckmskey",
    "azure_kv": "azkvkey",
    "hc_vault": "vaultkey",
    "age": "agekey",
}
_METADATA_FIELDS: dict[str, str] = {
    "shamir_threshold": "int",
    "key_groups": "[]stores.keygroup",
    **{name: f"[]stores.{struct}" for name, struct in _KEY_LISTS.items()},
    "lastmodified": _S,
    "mac": _S,
    "unencrypted_suffix": _S,
    "encrypted_suffix": _S,
    "unencrypted_regex": _S,
    "encrypted_regex": _S,
    "unencrypted_comment_regex": _S,
    "encrypted_comment_regex": _S,
    "mac_only_encrypted": "bool",
    "version": _S,
}
_KEYGROUP_FIELDS = {name: f"[]stores.{struct}" for name, struct in _KEY_LISTS.items()}


def json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    return "object"


class _FirstError:
    """Go's decoder keeps going after a type mismatch and reports the first."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.message: str | None = None

    def type_error(self, value: Any, gotype: str, struct: str, path: list[str]) -> None:
        if self.message is not None:
            return
        kind = json_kind(value)
        if kind == "number" and gotype == "int":
            kind = f"number {_number_text(value)}"
        field = ".".join(path)
        self.message = (
            f"json: cannot unmarshal {kind} into Go struct field {struct}.{field} of type {gotype}"
        )


def _number_text(value: Any) -> str:
    text = getattr(value, "text", None)  # the JSON literal, when the loader kept it
    if isinstance(text, str):
        return text
    if isinstance(value, float):
        return format_float_g(value, "e")
    return str(value)


def _canonical(fields: dict[str, str], key: str) -> str | None:
    if key in fields:
        return key
    folded = key.casefold()
    for name in fields:
        if name.casefold() == folded:
            return name
    return None


def check_metadata(raw: Any, *, root: str) -> dict[str, Any]:
    """Type-check the raw ``sops`` mapping as Go's ``json.Unmarshal`` into
    ``stores.Metadata`` does, and return it with field names canonical
    (Go matches them case-insensitively; unknown fields are dropped).

    ``root`` is the path Go prints before a field (``"sops"`` for a JSON file,
    ``""`` for the flat stores).  The error message is Go's, without the
    ``Error unmarshalling …`` prefix the caller adds.
    """
    errors = _FirstError(root)
    base = [root] if root else []
    out = _check_struct(raw, _METADATA_FIELDS, "Metadata", base, errors)
    if errors.message is not None:
        raise StoreError(errors.message, ExitCode.ERROR_GENERIC)
    return out


def _check_struct(
    raw: dict[str, Any],
    fields: dict[str, str],
    struct: str,
    path: list[str],
    errors: _FirstError,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = _canonical(fields, key)
        if name is None:
            continue
        gotype = fields[name]
        here = [*path, name]
        out[name] = _check_field(value, gotype, struct, here, errors)
    return out


def _check_field(value: Any, gotype: str, struct: str, path: list[str], errors: _FirstError) -> Any:
    if value is None:
        return None
    if gotype == _S:
        if not isinstance(value, str):
            errors.type_error(value, gotype, struct, path)
            return None
        return value
    if gotype == "bool":
        if not isinstance(value, bool):
            errors.type_error(value, gotype, struct, path)
            return None
        return value
    if gotype == "int":
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not _INT64_MIN <= value <= _INT64_MAX
        ):
            # Go's int field rejects any literal with a fraction or exponent
            errors.type_error(value, gotype, struct, path)
            return None
        return value
    if gotype == "map[string]*string":
        if not isinstance(value, dict):
            errors.type_error(value, gotype, struct, path)
            return None
        result: dict[str, Any] = {}
        for k, v in value.items():
            if v is not None and not isinstance(v, str):
                errors.type_error(v, _S, struct, path)
                continue
            result[k] = v
        return result
    # a list of structs
    if not isinstance(value, list):
        errors.type_error(value, gotype, struct, path)
        return None
    element = gotype.removeprefix("[]stores.")
    fields = _KEYGROUP_FIELDS if element == "keygroup" else _KEY_STRUCTS[element]
    items: list[Any] = []
    for item in value:
        if item is None:
            items.append(None)
        elif not isinstance(item, dict):
            errors.type_error(item, f"stores.{element}", struct, path)
            items.append(None)
        else:
            items.append(_check_struct(item, fields, element, path, errors))
    return items


# --------------------------------------------------------------------- Go value → text
_FRACTION = re.compile(r"(T\d\d:\d\d:\d\d)\.\d+")


def format_float_g(x: float, exp_char: str = "e") -> str:
    """``strconv.FormatFloat(x, 'g'|'G', -1, 64)`` (``exp_char`` ``e`` or ``E``)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    if x == 0:
        return "-0" if math.copysign(1.0, x) < 0 else "0"
    digits, exponent = shortest_digits(x)
    sign = "-" if x < 0 else ""
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        esign = "-" if exponent < 0 else "+"
        return f"{sign}{mantissa}{exp_char}{esign}{abs(exponent):02d}"
    return sign + fixed_from_digits(digits, exponent)


def shortest_digits(x: float) -> tuple[str, int]:
    """The shortest round-trip decimal digits of ``abs(x)`` (no leading or
    trailing zeros) and the decimal exponent of the first digit."""
    text = repr(abs(x))
    mantissa, _, exp_text = text.partition("e")
    exponent = int(exp_text) if exp_text else 0
    whole, _, frac = mantissa.partition(".")
    if frac == "0":
        frac = ""
    digits = whole + frac
    point = len(whole)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    return digits, exponent + point - 1


def fixed_from_digits(digits: str, exponent: int) -> str:
    """Digits with the first at 10**exponent, in plain notation."""
    if exponent < 0:
        return "0." + "0" * (-exponent - 1) + digits
    if len(digits) <= exponent + 1:
        return digits + "0" * (exponent + 1 - len(digits))
    return digits[: exponent + 1] + "." + digits[exponent + 1 :]


def val_to_string(value: Any) -> str:
    """``stores.ValToString``: how dotenv and INI write a non-string leaf."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, float):
        text = format_float_g(value, "E")
        if "." not in text and "E" not in text:
            # FormatFloat(v, 'f', 1, 64): integral values below 1e6, ±0, NaN, ±Inf
            text = text if text in ("NaN", "+Inf", "-Inf") else text + ".0"
        return text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, GoTime):
        return _FRACTION.sub(r"\1", value.text)  # time.RFC3339: no fraction
    return go_sprint(value)


def go_sprint(value: Any) -> str:
    """``fmt.Sprintf("%v", value)`` for the values a sops tree holds."""
    if value is None:
        return "<nil>"
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return format_float_g(value, "e")
    if isinstance(value, GoTime):
        return go_time_string(value)
    if isinstance(value, Comment):
        return "{" + value.value + "}"
    if isinstance(value, Branch):
        return "[" + " ".join(f"{{{go_sprint(k)} {go_sprint(v)}}}" for k, v in value) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_sprint(item) for item in value) + "]"
    return str(value)


_TIME = re.compile(r"(\d{4,}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d(?::\d\d)?)\Z")


def go_time_string(value: GoTime) -> str:
    """``time.Time.String()``: ``2006-01-02 15:04:05.999999999 -0700 MST``.

    The zone name is ``UTC`` for a zero offset; a time parsed with another
    offset has no zone name, which Go prints as the offset again.
    """
    match = _TIME.match(value.text)
    if match is None:
        return value.text
    date, clock, fraction, zone = match.groups()
    fraction = (fraction or "").rstrip("0").rstrip(".")
    if zone == "Z":
        return f"{date} {clock}{fraction} +0000 UTC"
    offset = zone.replace(":", "")[:5]
    return f"{date} {clock}{fraction} {offset} {offset}"
