"""YAML bytes → sops tree: sops' ``LoadPlainFile`` and ``LoadEncryptedFile``.

Follows ``stores/yaml/store.go``: the fast path first (:mod:`.fast`), else
the complete path, imported only then (start-up time): :mod:`.reader` →
:mod:`.scanner` → :mod:`.parser` → :mod:`.composer` → :mod:`.decoder`'s
checks → :mod:`.treewalk`; and sops' error messages around yaml.v3's:
``Error unmarshalling file: …`` (exit 2) from :func:`load_plain`,
``Error unmarshalling input yaml: …`` / ``Error unmarshaling input YAML: …``
(exit 1) from :func:`load_encrypted`.
"""

from __future__ import annotations

from homelab_secrets.errors import ExitCode
from homelab_secrets.sops.model import Branch
from homelab_secrets.sops.stores import MetadataNotFound, StoreError
from homelab_secrets.sops.stores.yaml.fast import fast_load_encrypted, fast_load_plain
from homelab_secrets.sops.stores.yaml.yamlh import StoreFailure, YamlFailure

TYPE_CHECKING = False  # (importing typing costs start-up time; decrypt races sops)
if TYPE_CHECKING:
    from typing import Any

    from homelab_secrets.sops.stores.yaml.composer import Node


def _plain_error(text: str) -> StoreError:
    return StoreError(f"Error unmarshalling file: {text}", ExitCode.COULD_NOT_READ_INPUT_FILE)


def complete_load_plain(data: bytes) -> list[Branch]:
    from homelab_secrets.sops.stores.yaml.composer import Composer
    from homelab_secrets.sops.stores.yaml.decoder import OUT_ROOT_MAP, GoDecoder
    from homelab_secrets.sops.stores.yaml.reader import decode_input
    from homelab_secrets.sops.stores.yaml.resolver import DecodeError
    from homelab_secrets.sops.stores.yaml.treewalk import TreeBuilder

    try:
        text = decode_input(data)
    except YamlFailure as exc:
        raise _plain_error(exc.text) from None
    composer = Composer(text)
    # Pass 1: Decoder.Decode(map[string]interface{}) of the first document
    # (this is where sops finds duplicate keys and non-mapping documents).
    try:
        first = composer.next_document()
        if first is None:
            raise _plain_error("EOF")
        decoder = GoDecoder()
        decoder.unmarshal(first, OUT_ROOT_MAP)
    except YamlFailure as exc:
        raise _plain_error(exc.text) from None
    except DecodeError as exc:
        raise _plain_error(exc.text) from None
    problem = decoder.result()
    if problem is not None:
        raise _plain_error(problem)
    # Pass 2: every document as a yaml.Node, then store.go's walk.
    branches: list[Branch] = []
    builder = TreeBuilder()
    doc: Node | None = first
    try:
        while doc is not None:
            branches.append(builder.document(doc))
            doc = composer.next_document()
    except (YamlFailure, StoreFailure) as exc:
        raise _plain_error(f"Error unmarshaling input YAML: {exc.text}") from None
    return branches


def _encrypted_error(text: str) -> StoreError:
    return StoreError(text, ExitCode.ERROR_GENERIC)


def complete_load_encrypted(data: bytes) -> tuple[list[Branch], dict[str, Any]]:
    from homelab_secrets.sops.stores.yaml.composer import Composer
    from homelab_secrets.sops.stores.yaml.decoder import OUT_SOPSFILE, GoDecoder
    from homelab_secrets.sops.stores.yaml.reader import decode_input
    from homelab_secrets.sops.stores.yaml.resolver import DecodeError
    from homelab_secrets.sops.stores.yaml.sopsfile import erase_sops
    from homelab_secrets.sops.stores.yaml.treewalk import TreeBuilder, meta_value

    try:
        text = decode_input(data)
    except YamlFailure as exc:
        raise _encrypted_error(f"Error unmarshalling input yaml: {exc.text}") from None
    composer = Composer(text)
    # Pass 1: yaml.Unmarshal(in, &stores.SopsFile{}) (first document only).
    try:
        first = composer.next_document()
        decoder = GoDecoder()
        if first is not None:
            decoder.unmarshal(first, OUT_SOPSFILE)
    except (YamlFailure, DecodeError) as exc:
        raise _encrypted_error(f"Error unmarshalling input yaml: {exc.text}") from None
    problem = decoder.result()
    if problem is not None:
        raise _encrypted_error(f"Error unmarshalling input yaml: {problem}")
    if first is None or decoder.metadata is None:
        raise MetadataNotFound()
    try:
        metadata = meta_value(decoder.metadata)
    except YamlFailure as exc:
        raise _encrypted_error(f"Error unmarshalling input yaml: {exc.text}") from None
    # Pass 2: every document through store.go, minus the top-level "sops".
    branches: list[Branch] = []
    builder = TreeBuilder()
    doc: Node | None = first
    try:
        while doc is not None:
            branches.append(erase_sops(builder.document(doc)))
            doc = composer.next_document()
    except (YamlFailure, StoreFailure) as exc:
        raise _encrypted_error(f"Error unmarshaling input YAML: {exc.text}") from None
    return branches, metadata


def load_plain(data: bytes) -> list[Branch]:
    """sops' ``LoadPlainFile`` (plus the encrypt command's empty-file check):
    one :class:`Branch` per document.

    Raises :class:`StoreError` with sops' message and exit code: 92 for an
    empty file, 2 for anything yaml.v3 or store.go refuses.
    """
    if not data:
        raise StoreError(
            "File cannot be completely empty, it must contain at least one document",
            ExitCode.NEED_AT_LEAST_ONE_DOCUMENT,
        )
    branches = fast_load_plain(data)
    if branches is not None:
        return branches
    return complete_load_plain(data)


def load_encrypted(data: bytes) -> tuple[list[Branch], dict[str, Any]]:
    """sops' ``LoadEncryptedFile``: the branches without their top-level
    ``sops`` item, and the first document's ``sops`` mapping as plain data
    (``dict``/``list``; scalars as their text, except plain ints, bools and
    nulls, which are typed).

    Raises :class:`MetadataNotFound` without a ``sops`` mapping and
    :class:`StoreError` (exit 1, sops' message) when the YAML is refused.
    """
    loaded = fast_load_encrypted(data)
    if loaded is not None:
        return loaded
    return complete_load_encrypted(data)
