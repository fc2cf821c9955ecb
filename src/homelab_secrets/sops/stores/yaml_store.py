"""The YAML store: :mod:`.yaml.load` reads, :mod:`.yaml.emitter` writes.

Both halves are imported when first used, so a command that only reads YAML
never loads the emitter (and the other way round).
"""

from __future__ import annotations

from homelab_secrets.sops.model import Branch, Value

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any

SOPS_KEY = "sops"

__all__ = ["YamlStore", "make_store"]


class YamlStore:
    """sops' ``stores/yaml`` store.  ``indent``: spaces per level when writing
    (``stores.yaml.indent``; sops' default is 4)."""

    name = "yaml"

    def __init__(self, indent: int = 4) -> None:
        self.indent = indent

    def load_plain(self, data: bytes) -> list[Branch]:
        from homelab_secrets.sops.stores.yaml import load

        return load.load_plain(data)

    def load_encrypted(self, data: bytes) -> tuple[list[Branch], dict[str, Any]]:
        from homelab_secrets.sops.stores.yaml import load

        return load.load_encrypted(data)

    def emit_plain(self, branches: list[Branch]) -> bytes:
        from homelab_secrets.sops.stores.yaml import emitter

        return emitter.emit_plain(branches, indent=self.indent)

    def emit_encrypted(self, branches: list[Branch], metadata: Branch) -> bytes:
        from homelab_secrets.sops.stores.yaml import emitter

        return emitter.emit_encrypted(branches, metadata, indent=self.indent)

    def emit_value(self, value: Value) -> bytes:
        from homelab_secrets.sops.stores.yaml import emitter

        return emitter.emit_value(value, indent=self.indent)

    def has_sops_top_level_key(self, branch: Branch) -> bool:
        """``stores.HasSopsTopLevelKey``: a string key ``sops`` (the encrypt
        command refuses such a file, exit 203)."""
        return any(isinstance(key, str) and key == SOPS_KEY for key, _ in branch)


def make_store(indent: int = 4, **_: Any) -> YamlStore:
    return YamlStore(indent)
