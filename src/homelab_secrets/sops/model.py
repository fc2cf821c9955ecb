"""The in-memory tree every store loads into and emits from (sops' ``sops.Tree``).

A file is a list of *branches* (YAML: one per document; every other store: one).

* :class:`Branch` is an ordered mapping: a ``list`` of ``(key, value)`` pairs.
  A key is a ``str`` or a :class:`Comment` (then the value is ``None``).
  Duplicate keys are allowed (INI sections may repeat).
* A sequence is a plain ``list``; its items are values or :class:`Comment`.
* Leaves carry Go's types, because types decide how sops encrypts and emits:

  ==================  =========================================================
  Python              Go / sops
  ==================  =========================================================
  ``str``             string
  ``bytes``           string holding raw bytes (binary store, ``!!binary``)
  ``bool``            bool (test before ``int``: ``bool`` subclasses ``int``)
  ``int``             int (int64)
  :class:`Uint64`     uint64 (YAML ints above int64): sops cannot walk it
  ``float``           float64
  :class:`GoTime`     time.Time (YAML timestamps)
  ``None``            nil (never encrypted, never hashed)
  :class:`Comment`    sops.Comment
  ==================  =========================================================
"""

from __future__ import annotations

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any


class Comment:
    """A comment line. ``value`` is the text after the comment marker; for YAML
    it keeps the leading space (``"# hi"`` → ``" hi"``)."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Comment) and other.value == self.value

    def __hash__(self) -> int:
        return hash(("Comment", self.value))

    def __repr__(self) -> str:
        # Comments can be encrypted (they may hold secrets): never show the text.
        return f"Comment(<{len(self.value)} chars>)"


class GoTime:
    """A ``time.Time`` leaf.

    ``text`` is Go's ``MarshalText`` form (RFC 3339 with nanoseconds, trailing
    zeros trimmed, ``Z`` for a zero offset): what sops encrypts, hashes and emits.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GoTime) and other.text == self.text

    def __hash__(self) -> int:
        return hash(("GoTime", self.text))

    def __repr__(self) -> str:
        return "GoTime(<redacted>)"


class Uint64(int):
    """An integer yaml.v3 decodes as ``uint64`` (between 2**63 and 2**64-1).

    sops fails on it when walking the tree (``Cannot walk value, unknown type:
    uint64``, exit 23); we keep the type so that we fail the same way.
    """

    __slots__ = ()


class NilList(list):  # type: ignore[type-arg]
    """A Go nil slice inside the sops metadata (e.g. ``hc_vault`` in a key group).

    YAML emits it as ``[]``, JSON as ``null``.  Only metadata uses it.
    """

    __slots__ = ()


class Branch(list):  # type: ignore[type-arg]
    """An ordered mapping: a list of ``(key, value)`` tuples."""

    __slots__ = ()

    def get(self, key: str, default: Any = None) -> Any:
        for k, v in self:
            if k == key and not isinstance(k, Comment):
                return v
        return default

    def keys_(self) -> list[str]:
        return [k for k, _ in self if not isinstance(k, Comment)]

    def __repr__(self) -> str:  # never print values
        return f"Branch(keys={self.keys_()!r})"


Leaf = str | bytes | bool | int | float | GoTime | None
if TYPE_CHECKING:
    Value = Any  # Branch | list[Value | Comment] | Leaf  (recursive; kept loose for mypy)
else:
    Value = object
Branches = list[Branch]


def go_type_name(value: object) -> str:
    """The Go type sops would name for ``value`` in a message (``%T``), by the
    mapping above (``bytes`` leaves are Go strings holding raw bytes)."""
    if value is None:
        return "<nil>"
    if isinstance(value, Uint64):
        return "uint64"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, (str, bytes)):
        return "string"
    if isinstance(value, GoTime):
        return "time.Time"
    if isinstance(value, Comment):
        return "sops.Comment"
    if isinstance(value, Branch):
        return "sops.TreeBranch"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    return type(value).__name__
