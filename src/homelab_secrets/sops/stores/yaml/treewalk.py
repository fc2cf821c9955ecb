"""Nodes → sops' tree: which comment lands where, which value gets which type.

Follows sops' ``stores/yaml/store.go`` (``appendYamlNodeToTreeBranch``,
``nodeToTreeValue``, the ``sops`` key's removal in ``LoadEncryptedFile``):
a document must be a mapping, comments become
:class:`~homelab_secrets.sops.model.Comment` items, aliases are expanded.
Also the ``sops`` section as plain data for
:mod:`homelab_secrets.sops.metadata`.
"""

from __future__ import annotations

from homelab_secrets.sops.model import Branch, Comment, Uint64
from homelab_secrets.sops.stores.yaml.composer import (
    ALIAS_NODE,
    DOCUMENT_NODE,
    MAPPING_NODE,
    SCALAR_NODE,
    SEQUENCE_NODE,
    Node,
)
from homelab_secrets.sops.stores.yaml.decoder import alias_target, key_text, scalar_value
from homelab_secrets.sops.stores.yaml.resolver import (
    BINARY_TAG,
    BOOL_TAG,
    INT_TAG,
    NULL_TAG,
    DecodeError,
    decode_binary,
    resolve,
)
from homelab_secrets.sops.stores.yaml.yamlh import StoreFailure, YamlFailure

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any

_MAX_TREE_NODES = 5_000_000


class TreeBuilder:
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
            raise YamlFailure("yaml: document contains excessive aliasing")

    def document(self, doc: Node) -> Branch:
        return self.append_to_branch(doc, Branch(), False)

    def append_to_branch(self, node: Node, branch: Branch, handled: bool) -> Branch:
        self.count()
        if not handled:
            _append_comments(branch, node.head, True)
            _append_comments(branch, node.line, True)
        kind = node.kind
        if kind == DOCUMENT_NODE:
            for item in node.content:
                self.append_to_branch(item, branch, False)
        elif kind == SEQUENCE_NODE:
            raise StoreFailure("YAML documents that are sequences are not supported")
        elif kind == MAPPING_NODE:
            content = node.content
            for i in range(0, len(content), 2):
                key = content[i]
                value = content[i + 1]
                _append_comments(branch, key.head, True)
                _append_comments(branch, key.line, True)
                handle_value_comments = value.kind in (SCALAR_NODE, ALIAS_NODE)
                if handle_value_comments:
                    _append_comments(branch, value.head, True)
                    _append_comments(branch, value.line, True)
                key_value = self.key_value(key)
                branch.append((key_value, self.tree_value(value, handle_value_comments)))
                if handle_value_comments:
                    _append_comments(branch, value.foot, True)
                _append_comments(branch, key.foot, True)
        elif kind == SCALAR_NODE:
            if node.short_tag() == NULL_TAG:
                return branch  # an empty document ("---" alone)
            raise StoreFailure("YAML documents that are values are not supported")
        else:
            self.alias_depth += 1
            self.append_to_branch(alias_target(node), branch, False)
            self.alias_depth -= 1
        if not handled:
            _append_comments(branch, node.foot, True)
        return branch

    def tree_value(self, node: Node, handled: bool) -> Any:
        kind = node.kind
        if kind == SCALAR_NODE:
            self.count()
            try:
                return scalar_value(node)
            except DecodeError:
                return None  # sops ignores node.Decode's error
        if kind == MAPPING_NODE:
            return self.append_to_branch(node, Branch(), handled)
        if kind == SEQUENCE_NODE:
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
            return self.tree_value(alias_target(node), False)
        finally:
            self.alias_depth -= 1

    def key_value(self, key: Node) -> Any:
        """``key.Decode(&keyValue)``: scalars decode to their Go value; a
        mapping or sequence key to a (non-string) collection."""
        target = key
        while target.kind == ALIAS_NODE and target.alias is not None:
            target = target.alias
        if target.kind == SCALAR_NODE:
            try:
                value = scalar_value(target)
            except DecodeError:
                return None
            if isinstance(value, bytes):
                # ``!!binary aGk=`` decodes to a Go string ("hi"): a string key
                # (raw bytes that are not UTF-8 stay as surrogate escapes).
                return value.decode("utf-8", "surrogateescape")
            return value
        if target.kind == MAPPING_NODE:
            return self.append_to_branch(target, Branch(), True)
        return self.tree_value(target, True)


def _append_comments(container: list[Any], text: str, in_map: bool) -> None:
    if not text:
        return
    for line in text.split("\n"):
        if line:
            comment = Comment(line[1:])
            container.append((comment, None) if in_map else comment)


def meta_value(node: Node, depth: int = 0) -> Any:
    """The ``sops`` section as plain data: mappings → dict, sequences → list,
    scalars → their text, except plain ints/bools/nulls (typed)."""
    if depth > 100:
        raise YamlFailure("yaml: exceeded max depth")
    while node.kind == ALIAS_NODE and node.alias is not None:
        node = node.alias
    if node.kind == MAPPING_NODE:
        out: dict[str, Any] = {}
        content = node.content
        for i in range(0, len(content), 2):
            out[key_text(content[i])] = meta_value(content[i + 1], depth + 1)
        return out
    if node.kind == SEQUENCE_NODE:
        return [meta_value(item, depth + 1) for item in node.content]
    if node.indicated_string():
        return node.value
    try:
        tag, resolved = resolve(node.tag, node.value)
    except DecodeError:
        return node.value
    if tag == NULL_TAG:
        return None
    if tag == BOOL_TAG or (tag == INT_TAG and not isinstance(resolved, Uint64)):
        return resolved
    if tag == BINARY_TAG:
        try:
            return decode_binary(resolved).decode("utf-8", "surrogateescape")
        except DecodeError:
            return node.value
    return node.value
