"""The age key's secrets manager for ``init`` and ``rekey``: the provider
flags of :mod:`._provider` (same names, same environment variables), plus
``--age-key-secret``, opened into a
:class:`~homelab_secrets.onboard.keystore.KeyStore`.

``--provider`` has no fixed default here: ``init`` uses Doppler unless it is
given a public key (``--age-recipient``), ``rekey`` uses none unless a new key
must be stored.  ``--provider none`` is explicit.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from homelab_secrets import gha
from homelab_secrets.commands import _provider

if TYPE_CHECKING:
    from homelab_secrets.onboard.guard import CIKey
    from homelab_secrets.onboard.keystore import KeyStore

AGE_KEY_SECRET = "SOPS_AGE_KEY"  # noqa: S105 (a secret's name)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _provider.add_arguments(parser, allow_none=True)
    parser.set_defaults(provider="")
    parser.add_argument(
        "--age-key-secret",
        default=AGE_KEY_SECRET,
        metavar="NAME",
        help=f"the manager's secret that holds the age private key (default {AGE_KEY_SECRET})",
    )


def provider_of(args: argparse.Namespace, default: str) -> str:
    return str(args.provider or default)


@contextlib.contextmanager
def open_store(
    args: argparse.Namespace, environ: Mapping[str, str], provider: str
) -> Iterator[KeyStore | None]:
    """The key store ``provider`` names (None for ``none``), open for the block."""
    from homelab_secrets.onboard.keystore import KeyStore

    if provider == "none":
        yield None
        return
    args.provider = provider
    opened = _provider.open_provider(_provider.settings_from_args(args), environ)
    try:
        if gha.running_in_actions(environ):
            gha.mask_all(opened.masks)
        _provider.say(opened.notes)
        if opened.provider is None:  # pragma: no cover - open_provider sets it
            raise RuntimeError("the provider was not opened")
        yield KeyStore(_provider.writable(opened.provider), args.age_key_secret)
    finally:
        opened.close()


def ci_key(args: argparse.Namespace, provider: str) -> CIKey:
    """Where CI will read the key, for the caller workflow."""
    from homelab_secrets.onboard.guard import CIKey

    if provider == "doppler":
        return CIKey("doppler", args.age_key_secret)
    if provider == "infisical":
        return CIKey(
            "infisical",
            args.age_key_secret,
            api_url=args.api_url,
            project_id=args.project_id,
            project_slug=args.project_slug,
            environment=args.environment,
            path=args.path,
        )
    return CIKey("github", args.age_key_secret)
