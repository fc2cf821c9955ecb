"""Stores: bytes ⇄ :mod:`~homelab_secrets.sops.model` trees, one module per format.

Every store module exposes the same five functions (see :class:`Store`).  They
are pure (bytes in, values out) and fail with :class:`StoreError`, whose
message names the problem and the line where one is known, never the content
of the line (it may be a secret).

Metadata travels as plain data:

* ``load_encrypted`` returns the raw ``sops`` section as nested ``dict``/``list``
  of ``str``/``int``/``bool``/``None`` (flat stores unflatten their
  ``sops_*`` keys into that shape, values as strings);
  :mod:`homelab_secrets.sops.metadata` turns it into a typed object.
* ``emit_encrypted`` receives it as a :class:`~homelab_secrets.sops.model.Branch`
  already in sops' field order, with ``omitempty`` applied and
  :class:`~homelab_secrets.sops.model.NilList` for Go nil slices.
"""

from __future__ import annotations

import sys

from homelab_secrets.errors import ExitCode, UserError
from homelab_secrets.sops.model import Branch, Value

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any

FORMATS = ("yaml", "json", "dotenv", "ini", "binary")

_EXTENSIONS = (
    (".yaml", "yaml"),
    (".yml", "yaml"),
    (".json", "json"),
    (".env", "dotenv"),
    (".ini", "ini"),
)


class StoreError(UserError):
    """Input that a store cannot parse (default exit code: sops' 2,
    CouldNotReadInputFile / "Error unmarshalling file")."""

    def __init__(self, message: str, exit_code: int = ExitCode.COULD_NOT_READ_INPUT_FILE) -> None:
        super().__init__(message, exit_code)


class MetadataNotFound(StoreError):
    """The input has no ``sops`` section: it is not an encrypted file."""

    def __init__(self) -> None:
        super().__init__("sops metadata not found", ExitCode.ERROR_GENERIC)


if TYPE_CHECKING:
    from typing import Protocol

    class Store(Protocol):
        def load_plain(self, data: bytes) -> list[Branch]: ...

        def load_encrypted(self, data: bytes) -> tuple[list[Branch], dict[str, Any]]: ...

        def emit_plain(self, branches: list[Branch]) -> bytes: ...

        def emit_encrypted(self, branches: list[Branch], metadata: Branch) -> bytes: ...

        def emit_value(self, value: Value) -> bytes: ...

        def has_sops_top_level_key(self, branch: Branch) -> bool: ...

else:
    Store = object  # (only annotations use it: typing costs start-up time)


def format_for_path(path: str) -> str:
    """sops' choice of store from a file name (``cmd/sops/formats``: the
    path's suffix, case-sensitive: ``X.YAML`` is a binary file to sops)."""
    for ext, fmt in _EXTENSIONS:
        if path.endswith(ext):
            return fmt
    return "binary"


def get_store(fmt: str, **options: Any) -> Store:
    """The store for ``fmt`` (one of :data:`FORMATS`).

    ``options``: ``indent`` for yaml (default 4) and json (default -1 = tab).
    Modules are imported on demand so that a command loads only what it uses.
    """
    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}", ExitCode.USAGE)
    name = f"homelab_secrets.sops.stores.{fmt}_store"
    __import__(name)  # (importlib.import_module brings in importlib and warnings)
    store: Store = sys.modules[name].make_store(**options)
    return store
