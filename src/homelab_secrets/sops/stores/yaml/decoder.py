"""The checks of ``yaml.Unmarshal`` that decide whether sops' loading fails,
and with which message.

Follows the ``decoder`` half of yaml.v3's ``decode.go`` (``unmarshal``,
``scalar``, ``mapping``, ``mappingStruct``, ``merge``, the alias-expansion
budget): sops first decodes a plain file into ``map[string]interface{}`` and
an encrypted one into its ``stores.SopsFile`` struct, and only the errors of
those passes matter (duplicate keys, a mapping as a key, a wrongly typed
``sops`` section, …).  Also ``node.Decode`` of one scalar
(:func:`scalar_value`), which the tree walk uses.
"""

from __future__ import annotations

from homelab_secrets.sops.stores.yaml.composer import (
    ALIAS_NODE,
    DOCUMENT_NODE,
    MAPPING_NODE,
    SCALAR_NODE,
    SEQUENCE_NODE,
    STYLE_TAGGED,
    Node,
)
from homelab_secrets.sops.stores.yaml.resolver import (
    BINARY_TAG,
    INT64_MAX,
    MAP_TAG,
    MERGE_TAG,
    NULL_TAG,
    SEQ_TAG,
    STR_TAG,
    DecodeError,
    decode_binary,
    resolve,
    short_tag,
)
from homelab_secrets.sops.stores.yaml.sopsfile import (
    METADATA_STRUCTS,
    OUT_METADATA,
    STRING_PTR_MAP,
    YAML11_BOOLS,
)
from homelab_secrets.sops.stores.yaml.yamlh import REDACTED, SOPS_KEY, YamlFailure

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any


def scalar_value(n: Node) -> Any:
    """``node.Decode(&interface{})`` for a scalar node: its Go value."""
    if n.indicated_string():
        return n.value
    if not n.style & STYLE_TAGGED and n.tag != MERGE_TAG:
        return n.resolved
    tag, resolved = resolve(n.tag, n.value)
    if tag == BINARY_TAG:
        return decode_binary(resolved)
    return resolved


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
OUT_ROOT_MAP = "map[string]interface {}"  # the non-addressable map sops passes
_OUT_IFACE = "interface {}"
_OUT_STRING = "string"
OUT_SOPSFILE = "stores.SopsFile"


class GoDecoder:
    """The parts of yaml.v3's ``decoder`` that sops' first passes run: they
    only decide whether loading fails, and with which message."""

    def __init__(self) -> None:
        self.terrors: list[str] = []
        self.decode_count = 0
        self.alias_count = 0
        self.alias_depth = 0
        self.expanding: set[int] = set()
        self.metadata: Node | None = None
        self.metadata_set = False
        self.merge_depth = 0

    def result(self) -> str | None:
        if self.terrors:
            return "yaml: unmarshal errors:\n  " + "\n  ".join(self.terrors)
        return None

    def terror(self, n: Node, tag: str, out: str) -> None:
        if n.tag:
            tag = n.tag
        shown = ""
        if tag not in (SEQ_TAG, MAP_TAG):
            shown = f" `{REDACTED}`"
        self.terrors.append(
            f"line {n.line_no}: cannot unmarshal {short_tag(tag)}{shown} into {out}"
        )

    def unmarshal(self, n: Node, out: str) -> bool:
        self.decode_count += 1
        if self.alias_depth > 0:
            self.alias_count += 1
        if _excessive_aliasing(self.decode_count, self.alias_count):
            raise DecodeError("yaml: document contains excessive aliasing")
        kind = n.kind
        if kind == DOCUMENT_NODE:
            if len(n.content) == 1:
                self.unmarshal(n.content[0], out)
                return True
            return False
        if kind == ALIAS_NODE:
            return self.alias(n, out)
        if kind == SCALAR_NODE:
            return self.scalar(n, out)
        if kind == MAPPING_NODE:
            return self.mapping(n, out)
        return self.sequence(n, out)

    def alias(self, n: Node, out: str) -> bool:
        if id(n) in self.expanding:
            raise DecodeError(f"yaml: anchor '{n.value}' value contains itself")
        self.expanding.add(id(n))
        self.alias_depth += 1
        good = self.unmarshal(alias_target(n), out)
        self.alias_depth -= 1
        self.expanding.discard(id(n))
        return good

    def scalar(self, n: Node, out: str) -> bool:
        if n.indicated_string():
            tag, resolved = STR_TAG, n.value
        elif not n.style & STYLE_TAGGED and n.tag != MERGE_TAG:
            tag, resolved = n.tag, n.resolved
        else:
            tag, resolved = resolve(n.tag, n.value)
            if tag == BINARY_TAG:
                decode_binary(resolved)
        if resolved is None:
            # d.null(): only an addressable interface (or pointer) takes a nil.
            return out == _OUT_IFACE
        if out in (_OUT_STRING, _OUT_IFACE):
            return True
        self.terror(n, tag, out)
        return False

    def sequence(self, n: Node, out: str) -> bool:
        if out != _OUT_IFACE:
            self.terror(n, SEQ_TAG, out)
            return False
        for item in n.content:
            self.unmarshal(item, _OUT_IFACE)
        return True

    def mapping(self, n: Node, out: str) -> bool:
        content = n.content
        if self.duplicate_keys(n):
            return False
        if out == _OUT_STRING:
            self.terror(n, MAP_TAG, out)
            return False
        if out in (OUT_SOPSFILE, OUT_METADATA):
            return self.mapping_struct(n, out)
        key_out = _OUT_STRING if out == OUT_ROOT_MAP or _is_string_map(n) else _OUT_IFACE
        merge: Node | None = None
        for i in range(0, len(content), 2):
            key = content[i]
            if _is_merge(key):
                merge = content[i + 1]
                continue
            if self.unmarshal(key, key_out):
                if key_out == _OUT_IFACE and _decodes_to_collection(key):
                    raise DecodeError(f"yaml: invalid map key: {REDACTED}")
                self.unmarshal(content[i + 1], _OUT_IFACE)
        if merge is not None:
            self.merge(merge, out)
        return True

    def mapping_struct(self, n: Node, out: str) -> bool:
        content = n.content
        merge: Node | None = None
        for i in range(0, len(content), 2):
            key = content[i]
            if _is_merge(key):
                merge = content[i + 1]
                continue
            if not self.unmarshal(key, _OUT_STRING):
                continue
            if out == OUT_SOPSFILE and key_text(key) == SOPS_KEY:
                if self.metadata_set and self.merge_depth:
                    continue  # a merged key never overrides one set directly
                self.unmarshal_metadata(content[i + 1])
        if merge is not None:
            self.merge_depth += 1
            self.merge(merge, out)
            self.merge_depth -= 1
        return True

    def unmarshal_metadata(self, value: Node) -> None:
        target = value
        while target.kind == ALIAS_NODE:
            target = alias_target(target)
        if target.short_tag() == NULL_TAG:
            self.metadata = None
            self.metadata_set = True
            return
        if target.kind == MAPPING_NODE:
            self.metadata = target
            self.metadata_set = True
            self.check_metadata(target, OUT_METADATA)
            return
        self.unmarshal(target, OUT_METADATA)

    def check_metadata(self, n: Node, typ: str) -> None:
        """Decode ``n`` into the Go type ``typ`` of sops' metadata structs
        (``stores.Metadata`` and the key structs): only the errors matter."""
        self.decode_count += 1
        if self.alias_depth > 0:
            self.alias_count += 1
        if _excessive_aliasing(self.decode_count, self.alias_count):
            raise DecodeError("yaml: document contains excessive aliasing")
        kind = n.kind
        if kind == ALIAS_NODE:
            if id(n) in self.expanding:
                raise DecodeError(f"yaml: anchor '{n.value}' value contains itself")
            self.expanding.add(id(n))
            self.alias_depth += 1
            self.check_metadata(alias_target(n), typ)
            self.alias_depth -= 1
            self.expanding.discard(id(n))
            return
        if kind == SCALAR_NODE:
            if n.indicated_string():
                tag, resolved = STR_TAG, n.value
            else:
                tag, resolved = resolve(n.tag, n.value)
                if tag == BINARY_TAG:
                    decode_binary(resolved)
            if resolved is None or typ == "string":
                return
            if typ == "int":
                if isinstance(resolved, int) and not isinstance(resolved, bool):
                    if resolved <= INT64_MAX:
                        return
                elif isinstance(resolved, float) and resolved <= INT64_MAX:
                    return
            elif typ == "bool" and (isinstance(resolved, bool) or resolved in YAML11_BOOLS):
                return
            self.terror(n, tag, typ)
            return
        if kind == SEQUENCE_NODE:
            if not typ.startswith("[]"):
                self.terror(n, SEQ_TAG, typ)
                return
            for item in n.content:
                self.check_metadata(item, typ[2:])
            return
        # A mapping.
        if self.duplicate_keys(n):
            return
        fields = METADATA_STRUCTS.get(typ)
        if fields is None and typ != STRING_PTR_MAP:
            self.terror(n, MAP_TAG, typ)
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
                field = fields.get(key_text(key))
                if field is not None:
                    self.check_metadata(content[i + 1], field)

    def mapping_dups_only(self, n: Node) -> None:
        self.duplicate_keys(n)

    def duplicate_keys(self, n: Node) -> bool:
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

    def merge(self, merge: Node, out: str) -> None:
        kind = merge.kind
        if kind == MAPPING_NODE:
            self.unmarshal(merge, out)
        elif kind == ALIAS_NODE:
            if merge.alias is not None and merge.alias.kind != MAPPING_NODE:
                raise DecodeError("yaml: map merge requires map or sequence of maps as the value")
            self.unmarshal(merge, out)
        elif kind == SEQUENCE_NODE:
            for item in merge.content:
                if item.kind == ALIAS_NODE:
                    if item.alias is not None and item.alias.kind != MAPPING_NODE:
                        raise DecodeError(
                            "yaml: map merge requires map or sequence of maps as the value"
                        )
                elif item.kind != MAPPING_NODE:
                    raise DecodeError(
                        "yaml: map merge requires map or sequence of maps as the value"
                    )
                self.unmarshal(item, out)
        else:
            raise DecodeError("yaml: map merge requires map or sequence of maps as the value")


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


def alias_target(n: Node) -> Node:
    """The node an alias stands for (the composer always sets it)."""
    if n.alias is None:  # pragma: no cover
        raise YamlFailure(f"yaml: unknown anchor '{n.value}' referenced")
    return n.alias


def _is_merge(n: Node) -> bool:
    return (
        n.kind == SCALAR_NODE
        and n.value == "<<"
        and (n.tag in ("", "!") or short_tag(n.tag) == MERGE_TAG)
    )


def _is_string_map(n: Node) -> bool:
    content = n.content
    for i in range(0, len(content), 2):
        tag = content[i].short_tag()
        if tag not in (STR_TAG, MERGE_TAG):
            return False
    return True


def _decodes_to_collection(n: Node) -> bool:
    while n.kind == ALIAS_NODE and n.alias is not None:
        n = n.alias
    return n.kind in (MAPPING_NODE, SEQUENCE_NODE)


def key_text(n: Node) -> str:
    """A key decoded into a Go ``string``: the scalar's text (or the decoded
    ``!!binary`` data)."""
    while n.kind == ALIAS_NODE and n.alias is not None:
        n = n.alias
    if n.kind == SCALAR_NODE and not n.indicated_string() and short_tag(n.tag) == BINARY_TAG:
        try:
            return decode_binary(n.value).decode("utf-8", "surrogateescape")
        except DecodeError:
            return ""
    return n.value
