"""The ``ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`` value codec (sops' ``aes/cipher.go``).

* AES-256-GCM, 32-byte random IV on write (any IV length accepted on read),
  ``data`` is the ciphertext without the 16-byte tag; standard padded base64.
* The plaintext of a value is its Go serialization (:func:`to_bytes`): the same
  bytes the MAC hashes.
* Empty strings and empty comments are never encrypted (they stay ``""``).
* A *stash* remembers the IV of every ``(plaintext, aad)`` decrypted, so
  re-encrypting an unchanged value gives the same ciphertext (minimal diffs),
  like sops' ``set``/``edit``.

Errors (:class:`CipherError`) never include the value or the plaintext.
"""

from __future__ import annotations

import math
import os
import sys
from binascii import Error as Base64Error
from binascii import a2b_base64, b2a_base64

from homelab_secrets.sops.model import Comment, GoTime, Uint64, go_type_name

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# Regular expressions are compiled when first needed (importing ``re`` costs
# start-up time; a well-formed value never needs one, see :func:`parse_enc`).
_PATTERNS = {
    # sops' own parse regex (anchored at the start only, greedy groups)
    "enc": (r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]", "s"),
    "int": (r"^[+-]?[0-9]+$", ""),
    "time": (
        r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$",
        "",
    ),
}
_COMPILED: dict[str, Any] = {}
_ENC_PREFIX = "ENC[AES256_GCM,data:"
_TYPE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_BOOLS = {
    "1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
    "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False,
}  # fmt: skip
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
NONCE_SIZE = 32
TAG_SIZE = 16


if sys.version_info >= (3, 11):

    def _b64(text: str) -> bytes:
        """Go's ``base64.StdEncoding.DecodeString``: padded, no stray characters."""
        return a2b_base64(text, strict_mode=True)

else:  # pragma: no cover - Python 3.10

    def _b64(text: str) -> bytes:
        from base64 import b64decode

        return b64decode(text, validate=True)


def _b64encode(data: bytes) -> str:
    """Standard padded base64 (``binascii``: the ``base64`` module imports
    ``re``, which costs start-up time)."""
    return b2a_base64(data, newline=False).decode("ascii")


class CipherError(Exception):
    """A value could not be decrypted or encrypted. ``reason`` is secret-free."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------- Go formatting
def go_format_float(x: float) -> str:
    """``strconv.FormatFloat(x, 'f', -1, 64)``: shortest round-trip digits, fixed
    notation, never an exponent."""
    if math.isnan(x):
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "+Inf" if x > 0 else "-Inf"
    from decimal import Decimal  # only floats need it (start-up time)

    s = format(Decimal(repr(x)), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def go_parse_float(text: str) -> float:
    """``strconv.ParseFloat(text, 64)`` for the forms sops writes (and Go accepts)."""
    if not text or text != text.strip() or "_" in text:
        raise ValueError("invalid float")
    low = text.lower().lstrip("+-")
    if low in ("inf", "infinity", "nan"):
        return float(text)
    return float(text)


def _pattern(name: str) -> Any:
    compiled = _COMPILED.get(name)
    if compiled is None:
        import re

        source, flags = _PATTERNS[name]
        compiled = _COMPILED[name] = re.compile(source, re.DOTALL if flags else 0)
    return compiled


def parse_enc(value: str) -> tuple[str, str, str, str] | None:
    """The data, iv, tag and type of an ``ENC[AES256_GCM,…]`` value; ``None``
    when sops' regex would not match it.  The form sops writes is split by
    hand (no regex, no backtracking); anything else gets sops' regex."""
    if value.startswith(_ENC_PREFIX) and value.endswith("]"):
        parts = value[len(_ENC_PREFIX) : -1].split(",")
        if len(parts) == 4:
            data, iv, tag, typ = parts
            if (
                data
                and iv.startswith("iv:")
                and len(iv) > 3
                and tag.startswith("tag:")
                and len(tag) > 4
                and typ.startswith("type:")
                and len(typ) > 5
                and _TYPE_CHARS.issuperset(typ[5:])
            ):
                return data, iv[3:], tag[4:], typ[5:]
    m = _pattern("enc").match(value)
    if m is None:
        return None
    data, iv, tag, typ = m.groups()
    return data, iv, tag, typ


def go_parse_time(text: str) -> GoTime:
    """``time.Time.UnmarshalText`` (RFC 3339) → :class:`GoTime` in MarshalText form."""
    m = _pattern("time").match(text)
    if m is None:
        raise ValueError("invalid RFC 3339 time")
    year, month, day, hour, minute, second, frac, zone = m.groups()
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31 and int(hour) < 24):
        raise ValueError("invalid RFC 3339 time")
    if int(minute) >= 60 or int(second) >= 60:
        raise ValueError("invalid RFC 3339 time")
    clock = f"{year}-{month}-{day}T{hour}:{minute}:{second}"
    return GoTime(format_time(clock, frac or "", zone))


def format_time(clock: str, frac: str, zone: str) -> str:
    """Go's RFC3339Nano rendering of ``clock`` (``YYYY-MM-DDTHH:MM:SS``): the
    fraction trimmed of trailing zeros (at most 9 digits, truncated), ``Z`` for
    a zero offset."""
    frac = frac[:9].rstrip("0")
    if zone in ("+00:00", "-00:00", "z"):
        zone = "Z"
    return f"{clock}.{frac}{zone}" if frac else f"{clock}{zone}"


def to_bytes(value: Any) -> bytes:
    """sops' ``ToBytes``: the bytes a value contributes to the MAC (and, for
    encrypted values, the plaintext)."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, bytes):
        return value
    if isinstance(value, bool):
        return b"True" if value else b"False"
    if isinstance(value, Uint64):
        raise CipherError("Cannot walk value, unknown type: uint64")
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        return go_format_float(value).encode()
    if isinstance(value, GoTime):
        return value.text.encode()
    if isinstance(value, Comment):
        return value.value.encode("utf-8", "surrogateescape")
    raise CipherError(f"Could not convert unknown type {go_type_name(value)} to bytes")


def type_tag(value: Any) -> str:
    if isinstance(value, (str, bytes)):
        return "str"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Uint64):
        raise CipherError("Value to encrypt has unsupported type uint64")
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, GoTime):
        return "time"
    if isinstance(value, Comment):
        return "comment"
    raise CipherError(f"Value to encrypt has unsupported type {go_type_name(value)}")


def _from_plaintext(raw: bytes, datatype: str) -> Any:
    if datatype == "str":
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw  # arbitrary bytes (binary store): kept as bytes
    if datatype == "comment":
        return Comment(raw.decode("utf-8", "surrogateescape"))
    text = raw.decode("utf-8", "replace")
    if datatype in ("int", "int64"):
        if not _pattern("int").match(text):
            raise CipherError(f"could not parse the decrypted {datatype} value")
        number = int(text)
        if not _INT64_MIN <= number <= _INT64_MAX:
            raise CipherError(f"the decrypted {datatype} value is out of range")
        return number
    if datatype == "float":
        try:
            return go_parse_float(text)
        except ValueError:
            raise CipherError("could not parse the decrypted float value") from None
    if datatype == "bool":
        if text not in _BOOLS:
            raise CipherError("could not parse the decrypted bool value")
        return _BOOLS[text]
    if datatype == "time":
        try:
            return go_parse_time(text)
        except ValueError:
            raise CipherError("could not parse the decrypted time value") from None
    if datatype == "bytes":
        return raw
    raise CipherError(f"Unknown datatype: {datatype}")


def aesgcm_class() -> type[AESGCM]:
    """cryptography's ``AESGCM``, taken from its Rust bindings where the public
    module gets it (``cryptography/hazmat/primitives/ciphers/aead.py`` is
    ``AESGCM = rust_openssl.aead.AESGCM``): the same class, without the ~15 ms
    of ``typing``/``enum`` imports the public module path brings in, which
    decrypt cannot afford while it races the Go binary.  Any other layout of
    cryptography falls back to the public import (a test checks they are the
    same class)."""
    try:
        from cryptography.hazmat.bindings._rust import openssl

        cls: type[AESGCM] = openssl.aead.AESGCM
    except (ImportError, AttributeError):  # pragma: no cover - another cryptography
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM as cls
    return cls


class Cipher:
    """AES-256-GCM with one data key; remembers IVs for stable re-encryption."""

    __slots__ = ("_aead", "_key", "stash")

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise CipherError("the data key must be 32 bytes")
        self._key = key
        self._aead: AESGCM = aesgcm_class()(key)
        self.stash: dict[tuple[str, bytes, str], bytes] = {}

    def __repr__(self) -> str:
        return "Cipher(<data key>)"

    def decrypt(self, value: str, aad: str) -> Any:
        """Decrypt one ``ENC[…]`` string (``""`` stays ``""``)."""
        if value == "":
            return ""
        parsed = parse_enc(value)
        if parsed is None:
            raise CipherError("the value does not match sops' ENC[AES256_GCM,...] format")
        data_b64, iv_b64, tag_b64, datatype = parsed
        try:
            data = _b64(data_b64)
            iv = _b64(iv_b64)
            tag = _b64(tag_b64)
        except (Base64Error, ValueError):
            raise CipherError("the value's base64 data, iv or tag is malformed") from None
        try:
            raw = self._aead.decrypt(iv, data + tag, aad.encode("utf-8", "surrogateescape"))
        except ValueError:
            raise CipherError(
                "Could not decrypt with AES_GCM: cipher: message authentication failed"
            ) from None
        except Exception as exc:
            # (imported here: the module costs start-up time, and the Rust
            # code has imported it already when it raises InvalidTag)
            from cryptography.exceptions import InvalidTag

            if not isinstance(exc, InvalidTag):
                raise
            raise CipherError(
                "Could not decrypt with AES_GCM: cipher: message authentication failed"
            ) from None
        plaintext = _from_plaintext(raw, datatype)
        self.stash[(datatype, raw, aad)] = iv
        return plaintext

    def encrypt(self, value: Any, aad: str) -> str:
        """Encrypt one leaf (or comment) into an ``ENC[…]`` string."""
        if value in ("", b"") or (isinstance(value, Comment) and value.value == ""):
            return ""
        datatype = type_tag(value)
        raw = to_bytes(value)
        iv = self.stash.get((datatype, raw, aad))
        if iv is None:
            iv = os.urandom(NONCE_SIZE)
        sealed = self._aead.encrypt(iv, raw, aad.encode("utf-8", "surrogateescape"))
        return (
            f"ENC[AES256_GCM,data:{_b64encode(sealed[:-TAG_SIZE])},"
            f"iv:{_b64encode(iv)},tag:{_b64encode(sealed[-TAG_SIZE:])},"
            f"type:{datatype}]"
        )
