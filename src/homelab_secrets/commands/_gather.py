"""The sources of a job that loads secrets from a provider *and* SOPS files
(``run``, ``load`` / the all-in-one action).

The roadmap's flow in one call: fetch the provider scope; take the age key
from the secret named ``age_key_secret`` (default ``SOPS_AGE_KEY``), never
exported or passed on itself; decrypt the SOPS files with it (else with the
identities sops would find in the environment); the fetched values (minus
the age key) and the files' values are the sources.  In Actions every value
is masked as soon as it is in memory.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from homelab_secrets import gha
from homelab_secrets.commands import _provider
from homelab_secrets.errors import UserError
from homelab_secrets.secrets.model import Mask

if TYPE_CHECKING:
    from homelab_secrets.providers.fallback import FallbackCache
    from homelab_secrets.secrets.model import Source

AGE_KEY_SECRET = "SOPS_AGE_KEY"  # noqa: S105 (a secret's name)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--sops-file`` and ``--age-key-secret`` (``run``, ``load``)."""
    parser.add_argument(
        "--sops-file",
        action="append",
        default=[],
        metavar="FILE",
        help="also decrypt this SOPS file (path or glob; repeatable) with the provider's age key",
    )
    parser.add_argument(
        "--age-key-secret",
        default=AGE_KEY_SECRET,
        metavar="NAME",
        help="the provider's secret holding the age key for --sops-file (never passed on)",
    )


@dataclass(frozen=True)
class Selection:
    only: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    name_transform: str = "none"

    @classmethod
    def of(cls, only: Sequence[str], required: Sequence[str], transform: str) -> Selection:
        """From flags or inputs: each item may hold several names (``A,B``, lines)."""
        from homelab_secrets.secrets.fetched import split_names

        return cls(tuple(split_names(only)), tuple(split_names(required)), transform)


def gather(
    settings: _provider.ProviderSettings | None,
    selection: Selection,
    sops_files: Sequence[str] = (),
    *,
    age_key_secret: str | None,
    environ: Mapping[str, str],
    root: Path,
    cache: FallbackCache | None = None,
) -> tuple[list[Source], list[Mask]]:
    """The job's sources and every secret to hide (the sources' masks plus
    the age key).  ``settings`` None: SOPS files only; ``age_key_secret``
    None: no fetched secret is taken out as the age key (``fetch``)."""
    from homelab_secrets.secrets import sopsfiles
    from homelab_secrets.secrets.fetched import fetched_source

    sources: list[Source] = []
    hidden: list[Mask] = []
    identities_env = dict(environ)
    if settings is not None:
        fetched = _provider.fetch_values(settings, environ, cache)
        age_key = fetched.values.get(age_key_secret, "") if age_key_secret else ""
        if age_key:
            hidden.append(Mask(f"{fetched.source}:{age_key_secret}", age_key))
            if sops_files:
                identities_env["SOPS_AGE_KEY"] = age_key
        source = fetched_source(
            fetched,
            kind=settings.provider,
            only=selection.only,
            required=selection.required,
            exclude=(age_key_secret,) if age_key_secret else (),
            name_transform=selection.name_transform,
        )
        sources.append(source)
        if gha.running_in_actions(environ):
            gha.mask_all([*hidden, *source.masks])
        if sops_files and not age_key and not _has_identity(environ):
            raise UserError(
                f"{fetched.source} has no secret {age_key_secret} to decrypt the SOPS files "
                "with, and no age identity is set (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, ...): "
                f"store the age private key in it as {age_key_secret}, or name the secret "
                "that holds it (age-key-secret)",
            )
    if sops_files:
        targets = sopsfiles.resolve_files(sops_files, root)
        config = sopsfiles.find_workspace_config(root)
        decrypted = sopsfiles.decrypt_sources(targets, identities_env, config)
        if gha.running_in_actions(environ):
            gha.mask_all(m for s in decrypted for m in s.masks)
        sources.extend(decrypted)
    hidden.extend(m for s in sources for m in s.masks)
    return sources, hidden


def _has_identity(environ: Mapping[str, str]) -> bool:
    from homelab_secrets.sops.keys.age import identity_sources

    return any(source.available for source in identity_sources(environ))
