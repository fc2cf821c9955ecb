"""One SOPS file re-keyed: a new data key, every value encrypted again with
it, the data key wrapped for the recipients it should now have.

This is the per-file work of ``rotate FILE`` (new data key) and
``updatekeys FILE`` (recipients from the ``.sops.yaml`` rule) together,
written as a thin layer over the engine's public API
(:mod:`homelab_secrets.sops.engine`: ``decrypt``, ``new_data_key``,
``wrap_data_key``, ``seal``; the store chosen with ``.sops.yaml``'s options,
as those commands do): the file's own encryption rules (``encrypted_regex``
and the like) and version are kept.  Only age recipients can be wrapped for;
a file with PGP/KMS keys is refused, naming them.

:func:`rekey` decrypts the result again (with ``verify_with`` when given: the
new key alone, say) and compares it with the file's plaintext before
returning it; nothing is written here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homelab_secrets.errors import ExitCode, UserError

if TYPE_CHECKING:
    from collections.abc import Callable

    from homelab_secrets.sops.config import SopsConfig
    from homelab_secrets.sops.metadata import MasterKey

    Identities = Callable[[], Any]


def names(groups: list[list[MasterKey]]) -> list[list[str]]:
    """Key groups as recipient names (``age1...``, or ``type:name`` for other keys)."""
    from homelab_secrets.sops.metadata import AgeKey

    return [
        [k.recipient if isinstance(k, AgeKey) else f"{k.type}:{k.name}" for k in group]
        for group in groups
    ]


def recipients(data: bytes, fmt: str) -> list[list[str]]:
    """The file's key groups as names (:func:`names`); nothing is decrypted."""
    from homelab_secrets.sops import engine

    _, metadata = engine.load_encrypted(data, fmt)
    return names(metadata.key_groups)


def rekey(
    data: bytes,
    fmt: str,
    *,
    identities: Identities,
    groups: list[list[MasterKey]] | None,
    threshold: int | None,
    config: SopsConfig | None,
    verify_with: Identities | None = None,
) -> bytes:
    """``data`` with a new data key, wrapped for ``groups`` (None: the
    file's own) and Shamir ``threshold`` (None: the file's own)."""
    from homelab_secrets.sops import engine, pipeline
    from homelab_secrets.sops.cipher import Cipher
    from homelab_secrets.sops.config import store_options
    from homelab_secrets.sops.metadata import AgeKey
    from homelab_secrets.sops.stores import get_store

    store = get_store(fmt, **store_options(fmt, config))
    opened = engine.decrypt(data, fmt, identities)
    before = store.emit_plain(opened.branches)  # (sealing encrypts the tree in place)
    metadata = opened.metadata
    wanted = groups if groups is not None else metadata.key_groups
    other = [k for g in wanted for k in g if not isinstance(k, AgeKey)]
    if other:
        names = ", ".join(f"{k.type} key {k.name}" for k in other)
        raise UserError(
            f"has {names}: homelab-secrets wraps data keys for age recipients only; re-key this "
            "file with sops",
            ExitCode.ERROR_GENERIC,
        )
    metadata.key_groups = [
        [AgeKey(k.recipient) for k in g if isinstance(k, AgeKey)] for g in wanted
    ]
    if threshold is not None:
        metadata.shamir_threshold = threshold
    if len(metadata.key_groups) <= 1:
        metadata.shamir_threshold = 0
    data_key = engine.new_data_key()
    engine.wrap_data_key(data_key, metadata)
    engine.seal(opened.branches, metadata, Cipher(data_key))
    out: bytes = store.emit_encrypted(opened.branches, metadata.to_branch())
    after = pipeline.decrypt(
        out, in_fmt=fmt, out_fmt=fmt, config=config, identities=verify_with or identities
    )
    if after.plaintext != before:
        raise UserError(
            "re-keyed, the file would not decrypt to the same content; nothing was written "
            "(please report this)",
            ExitCode.ERROR_ENCRYPTING_TREE,
        )
    return out
