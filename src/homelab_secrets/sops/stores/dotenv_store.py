"""The dotenv store (sops' ``stores/dotenv/store.go``), byte-compatible with sops 3.11.

Parsing is sops' own, deliberately simple:

* the input is split on ``\\n`` only (a CR stays in the value) and empty lines
  are skipped;
* a line starting with ``#`` is a comment (the text after ``#``);
* any other line splits on its first ``=``; no trimming, no quotes; the two
  characters ``\\n`` in a value become a newline; a line without ``=`` fails;
* every value is a ``str`` (invalid UTF-8 kept as surrogateescape code points).

Writing: ``KEY=value`` lines, newlines escaped as ``\\n``, non-strings through
``stores.ValToString``, comments as ``#text``; a list or mapping is an error.
The metadata is appended as sorted ``sops_…`` lines (see :mod:`.flatten`).
"""

from __future__ import annotations

from homelab_secrets.errors import ExitCode
from homelab_secrets.sops.model import Branch, Comment, go_type_name
from homelab_secrets.sops.stores import MetadataNotFound, StoreError
from homelab_secrets.sops.stores.flatten import (
    check_metadata,
    flatten_metadata,
    unflatten_metadata,
    val_to_string,
)

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SOPS_PREFIX", "DotenvStore", "has_sops_keys", "make_store"]

SOPS_PREFIX = "sops_"


def make_store(**_: Any) -> DotenvStore:
    return DotenvStore()


def has_sops_keys(branch: Branch) -> bool:
    """sops' dotenv ``HasSopsTopLevelKey``: a key starting with ``sops_``.

    sops checks it in the *encrypt command* (not the store), on the plain tree:
    such a file is "already encrypted" (exit 203)."""
    return any(isinstance(key, str) and key.startswith(SOPS_PREFIX) for key, _ in branch)


class DotenvStore:
    name = "dotenv"

    def load_plain(self, data: bytes) -> list[Branch]:
        branch = Branch()
        for number, line in enumerate(data.split(b"\n"), start=1):
            if not line:
                continue
            if line[:1] == b"#":
                branch.append((Comment(line[1:].decode("utf-8", "surrogateescape")), None))
                continue
            key, sep, value = line.partition(b"=")
            if not sep:
                raise StoreError(f"invalid dotenv input line {number}: it has no '='")
            branch.append(
                (
                    key.decode("utf-8", "surrogateescape"),
                    value.decode("utf-8", "surrogateescape").replace("\\n", "\n"),
                )
            )
        return [branch]

    def load_encrypted(self, data: bytes) -> tuple[list[Branch], dict[str, Any]]:
        (plain,) = self.load_plain(data)
        branch = Branch()
        flat: dict[str, Any] = {}
        for key, value in plain:
            if isinstance(key, str) and key.startswith(SOPS_PREFIX):
                flat[key[len(SOPS_PREFIX) :]] = value
            else:
                branch.append((key, value))
        if not flat:
            raise MetadataNotFound()
        return [branch], check_metadata(unflatten_metadata(flat), root="")

    def emit_plain(self, branches: list[Branch]) -> bytes:
        branch = branches[0] if branches else Branch()
        lines: list[str] = []
        for key, value in branch:
            if isinstance(value, list):  # a list or a mapping (Branch)
                name = key.value if isinstance(key, Comment) else str(key)
                raise StoreError(
                    f"cannot use complex value in dotenv file; offending key {name}",
                    ExitCode.ERROR_DUMPING_TREE,
                )
            if isinstance(key, Comment):
                lines.append(f"#{key.value}\n")
            else:
                text = value if isinstance(value, str) else val_to_string(value)
                lines.append(f"{key}={text.replace(chr(10), chr(92) + 'n')}\n")
        return "".join(lines).encode("utf-8", "surrogateescape")

    def emit_encrypted(self, branches: list[Branch], metadata: Branch) -> bytes:
        branch = Branch(branches[0] if branches else ())
        for key, value in flatten_metadata(metadata):
            branch.append((SOPS_PREFIX + key, value))
        return self.emit_plain([branch])

    def emit_value(self, value: Any) -> bytes:
        """sops' ``EmitValue``: only a string (``--extract`` of a mapping goes
        through :meth:`emit_plain`, which this also does)."""
        if isinstance(value, str):
            return value.encode("utf-8", "surrogateescape")
        if isinstance(value, bytes):
            return value
        if isinstance(value, Branch):
            return self.emit_plain([value])
        raise StoreError(
            f"the dotenv store only supports emitting strings, got {go_type_name(value)}",
            ExitCode.ERROR_DUMPING_TREE,
        )

    def has_sops_top_level_key(self, branch: Branch) -> bool:
        return has_sops_keys(branch)
