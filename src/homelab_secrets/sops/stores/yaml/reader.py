"""Bytes → text, as yaml.v3's reader does it.

Follows ``readerc.go`` (``yaml_parser_update_buffer``, ``yaml_parser_determine_encoding``):
BOM sniffing, UTF-8 and UTF-16, the printable-character check, and the
libyaml messages for invalid UTF-8 (``invalid trailing UTF-8 octet``, …).
"""

from __future__ import annotations

from homelab_secrets.sops.stores.yaml.yamlh import YamlFailure, pat


def line_end(buf: str, pos: int) -> int:
    """The position of the first line break (or the end) at or after ``pos``."""
    m = pat("line_end").search(buf, pos)
    return len(buf) if m is None else m.start()


def _has_control(text: str) -> bool:
    """Whether ``text`` has a character yaml.v3's reader refuses."""
    if text.isascii():
        return pat("ascii_control").search(text) is not None
    return pat("control").search(text) is not None


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


def decode_input(data: bytes) -> str:
    """Bytes → text as yaml.v3's reader does (BOM sniffing, UTF-8/UTF-16,
    the printable-character check).  Raises :class:`YamlFailure`."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        codec = "utf-16-le" if data[:2] == b"\xff\xfe" else "utf-16-be"
        try:
            text = data[2:].decode(codec)
        except UnicodeDecodeError:
            raise YamlFailure("yaml: invalid Unicode character") from None
        if _has_control(text):
            raise YamlFailure("yaml: control characters are not allowed")
        return text
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode("utf-8")
        if _has_control(prefix):
            raise YamlFailure("yaml: control characters are not allowed") from None
        raise YamlFailure("yaml: " + _utf8_problem(data, exc.start)) from None
    if _has_control(text):
        raise YamlFailure("yaml: control characters are not allowed")
    return text
