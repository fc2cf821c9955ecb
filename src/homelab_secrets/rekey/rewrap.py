"""One SOPS file re-keyed: a new data key, every value encrypted again with
it, the data key wrapped for the recipients it should now have.

This is the per-file work of ``rotate FILE`` (new data key) and
``updatekeys FILE`` (recipients from the ``.sops.yaml`` rule) together: the
one rotate path (:func:`homelab_secrets.sops.pipeline.rotate`, given the key
groups to wrap for), the file's own encryption rules (``encrypted_regex`` and
the like) and version kept.  Only age recipients can be wrapped for; a file
with PGP/KMS keys is refused, naming them.

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
    file's own) and Shamir ``threshold`` (None: the file's own), through the
    one rotate path (:func:`homelab_secrets.sops.pipeline.rotate`), then
    checked: it must decrypt (with ``verify_with`` when given) to what the
    file held."""
    from homelab_secrets.sops import pipeline

    def plaintext(blob: bytes, who: Identities) -> bytes:
        opened = pipeline.decrypt(blob, in_fmt=fmt, out_fmt=fmt, config=config, identities=who)
        return opened.plaintext

    before = plaintext(data, identities)
    out = pipeline.rotate(
        data,
        in_fmt=fmt,
        out_fmt=fmt,
        config=config,
        identities=identities,
        key_groups=groups,
        shamir_threshold=threshold,
    )
    if plaintext(out, verify_with or identities) != before:
        raise UserError(
            "re-keyed, the file would not decrypt to the same content; nothing was written "
            "(please report this)",
            ExitCode.ERROR_ENCRYPTING_TREE,
        )
    return out
