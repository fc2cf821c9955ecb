"""Events → nodes: the ``yaml.Node`` documents sops walks.

Follows the ``parser`` half of yaml.v3's ``decode.go`` (``parse``,
``document``, ``alias``, ``scalar``, ``sequence``, ``mapping``) and the
``Node`` type of ``yaml.go``, including where foot comments move when a
mapping ends.  Plain scalars are resolved here, once (:mod:`.resolver`).
"""

from __future__ import annotations

from homelab_secrets.sops.stores.yaml.parser import (
    E_ALIAS,
    E_DOCUMENT_END,
    E_DOCUMENT_START,
    E_MAPPING_END,
    E_MAPPING_START,
    E_SCALAR,
    E_SEQUENCE_END,
    E_SEQUENCE_START,
    E_STREAM_END,
    E_STREAM_START,
    FLOW_STYLE,
    Event,
    Parser,
)
from homelab_secrets.sops.stores.yaml.resolver import (
    MAP_TAG,
    MERGE_TAG,
    SEQ_TAG,
    STR_TAG,
    resolve,
    short_tag,
)
from homelab_secrets.sops.stores.yaml.scanner import PLAIN
from homelab_secrets.sops.stores.yaml.yamlh import YamlFailure

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any

DOCUMENT_NODE = 1
SEQUENCE_NODE = 2
MAPPING_NODE = 3
SCALAR_NODE = 4
ALIAS_NODE = 5


STYLE_TAGGED = 1
_STYLE_QUOTED_OR_BLOCK = 2  # single/double quoted, literal or folded
_STYLE_FLOW = 4


class Node:
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
        self.alias: Node | None = None
        self.content: list[Node] = []
        self.head = ""
        self.line = ""
        self.foot = ""
        self.resolved: Any = None  # the value resolved for a plain, untagged scalar

    def indicated_string(self) -> bool:
        return self.kind == SCALAR_NODE and (
            short_tag(self.tag) == STR_TAG
            or (self.tag in ("", "!") and bool(self.style & _STYLE_QUOTED_OR_BLOCK))
        )

    def short_tag(self) -> str:
        if self.indicated_string():
            return STR_TAG
        if self.tag in ("", "!"):
            if self.kind == MAPPING_NODE:
                return MAP_TAG
            if self.kind == SEQUENCE_NODE:
                return SEQ_TAG
            if self.kind == ALIAS_NODE and self.alias is not None:
                return self.alias.short_tag()
            if self.kind == SCALAR_NODE:
                return resolve("", self.value)[0]
            return ""
        return short_tag(self.tag)


class Composer:
    """yaml.v3's decode.go ``parser``: events → ``Node`` documents."""

    def __init__(self, text: str) -> None:
        self.parser = Parser(text)
        self.event: Event | None = None
        self.anchors: dict[str, Node] = {}
        self.started = False

    def peek(self) -> int:
        if self.event is None:
            self.event = self.parser.parse()
            if self.event is None:
                return E_STREAM_END
        return self.event.typ

    def expect(self, typ: int) -> Event:
        self.peek()
        event = self.event
        if event is None or event.typ != typ:  # pragma: no cover - the parser guarantees it
            raise YamlFailure("yaml: unexpected event")
        self.event = None
        return event

    def next_document(self) -> Node | None:
        """The next document node, or ``None`` at the end of the stream."""
        if not self.started:
            self.expect(E_STREAM_START)
            self.started = True
        if self.peek() == E_STREAM_END:
            return None
        return self.parse()

    def parse(self) -> Node:
        typ = self.peek()
        if typ == E_SCALAR:
            return self.scalar()
        if typ == E_MAPPING_START:
            return self.mapping()
        if typ == E_SEQUENCE_START:
            return self.sequence()
        if typ == E_ALIAS:
            return self.alias()
        if typ == E_DOCUMENT_START:
            return self.document()
        raise AssertionError("unexpected event")  # pragma: no cover

    def node(self, event: Event, kind: int, default_tag: str, tag: str, value: str) -> Node:
        style = 0
        resolved: Any = None
        if tag and tag != "!":
            tag = short_tag(tag)
            style = STYLE_TAGGED
        elif default_tag:
            tag = default_tag
        elif kind == SCALAR_NODE:
            tag, resolved = resolve("", value)
        n = Node(kind, tag, value, style, event.start[1] + 1)
        n.resolved = resolved
        n.head = event.head
        n.line = event.line
        n.foot = event.foot
        return n

    def document(self) -> Node:
        event = self.expect(E_DOCUMENT_START)
        n = self.node(event, DOCUMENT_NODE, "", "", "")
        n.content.append(self.parse())
        if self.peek() == E_DOCUMENT_END and self.event is not None:
            n.foot = self.event.foot
        self.expect(E_DOCUMENT_END)
        return n

    def alias(self) -> Node:
        event = self.expect(E_ALIAS)
        n = self.node(event, ALIAS_NODE, "", "", event.anchor)
        target = self.anchors.get(event.anchor)
        if target is None:
            raise YamlFailure(f"yaml: unknown anchor '{event.anchor}' referenced")
        n.alias = target
        return n

    def scalar(self) -> Node:
        event = self.expect(E_SCALAR)
        value = event.value
        quoted_or_block = event.style != PLAIN
        default_tag = STR_TAG if quoted_or_block else MERGE_TAG if value == "<<" else ""
        n = self.node(event, SCALAR_NODE, default_tag, event.tag, value)
        if quoted_or_block:
            n.style |= _STYLE_QUOTED_OR_BLOCK
        if event.anchor:
            n.anchor = event.anchor
            self.anchors[event.anchor] = n
        return n

    def sequence(self) -> Node:
        event = self.expect(E_SEQUENCE_START)
        n = self.node(event, SEQUENCE_NODE, SEQ_TAG, event.tag, "")
        if event.style == FLOW_STYLE:
            n.style |= _STYLE_FLOW
        if event.anchor:
            n.anchor = event.anchor
            self.anchors[event.anchor] = n
        while self.peek() != E_SEQUENCE_END:
            n.content.append(self.parse())
        end = self.expect(E_SEQUENCE_END)
        n.line = end.line
        n.foot = end.foot
        return n

    def mapping(self) -> Node:
        event = self.expect(E_MAPPING_START)
        n = self.node(event, MAPPING_NODE, MAP_TAG, event.tag, "")
        block = event.style != FLOW_STYLE
        if not block:
            n.style |= _STYLE_FLOW
        if event.anchor:
            n.anchor = event.anchor
            self.anchors[event.anchor] = n
        content = n.content
        while self.peek() != E_MAPPING_END:
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
        end = self.expect(E_MAPPING_END)
        n.line = end.line
        n.foot = end.foot
        if block and n.foot and len(content) > 1:
            content[-2].foot = n.foot
            n.foot = ""
        return n
