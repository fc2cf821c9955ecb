"""The binary store (sops' ``BinaryStore`` in ``stores/json/store.go``).

A plain file is one tree ``{"data": <the file's bytes>}`` (a ``bytes`` leaf:
NUL and invalid UTF-8 are kept, nothing is added or stripped).  Encrypted, it
is the JSON store's envelope (tab-indented unless ``indent`` says otherwise,
``stores.json_binary.indent``).  Decrypted, it is the ``data`` value's bytes
exactly, without a newline.
"""

from __future__ import annotations

from homelab_secrets.errors import ExitCode
from homelab_secrets.sops.model import Branch, Comment
from homelab_secrets.sops.stores import StoreError
from homelab_secrets.sops.stores.json_store import JsonStore

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["DATA_KEY", "BinaryStore", "make_store"]

DATA_KEY = "data"


def make_store(indent: int = -1, **_: Any) -> BinaryStore:
    return BinaryStore(indent)


class BinaryStore:
    name = "binary"

    def __init__(self, indent: int = -1) -> None:
        self._json = JsonStore(indent)

    def load_plain(self, data: bytes) -> list[Branch]:
        return [Branch([(DATA_KEY, bytes(data))])]

    def load_encrypted(self, data: bytes) -> tuple[list[Branch], dict[str, Any]]:
        return self._json.load_encrypted(data)

    def emit_plain(self, branches: list[Branch]) -> bytes:
        if len(branches) != 1:
            raise StoreError(
                "error emitting binary store: there must be exactly one tree branch",
                ExitCode.ERROR_DUMPING_TREE,
            )
        for key, value in branches[0]:
            if isinstance(key, Comment) or key != DATA_KEY:
                continue
            if isinstance(value, bytes):
                return value
            if isinstance(value, str):
                return value.encode("utf-8", "surrogateescape")
            raise StoreError(
                "error emitting binary store: 'data' key in tree does not have a string value",
                ExitCode.ERROR_DUMPING_TREE,
            )
        raise StoreError(
            "error emitting binary store: no binary data found in tree",
            ExitCode.ERROR_DUMPING_TREE,
        )

    def emit_encrypted(self, branches: list[Branch], metadata: Branch) -> bytes:
        return self._json.emit_encrypted(branches, metadata)

    def emit_value(self, value: Any) -> bytes:
        raise StoreError(
            "Binary files are not structured and extracting a single value is not possible",
            ExitCode.ERROR_DUMPING_TREE,
        )

    def has_sops_top_level_key(self, branch: Branch) -> bool:
        return self._json.has_sops_top_level_key(branch)
