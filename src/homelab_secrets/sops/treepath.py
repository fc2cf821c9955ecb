"""sops' tree paths: ``["a"]['b'][0]`` for ``decrypt --extract``, ``set`` and
``unset``.

Follows ``parseTreePath`` and ``jsonValueToTreeInsertableValue``
(``cmd/sops/main.go``) and ``TreeBranch.Truncate``/``Set``/``Unset`` with
their ``equals`` (``sops.go``), quirks included:

* a path component is ``"…"``/``'…'`` (its first and last character are
  dropped, whatever they are) or an integer (``strconv.Atoi``); list
  positions count the comments a list holds;
* ``set`` creates the maps and lists a path needs, appends to a list when
  the position is past its end, replaces a scalar that is in the way, and
  reports "changed" unless the value is equal *and of the same Go type*
  (``1`` from JSON is a float64, so it changes an int ``1``); an integer
  component on a map adds nothing yet counts as a change (sops does that);
* ``unset`` of a missing key or position is :class:`KeyNotFound` (which
  ``--idempotent`` forgives); going through a scalar is another error.

Where sops panics (a string component on a list, a negative position, an
empty path) we fail with exit 2, a Go panic's exit status, and a message.
"""

from __future__ import annotations

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.sops.model import Branch, Comment, go_type_name
from homelab_secrets.sops.stores import Store

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any

PathComponent = str | int


class TreePathError(ValueError):
    """A path sops' ``parseTreePath`` refuses (the caller chooses the exit code)."""


def _is_atoi(text: str) -> bool:
    """What Go's ``strconv.Atoi`` accepts: an optional sign, ASCII digits."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    return digits.isascii() and digits.isdigit()


def parse_tree_path(text: str) -> list[PathComponent]:
    """``["a"]['b'][0]`` → ``["a", "b", 0]``; :class:`TreePathError` when sops
    refuses it (``--extract``: exit 91; ``set``/``unset``: exit 7)."""
    path: list[PathComponent] = []
    for component in text.split("["):
        if component == "":
            continue
        if not component.endswith("]"):
            raise TreePathError(f"component {component!r} doesn't end with ]")
        inner = component[:-1]
        if inner[:1] in ('"', "'"):
            if len(inner) < 2:
                raise TreePathError(f"unterminated string in {component!r}")
            path.append(inner[1:-1])
        elif _is_atoi(inner):
            path.append(int(inner))
        else:
            raise TreePathError(f"{inner!r} is neither a quoted key nor an index")
    return path


def parse_extract_path(text: str) -> list[PathComponent]:
    """:func:`parse_tree_path` for ``--extract`` (exit 91 when malformed)."""
    try:
        return parse_tree_path(text)
    except TreePathError as exc:
        raise UserError(
            f"invalid --extract path: {exc}", ExitCode.INVALID_TREE_PATH_FORMAT
        ) from None


# ---------------------------------------------------------------- extract
def truncate(branch: Branch, path: list[PathComponent]) -> Any:
    current: Any = branch
    for component in path:
        if isinstance(component, str):
            if not isinstance(current, Branch):
                raise UserError(f"error truncating tree: component ['{component}'] not found")
            for key, value in current:
                if not isinstance(key, Comment) and key == component:
                    current = value
                    break
            else:
                raise UserError(f"error truncating tree: component ['{component}'] not found")
        else:
            if not isinstance(current, list) or isinstance(current, Branch):
                raise UserError(
                    f"error truncating tree: component [{component}] is integer, but tree part "
                    "is not a slice"
                )
            if component >= len(current) or component < 0:
                raise UserError(
                    f"error truncating tree: component [{component}] accesses out of bounds"
                )
            current = current[component]
    return current


def extract(branches: list[Branch], path: list[PathComponent], store: Store) -> bytes:
    value = truncate(branches[0] if branches else Branch(), path)
    if isinstance(value, Branch):
        # sops swaps the first document for the subtree and emits them all
        return store.emit_plain([value, *branches[1:]])
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, bytes):
        return value
    return store.emit_value(value)


# ---------------------------------------------------------------- set / unset
class KeyNotFound(UserError):
    """sops' ``SopsKeyNotFound``: ``unset`` of a key or position that is not there."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.ERROR_GENERIC)


def _panic(message: str) -> UserError:
    return UserError(message, ExitCode.COULD_NOT_READ_INPUT_FILE)


def json_value(data: bytes) -> Any:
    """The value of ``set``: JSON, as sops reads it (numbers are float64,
    objects keep their key order); a list is refused like sops does (exit 7)."""
    from homelab_secrets.sops.stores import StoreError
    from homelab_secrets.sops.stores.json_store import unmarshal

    try:
        value = unmarshal(data)
    except StoreError:
        raise UserError("Value for --set is not valid JSON", ExitCode.INVALID_SET_FORMAT) from None
    if isinstance(value, list) and not isinstance(value, Branch):
        raise UserError("Invalid --set value format", ExitCode.INVALID_SET_FORMAT)
    return value


def set_path(branch: Branch, path: list[PathComponent], value: Any) -> tuple[Branch, bool]:
    """``TreeBranch.Set``: the branch with ``value`` at ``path``, and whether
    that changed anything (as sops decides it)."""
    if not path:
        raise _panic("set: the path is empty")
    result, changed = _set(branch, path, value)
    return result, changed


def _set(node: Any, path: list[PathComponent], value: Any) -> tuple[Any, bool]:
    head = path[0]
    if isinstance(node, Branch):
        for i, (key, current) in enumerate(node):
            if _same_key(key, head):
                if len(path) == 1:
                    node[i] = (key, value)
                    return node, not go_equals(current, value)
                new, changed = _set(current, path[1:], value)
                node[i] = (key, new)
                return node, changed
        built = _from_path(path, value)
        if isinstance(built, Branch) and built:
            node.append(built[0])
        return node, True
    if isinstance(node, list):
        position = _position(head, "set")
        if len(path) == 1:
            if position >= len(node):
                node.append(value)
                return node, True
            changed = not go_equals(node[position], value)
            node[position] = value
            return node, changed
        if position >= len(node):
            node.append(_from_path(path[1:], value))
            return node, True
        new, changed = _set(node[position], path[1:], value)
        node[position] = new
        return node, changed
    built = _from_path(path, value)
    return built, not go_equals(node, built)


def unset_path(branch: Branch, path: list[PathComponent]) -> Branch:
    """``TreeBranch.Unset``: the branch without what ``path`` names."""
    if not path:
        raise _panic("unset: the path is empty")
    result: Branch = _unset(branch, path)
    return result


def _unset(node: Any, path: list[PathComponent]) -> Any:
    head = path[0]
    if isinstance(node, Branch):
        for i, (key, current) in enumerate(node):
            if _same_key(key, head):
                if len(path) == 1:
                    del node[i]
                else:
                    node[i] = (key, _unset(current, path[1:]))
                return node
        raise KeyNotFound(f"Key not found: {_go_s(head)}")
    if isinstance(node, list):
        position = _position(head, "unset")
        if position >= len(node):
            raise KeyNotFound(f"Index {position} out of bounds")
        if len(path) == 1:
            del node[position]
        else:
            node[position] = _unset(node[position], path[1:])
        return node
    raise UserError(
        f"Unsupported type: {go_type_name(node)} for item '{_go_s(head)}'", ExitCode.ERROR_GENERIC
    )


def _same_key(key: Any, component: PathComponent) -> bool:
    """Go's ``item.Key == path[0]`` (interfaces: same type, same value)."""
    return isinstance(component, str) and isinstance(key, str) and key == component


def _position(component: PathComponent, what: str) -> int:
    if isinstance(component, str):
        raise _panic(f"{what}: ['{component}'] names a key, but the tree part is a list")
    if component < 0:
        raise _panic(f"{what}: [{component}] is a negative position")
    return component


def _go_s(component: PathComponent) -> str:
    """Go's ``%s`` of a path component."""
    return component if isinstance(component, str) else f"%!s(int={component})"


def _from_path(path: list[PathComponent], leaf: Any) -> Any:
    """``valueFromPathAndLeaf``: the maps and lists ``path`` needs around ``leaf``."""
    value = leaf
    for component in reversed(path):
        value = [value] if isinstance(component, int) else Branch([(component, value)])
    return value


def go_equals(a: Any, b: Any) -> bool:
    """sops' ``equals``: branches and lists item by item, comments by text,
    anything else with Go's ``==`` on interfaces (same type and value:
    float64 ``1`` is not int ``1``)."""
    if isinstance(a, Branch):
        return (
            isinstance(b, Branch)
            and len(a) == len(b)
            and all(
                go_equals(ka, kb) and go_equals(va, vb)
                for (ka, va), (kb, vb) in zip(a, b, strict=True)
            )
        )
    if isinstance(a, list):
        return (
            isinstance(b, list)
            and not isinstance(b, Branch)
            and len(a) == len(b)
            and all(go_equals(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, Comment):
        return isinstance(b, Comment) and a.value == b.value
    if isinstance(a, (str, bytes)) and isinstance(b, (str, bytes)):
        return _go_string(a) == _go_string(b)  # both Go strings
    return type(a) is type(b) and a == b


def _go_string(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode("utf-8", "surrogateescape")
