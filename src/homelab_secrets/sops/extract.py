"""``--extract '["a"][0]'``: sops' tree paths (``parseTreePath``, ``Truncate``)."""

from __future__ import annotations

from typing import Any

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.sops.model import Branch, Comment
from homelab_secrets.sops.stores import Store

PathComponent = str | int


def parse_tree_path(text: str) -> list[PathComponent]:
    """``["a"]['b'][0]`` → ``["a", "b", 0]`` (sops' syntax; exit 91 when malformed)."""
    path: list[PathComponent] = []
    for component in text.split("["):
        if component == "":
            continue
        if not component.endswith("]"):
            raise UserError(
                f"invalid --extract path: component {component!r} doesn't end with ]",
                ExitCode.INVALID_TREE_PATH_FORMAT,
            )
        inner = component[:-1]
        if inner[:1] in ('"', "'"):
            if len(inner) < 2 or inner[-1] != inner[0]:
                raise UserError(
                    f"invalid --extract path: unterminated string in {component!r}",
                    ExitCode.INVALID_TREE_PATH_FORMAT,
                )
            path.append(inner[1:-1])
        else:
            try:
                path.append(int(inner, 10))
            except ValueError:
                raise UserError(
                    f"invalid --extract path: {inner!r} is neither a quoted key nor an index",
                    ExitCode.INVALID_TREE_PATH_FORMAT,
                ) from None
    return path


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
